"""Every use of a Streamlit or Plotly internal, in one place (tests/test_fences.py and
tests/browser/test_fences.py fail on an upgrade that breaks one of them).

- ``ensure_router``: Streamlit's ``PagesManager.uses_pages_directory`` flag.
- ``PrebuiltFigure``: ``st.plotly_chart`` only calls ``to_dict`` on a figure.
- ``BASE_CSS``, ``PRESENTATION_CSS``: Streamlit's ``data-testid`` names (``TEST_IDS``).
- ``click_relay``: reads clicks from Plotly's drag layer (the ``nsewdrag`` rectangle,
  ``PLOTLY_DRAG_LAYER``) in assets/click_relay.js.
- ``plotly_view``: ``st.components.v2`` (a bidirectional component without an iframe).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from streamlit.components import v2 as components_v2

ASSETS = Path(__file__).resolve().parent.parent / "assets"

#: The Streamlit ``data-testid`` names the CSS below relies on.
TEST_IDS = (
    "stPageLink",
    "stPageLink-NavLink",
    "stSidebar",
    "stExpandSidebarButton",
    "stHeader",
    "stMarkdownContainer",
    "stMainBlockContainer",
    "stSidebarContent",
    "stElementContainer",
)
#: The attribute Streamlit sets on an element container while its element awaits a rerun.
STALE_ATTRIBUTE = "data-stale"
#: Streamlit's fade of an element awaiting a rerun, kept (BASE_CSS): opacity, duration, delay.
STALE_FADE = ("0.33", "1s", "0.5s")
#: The class of Plotly's drag rectangle over the plot area, which the click relay listens on.
PLOTLY_DRAG_LAYER = "nsewdrag"


# Every page: narrow screens (a phone is ~390 px wide) keep headings to a few lines and
# let link labels wrap instead of being cut off with an ellipsis.
#
# And Streamlit's fade of the elements awaiting a rerun (after half a second, for a slow rerun)
# without its cost: Streamlit gives every such element a CSS opacity transition of its own,
# dozens per rerun, and starting and cancelling them cost the browser 10-30 ms on every Explorer
# change (benchmarks/bench_map.py, part c). Here one animation on the main area (and one on the
# sidebar) fades a custom property, and each stale element takes its opacity from it: the same
# fade of the same elements, but one animation per area, and a quick rerun never starts fading.
# (The property's syntax "<number>" is written with CSS escapes: st.html's sanitizer drops a
# style sheet with a "<" in it.)
BASE_CSS = f"""
<style>
@property --cliffs-stale {{ syntax: "\\3c number\\3e"; inherits: true; initial-value: 1; }}
@keyframes cliffs-stale-fade {{ from {{ --cliffs-stale: 1; }} to {{ --cliffs-stale: {STALE_FADE[0]}; }} }}
[data-testid="stMainBlockContainer"]:has([{STALE_ATTRIBUTE}="true"]),
[data-testid="stSidebarContent"]:has([{STALE_ATTRIBUTE}="true"])
  {{ animation: cliffs-stale-fade {STALE_FADE[1]} ease-in {STALE_FADE[2]} forwards; }}
[{STALE_ATTRIBUTE}] {{ transition: none !important; }}
[{STALE_ATTRIBUTE}="true"] {{ opacity: var(--cliffs-stale, 1) !important; }}
[data-testid="stPageLink"] p, [data-testid="stPageLink"] span,
[data-testid="stPageLink-NavLink"] p, [data-testid="stPageLink-NavLink"] span
  {{ white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
[data-testid="stPageLink-NavLink"] {{ height: auto !important; min-height: 2rem; }}
@media (max-width: 640px) {{
  h1 {{ font-size: 1.85rem !important; line-height: 1.2 !important; }}
  h2 {{ font-size: 1.4rem !important; }}
  h3 {{ font-size: 1.2rem !important; }}
  .block-container {{ padding-left: 0.8rem !important; padding-right: 0.8rem !important; }}
  table.cliff-summary {{ font-size: 0.85rem; }}
}}
</style>
"""


def ensure_router() -> None:
    """Routes a deep link through app.py even on a fresh server.

    Streamlit treats a ``pages/`` folder beside the entry script as an old-style
    multipage app until ``st.navigation`` has run once, so the first visit to
    e.g. ``/explorer`` would run the page without the router (no wide layout,
    the wrong menu). Switching that mode off and rerunning sends the same URL
    through app.py; the page keeps its url_path, so nothing else changes.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


class PrebuiltFigure(go.Figure):
    """A figure spec handed to Streamlit as is.

    ``st.plotly_chart`` re-validates plain dicts property by property, which
    costs hundreds of milliseconds for a map with playback frames; the specs
    built by ``landscapes.figures`` are validated in the test suite instead.
    Streamlit only calls ``to_dict`` on a figure, so that is all this provides.
    """

    def __init__(self, spec: Mapping[str, Any]):
        self._spec = dict(spec)

    def to_dict(self) -> dict[str, Any]:
        return self._spec


def component_data(data: Mapping[str, Any]) -> bytes:
    """What a components-v2 element of ours is sent: its data as JSON in raw bytes (the scripts
    decode and parse it, see ``readData`` in each). Streamlit 1.67 forwards bytes as they are;
    a dict is scanned for dataframes on every call and a string is handed to its dataframe
    check, and either imports pandas and pyarrow on the first call (0.3-0.55 s before the
    first map, which uses neither). No NaN: the browser's JSON has none."""
    return json.dumps(dict(data), allow_nan=False, separators=(",", ":")).encode()


def read_component_data(source: Any) -> Any:
    """The data a component of ours was sent (``component_data``), from its element's proto (a
    ``BidiComponent``) or the bytes themselves: for tests and benchmarks."""
    if isinstance(source, bytes | bytearray | str):
        return json.loads(source)
    field = source.WhichOneof("data")
    if field == "bytes":
        return json.loads(source.bytes)
    if field == "json":  # a mount given something else than component_data's bytes
        return json.loads(source.json)
    raise ValueError(f"component data sent as {field!r}, not as component_data's bytes")


click_relay = components_v2.component(
    "cliffs_click_relay",
    js=(ASSETS / "click_relay.js").read_text(encoding="utf-8"),
)


plotly_view = components_v2.component(
    "cliffs_plotly_view",
    js=(ASSETS / "plotly_view.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # Plotly styles its modebar and hover labels from the page's <head>
)


PRESENTATION_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"] { display: none !important; }
.block-container { padding-top: 1rem !important; max-width: 100% !important; }
html, body, [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li
  { font-size: 1.3rem !important; }
</style>
"""
