"""The map component's fence (ui/cliffs_map.py) and the Explorer around it, through AppTest:
the triggers the JavaScript sends reach their callbacks, the page mounts the map with its
view, and the classroom pieces (predict game off the map, presets and a take-away in
presentation mode) say what the runs did. The browser side is tests/browser/test_map.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import landscapes as ls
import ui.cliffs_map as cm
from landscapes.views import config as cf
from landscapes.views.explorer import run_modes
from landscapes.views.map_payload import take_away, view_points
from ui.fences import read_component_data

APP = str(Path(__file__).resolve().parents[1] / "app.py")
JS = (Path(cm.__file__).parent / "cliffs_map.js").read_text(encoding="utf-8")


# --- the fence ------------------------------------------------------------------------


def test_the_component_is_registered_from_its_files_with_one_callback_per_trigger(monkeypatch):
    calls = {}
    monkeypatch.setattr(cm, "_component", lambda **kwargs: calls.update(kwargs))
    got = []
    cm.cliffs_map(
        {"view": "x"},
        key="m",
        on_commit=lambda lr, c: got.append(("commit", lr, c)),
        on_click=lambda x, y: got.append(("click", x, y)),
        on_reset=lambda: got.append(("reset",)),
    )
    assert {f"on_{name}_change" for name in cm.TRIGGERS} <= set(calls)
    assert calls["key"] == "m" and read_component_data(calls["data"]) == {"view": "x"}
    # What the browser's setTriggerValue leaves in the session state, read by each callback.
    state = {"m": {"commit": {"lr": 0.2, "c": 3}, "click": {"x": 4.5, "y": -2.0}, "reset": 1}}
    monkeypatch.setattr(cm, "st", SimpleNamespace(session_state=state))
    for name in cm.TRIGGERS:
        calls[f"on_{name}_change"]()
    assert got == [("commit", 0.2, 3.0), ("click", 4.5, -2.0), ("reset",)]
    # A malformed value calls nothing.
    state["m"] = {"commit": {"lr": "fast"}, "click": None, "reset": None}
    got.clear()
    for name in cm.TRIGGERS:
        calls[f"on_{name}_change"]()
    assert got == []


def test_the_javascript_sends_exactly_the_fenced_triggers_and_names_its_controls():
    sent = set(re.findall(r'trigger\("(\w+)"', JS))
    assert sent == set(cm.TRIGGERS)
    for name in ("learning rate", "threshold c", "step"):
        assert f'"{name}"' in JS
    assert 'data-testid": "cliffs-map"' in JS and "aria-valuetext" in JS


# --- the page --------------------------------------------------------------------------

TIMEOUT = 120


def explorer(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/explorer.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def payload(at: AppTest) -> dict:
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "cliffs_map"]
    return read_component_data(element.proto)


def test_the_explorer_mounts_the_map_with_the_views_own_runs():
    at = explorer({"c": "0.1", "lr": "0.2"})
    data = payload(at)
    assert data["lr_values"][data["lr_index"]] == 0.2 and data["c_values"][data["c_index"]] == 0.1
    config, _ = cf.from_query({"c": "0.1", "lr": "0.2"})
    runs = run_modes(config).runs
    points = view_points(data)
    assert set(points) == set(config.paths)
    for mode in config.paths:
        np.testing.assert_array_equal(points[mode], runs[mode].params.astype(np.float32))
    assert not at.get("plotly_chart") or all("surface" not in c.proto.spec for c in at.get("plotly_chart"))


def test_the_predict_game_is_won_by_saying_it_leaves_the_map():
    at = explorer({"predict": "1"})
    assert "none" not in {p["mode"] for p in payload(at)["paths"]}
    at.button(key="ex_guess_off").click().run()
    end = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=60).params[-1]
    (x0, x1), (y0, y1) = cf.get_landscape("pascanu").window
    assert not (x0 <= end[0] <= x1 and y0 <= end[1] <= y1)  # the true end is off the map
    text = at.success[0].value
    assert text.startswith("Right: it leaves the map.") and f"({end[0]:.3g}, {end[1]:.3g})" in text
    assert "none" in {p["mode"] for p in payload(at)["paths"]}  # revealed


def test_a_point_guess_for_an_end_off_the_map_is_not_scored_as_a_share_of_the_diagonal():
    at = explorer({"predict": "1"})
    at.session_state["ex_guess"] = (5.0, -2.0)
    at.run()
    text = at.success[0].value
    assert "%" not in text and "it leaves the map" in text


def test_a_point_guess_for_an_end_on_the_map_is_scored():
    at = explorer({"predict": "1", "lr": "0.05"})  # plain descent at lr 0.05 stays on the map
    end = ls.simulate("pascanu", (4.7, -2.2), lr=0.05, steps=60).params[-1]
    at.session_state["ex_guess"] = (float(end[0]), float(end[1]))
    at.run()
    assert at.success[0].value.startswith("Spot on!") and "(0% of the map's diagonal)" in at.success[0].value


def test_presentation_mode_has_the_presets_and_a_one_sentence_take_away():
    at = explorer({"present": "1"})
    text = " ".join(m.value for m in at.markdown)
    config, _ = cf.from_query({"present": "1"})
    assert f"**{take_away(run_modes(config))}**" in text
    assert "decisive moment" not in text  # not the seven paragraphs
    preset = cf.PRESETS[1]
    at.button(key=f"ex_present_preset_{preset.key}").click().run()
    assert at.query_params["present"] == "1"
    assert (
        at.session_state["ex_lr"] == preset.config.lr and at.session_state["ex_c"] == preset.config.threshold
    )


@pytest.mark.parametrize("steps", ["60", "1000"])
def test_the_map_payload_on_the_page_stays_within_budget(steps):
    at = explorer({"steps": steps})
    size = len(json.dumps(payload(at)).encode())
    assert size <= (1_000_000 if steps == "60" else 3_000_000)
