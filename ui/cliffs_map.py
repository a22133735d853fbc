"""The Explorer's map component: ``st.components.v2`` with ui/cliffs_map.js and .css.

This is one of the app's fences around Streamlit internals (see ``ui.fences``): the
component API of 1.67 (``component(name, js=, css=, isolate_styles=)``, a mount callable
taking ``data``, ``key`` and ``on_<trigger>_change`` callbacks; the browser calls
``setTriggerValue(name, value)``, which reruns the script after the callback). The
JavaScript sends three triggers:

- ``commit`` ``{"lr": float, "c": float}``: a slider of the map was released;
- ``click`` ``{"x": float, "y": float}``: a click on the plot area (data coordinates);
- ``reset``: the map's Reset button.

tests/test_cliffs_map.py checks this fence; tests/browser/test_map.py the component.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.components import v2 as components_v2

from .fences import component_data

HERE = Path(__file__).resolve().parent
#: The triggers the JavaScript sends (each mounts as ``on_<name>_change``).
TRIGGERS = ("commit", "click", "reset")

_component = components_v2.component(
    "cliffs_map",
    js=(HERE / "cliffs_map.js").read_text(encoding="utf-8"),
    css=(HERE / "cliffs_map.css").read_text(encoding="utf-8"),
    # The map's own DOM in the page (no shadow root): tests and the benchmark read its
    # data- attributes, and its CSS is scoped to .cliffs-map.
    isolate_styles=False,
)


def trigger_value(key: str, name: str) -> Any:
    """The value of trigger ``name`` the browser just sent to the map mounted with ``key``."""
    state = st.session_state.get(key)
    if state is None:
        return None
    getter = getattr(state, "get", None)
    return getter(name) if callable(getter) else getattr(state, name, None)


def cliffs_map(
    payload: Mapping[str, Any],
    *,
    key: str,
    on_commit: Callable[[float, float], None],
    on_click: Callable[[float, float], None],
    on_reset: Callable[[], None],
) -> None:
    """Mounts the map with ``payload`` (``landscapes.views.map_payload.map_payload``)."""

    def committed() -> None:
        value = trigger_value(key, "commit") or {}
        lr, c = value.get("lr"), value.get("c")
        if isinstance(lr, int | float) and isinstance(c, int | float):
            on_commit(float(lr), float(c))

    def clicked() -> None:
        value = trigger_value(key, "click") or {}
        x, y = value.get("x"), value.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float):
            on_click(float(x), float(y))

    def reset() -> None:
        if trigger_value(key, "reset") is not None:
            on_reset()

    _component(
        key=key,
        data=component_data(payload),
        on_commit_change=committed,
        on_click_change=clicked,
        on_reset_change=reset,
        height="content",
    )
