"""Each Streamlit or Plotly internal the app leans on (ui/fences.py) still exists: an upgrade that
breaks one fails here. (tests/browser/test_fences.py checks the router flag in a real browser.)"""

import json
import os
import re
from pathlib import Path

import plotly
import pytest
import streamlit
from streamlit.testing.v1 import AppTest

import ui
from ui import fences

STREAMLIT_JS = Path(streamlit.__file__).parent / "static" / "static" / "js"


def test_the_router_flag_exists():
    from streamlit.runtime.pages_manager import PagesManager

    assert hasattr(PagesManager, "uses_pages_directory")


def test_every_test_id_the_css_uses_is_in_streamlits_frontend():
    bundle = "\n".join(path.read_text(errors="ignore") for path in STREAMLIT_JS.glob("*.js"))
    used = set(re.findall(r'data-testid="([A-Za-z-]+)"', fences.BASE_CSS + fences.PRESENTATION_CSS))
    assert used <= set(fences.TEST_IDS), "every id the CSS uses is listed"
    missing = [test_id for test_id in fences.TEST_IDS if test_id not in bundle]
    assert not missing, f"Streamlit no longer has these data-testids: {missing}"
    # BASE_CSS's fade of the main area keys on the attribute Streamlit marks stale elements with.
    assert f'"{fences.STALE_ATTRIBUTE}":' in bundle


def test_plotlys_drag_layer_is_what_the_click_relay_listens_on():
    relay = (fences.ASSETS / "click_relay.js").read_text()
    assert f".{fences.PLOTLY_DRAG_LAYER}" in relay
    from plotly.offline import get_plotlyjs

    assert fences.PLOTLY_DRAG_LAYER in get_plotlyjs(), f"plotly {plotly.__version__} renamed its drag layer"


def _prebuilt_page():
    import ui

    ui.chart({"data": [{"type": "scatter", "x": [0, 1], "y": [3, 4], "name": "kept as is"}]}, key="p")


def test_a_prebuilt_figure_reaches_the_browser_unchanged():
    at = AppTest.from_function(_prebuilt_page, default_timeout=60)
    at.run()
    assert not at.exception

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["name"] == "kept as is" and spec["data"][0]["y"] == [3, 4]


def test_bidirectional_components_exist():
    assert callable(streamlit.components.v2.component)
    assert callable(fences.plotly_view) and callable(fences.click_relay)


def _failing_page():
    import ui

    def render():
        raise RuntimeError("boom in the maintainer's log")

    ui.guarded(render)


def test_an_unexpected_error_is_friendly_on_screen_and_logged_with_its_traceback():
    records = []

    import logging

    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    ui.LOG.addHandler(handler)
    try:
        at = AppTest.from_function(_failing_page, default_timeout=60)
        at.run()
    finally:
        ui.LOG.removeHandler(handler)
    assert not at.exception and at.error and "Something went wrong" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in records)


def test_component_data_is_json_bytes_that_skip_streamlits_dataframe_checks(tmp_path):
    import subprocess
    import sys

    from ui.fences import component_data, read_component_data

    data = {"view": "v", "points": "AAAA", "numbers": [1.5, 2], "nested": {"a": None}}
    raw = component_data(data)
    assert isinstance(raw, bytes) and read_component_data(raw) == data
    with pytest.raises(ValueError):
        component_data({"x": float("nan")})  # the browser's JSON has no NaN: refused here, not there
    # Mounted for real (AppTest, in a fresh process): bytes reach the element as they are and
    # never make Streamlit import pandas and pyarrow (0.3-0.55 s before the first map); a string
    # (its dataframe check) and a dict (its scan) both do.
    app = tmp_path / "probe_app.py"
    app.write_text(
        """
import sys
import streamlit as st
from streamlit.components import v2
from ui.fences import component_data
mount = v2.component("probe", js="export default function () {}")
data = {"bytes": component_data({"a": [1, 2]}), "string": '{"a": [1, 2]}', "dict": {"a": [1, 2]}}
mount(key="k", data=data[st.session_state.get("kind", "bytes")])
st.markdown(str("pandas" in sys.modules))
"""
    )
    probe = f"""
from streamlit.testing.v1 import AppTest
for kind in ("bytes", "string", "dict"):
    at = AppTest.from_file({str(app)!r})
    at.session_state["kind"] = kind
    at.run()
    (element,) = at.get("bidi_component")
    print(kind, at.markdown[0].value, element.proto.WhichOneof("data"), end=" ")
"""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    words = out.stdout.split()
    assert words[:3] == ["bytes", "False", "bytes"], out.stdout + out.stderr[-2000:]
    assert words[3:5] == ["string", "True"] and words[6:8] == ["dict", "True"], out.stdout
