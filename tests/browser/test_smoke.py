"""The app opens in a real browser with no exception box and no console error.

The other tests here check the browser helpers themselves on the benchmark's
reference app (one slider, one two-point chart), so that a failure in a page
test points at the page, not at the helpers.
"""

import base64

import numpy as np
import pytest

from .streamlit_helpers import (
    exception_texts,
    expect_rerun,
    goto,
    has_exception,
    plotly_chart,
    plotly_charts,
    run_count,
    slider,
)

REFERENCE_APP = "benchmarks/reference_app.py"


@pytest.mark.browser
def test_app_loads_without_errors(page, app_url, console_errors):
    goto(page, app_url, "/")

    assert run_count(page) >= 1
    assert page.locator("[data-testid='stMain']").inner_text().strip()
    assert not has_exception(page), exception_texts(page)
    assert console_errors == []


@pytest.mark.browser
def test_reference_chart_follows_its_slider(page, streamlit_server, console_errors):
    goto(page, streamlit_server(REFERENCE_APP).url, "/", charts=1)
    assert plotly_chart(page)["data"][0]["y"] == [0, 0]

    thumb = slider(page, "Value")
    for _ in range(3):
        with expect_rerun(page):
            thumb.press("ArrowRight")

    assert plotly_chart(page)["data"][0]["y"] == [0, 3]
    assert len(plotly_charts(page)) == 1
    assert run_count(page) == 4
    assert not has_exception(page)
    assert console_errors == []


@pytest.mark.browser
def test_chart_reader_lists_frames_and_decodes_numpy_arrays(page, streamlit_server):
    goto(page, streamlit_server(REFERENCE_APP).url, "/?frames=5", charts=1)
    assert plotly_chart(page)["frames"] == ["0", "1", "2", "3", "4"]

    # Plotly.py >= 6 sends numpy arrays as {"dtype", "bdata", "shape"}.
    z = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    spec = {"dtype": "f4", "bdata": base64.b64encode(z.tobytes()).decode(), "shape": "2, 3"}
    assert page.evaluate("(spec) => window.__cliffs.plain(spec)", spec) == z.tolist()
    spec = {"dtype": "i4", "bdata": base64.b64encode(np.array([3, -1], np.int32).tobytes()).decode()}
    assert page.evaluate("(spec) => window.__cliffs.plain({x: spec, _private: 1})", spec) == {"x": [3, -1]}


@pytest.mark.browser
def test_deep_link_has_no_console_error(page, streamlit_server, console_errors):
    """A URL with a page path loads cleanly: Streamlit's probing 404s are not counted."""
    goto(page, streamlit_server(REFERENCE_APP).url, "/some-page?x=1", charts=1)

    assert plotly_chart(page)["data"][0]["y"] == [0, 0]
    assert console_errors == []
