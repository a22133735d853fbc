"""The app opens in a real browser with no exception box and no console error."""

import pytest

from .streamlit_helpers import exception_texts, goto, has_exception, plotly_charts, run_count


@pytest.mark.browser
def test_app_loads_without_errors(page, app_url, console_errors):
    goto(page, app_url, "/")

    assert run_count(page) >= 1
    assert page.get_by_role("heading", name="Cliffs in loss landscapes").is_visible()
    assert not has_exception(page), exception_texts(page)
    assert console_errors == []


@pytest.mark.browser
def test_reference_app_chart_follows_its_slider(page, streamlit_server, console_errors):
    """Checks the helpers themselves on the benchmark's reference app."""
    from .streamlit_helpers import expect_rerun, plotly_chart, slider

    goto(page, streamlit_server("benchmarks/reference_app.py").url, "/", charts=1)
    assert plotly_chart(page)["data"][0]["y"] == [0, 0]

    thumb = slider(page, "Value")
    for _ in range(3):
        with expect_rerun(page):
            thumb.press("ArrowRight")

    assert plotly_chart(page)["data"][0]["y"] == [0, 3]
    assert len(plotly_charts(page)) == 1
    assert not has_exception(page)
    assert console_errors == []
