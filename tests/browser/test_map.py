"""The Explorer's map component in a real browser: dragging its sliders redraws the paths with no
script run, the drawn path equals simulate at the dragged value (float32), releasing commits the
value to the link and the sidebar, keyboard playback, the reset button, the presets in
presentation mode, the predict game, and a phone with touch."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

import landscapes as ls
from landscapes.views import config as cf

from .map_helpers import MAP, map_state, point_on_page, thumb_x
from .streamlit_helpers import expect_rerun, goto, has_exception, new_context, run_count

pytestmark = pytest.mark.browser


def drag(page, name: str, start: int, end: int, count: int, moves: int = 20) -> list[dict]:
    """Presses the thumb of the map's slider ``name`` at index ``start`` and moves it to ``end`` in
    ``moves`` steps without releasing; returns the map's state after each move."""
    thumb = page.get_by_role("slider", name=name, exact=True)
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(thumb_x(box, start, count), y)
    page.mouse.down()
    states = []
    for k in range(1, moves + 1):
        page.mouse.move(thumb_x(box, start + (end - start) * k / moves, count), y)
        states.append(map_state(page))
    return states


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def sidebar_value(page, label: str) -> str:
    """The value a sidebar slider shows (its aria-valuetext)."""
    thumb = page.locator(f"[data-testid='stSidebar'] input[type='range'][aria-label={json.dumps(label)}]")
    return thumb.first.get_attribute("aria-valuetext") or ""


def simulated(mode: str, lr: float, c: float, steps: int = 60) -> np.ndarray:
    run = ls.simulate("pascanu", (4.7, -2.2), lr=lr, steps=steps, clip=mode, threshold=c, T=50)
    return run.params.astype(np.float32)


def test_a_drag_redraws_the_paths_with_no_rerun_and_the_release_commits(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    before = map_state(page)
    assert before["c"] == "1" and before["lr"] == "0.5"
    runs = run_count(page)
    n = len(cf.THRESHOLD_CHOICES)
    i0 = cf.THRESHOLD_CHOICES.index(1.0)
    states = drag(page, "threshold c", i0, i0 - 20, n)
    assert run_count(page) == runs  # no script run while dragging
    assert states[-1]["draws"] >= before["draws"] + 15  # redrawn while the pointer moved
    assert len({json.dumps(s["paths"]["norm"]) for s in states}) > 5  # the paths bend continuously
    dragged = float(states[-1]["c"])
    assert dragged == cf.THRESHOLD_CHOICES[i0 - 20]
    # The drawn paths are simulate's at the dragged value, to float32 precision.
    for mode in ("value", "norm"):
        np.testing.assert_array_equal(
            np.array(states[-1]["paths"][mode], np.float32), simulated(mode, 0.5, dragged)
        )
    np.testing.assert_array_equal(
        np.array(states[-1]["paths"]["none"], np.float32), simulated("none", 0.5, 1.0)
    )
    with expect_rerun(page):
        page.mouse.up()
    after = map_state(page)
    assert query(page)["c"] == f"{dragged:g}"
    assert sidebar_value(page, "threshold c (log scale)") == f"{dragged:g}"
    assert after["draws"] == states[-1]["draws"] + 1  # the new view is drawn once, over the old one
    assert after["paths"] == states[-1]["paths"]  # the same picture: no jump on commit
    assert run_count(page) == runs + 1
    assert not has_exception(page) and console_errors == []


def test_keyboard_on_a_slider_commits_after_the_last_key(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    lr = page.get_by_role("slider", name="learning rate", exact=True)
    lr.focus()
    runs = run_count(page)
    with expect_rerun(page):
        for _ in range(3):
            lr.press("ArrowLeft")
        assert map_state(page)["lr"] == f"{cf.LR_CHOICES[cf.LR_CHOICES.index(0.5) - 3]:g}"
        assert run_count(page) == runs  # nothing sent while keys come
    assert run_count(page) == runs + 1  # one commit for three keys
    assert query(page)["lr"] == f"{cf.LR_CHOICES[cf.LR_CHOICES.index(0.5) - 3]:g}"
    assert lr.get_attribute("aria-valuetext") == query(page)["lr"]
    assert sidebar_value(page, "learning rate (log scale)") == query(page)["lr"]
    assert not has_exception(page) and console_errors == []


def test_the_sidebar_slider_moves_on_from_a_committed_value(page, app_url, console_errors):
    """A commit reruns the view and the sidebar's two sliders (not the whole sidebar): the
    sidebar's c slider then steps from the committed value, and the rest of the page agrees."""
    goto(page, app_url, "/explorer")
    n = len(cf.THRESHOLD_CHOICES)
    i0 = cf.THRESHOLD_CHOICES.index(1.0)
    drag(page, "threshold c", i0, i0 - 6, n, moves=6)
    with expect_rerun(page):
        page.mouse.up()
    committed = cf.THRESHOLD_CHOICES[i0 - 6]
    assert sidebar_value(page, "threshold c (log scale)") == f"{committed:g}"
    sidebar = page.locator("[data-testid='stSidebar']")
    thumb = sidebar.locator("input[type='range'][aria-label='threshold c (log scale)']")
    thumb.focus()
    with expect_rerun(page):
        thumb.press("ArrowRight")
    stepped = cf.THRESHOLD_CHOICES[i0 - 5]
    assert query(page)["c"] == f"{stepped:g}"
    assert sidebar_value(page, "threshold c (log scale)") == f"{stepped:g}"
    assert map_state(page)["c"] == f"{stepped:g}"
    assert not has_exception(page) and console_errors == []


def test_keyboard_playback_draws_the_path_step_by_step(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    runs = run_count(page)
    root = page.locator(MAP)
    root.focus()
    root.press("Home")
    assert map_state(page)["step"] == 0 and len(map_state(page)["paths"]["none"]) == 1
    wild = simulated("none", 0.5, 1.0)
    for k in range(1, 5):
        root.press("ArrowRight")
        state = map_state(page)
        assert state["step"] == k and len(state["paths"]["none"]) == k + 1
    np.testing.assert_array_equal(np.array(state["paths"]["none"], np.float32), wild[:5])
    # step 4 throws the unclipped path: the map says so as it happens
    status = root.locator("[role='status']").inner_text()
    assert "Step 4" in status and "no clipping" in status and "thrown" in status
    root.press("ArrowLeft")
    assert map_state(page)["step"] == 3
    # step 3 of the clipped paths is clipped (|g| = 131 there): highlighted when it is taken
    root.press("ArrowRight")
    assert "norm clipping clipped step 3" in root.locator("[role='status']").inner_text()
    root.press("End")
    assert map_state(page)["step"] == 60
    root.press("Home")
    root.press(" ")
    page.wait_for_function(f'() => Number(document.querySelector("{MAP}").dataset.step) >= 5')
    root.press(" ")
    paused = map_state(page)
    assert not paused["playing"] and 5 <= paused["step"] < 60
    page.wait_for_timeout(300)
    assert map_state(page)["step"] == paused["step"]
    assert page.get_by_role("slider", name="step", exact=True).get_attribute("aria-valuetext") == (
        f"step {paused['step']} of 60"
    )
    assert run_count(page) == runs  # playback never reruns the script
    assert not has_exception(page) and console_errors == []


def test_path_toggles_need_no_rerun(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    runs = run_count(page)
    page.locator(f"{MAP} .cm-chip[data-mode='value']").click()
    assert set(map_state(page)["paths"]) == {"none", "norm"}
    page.locator(f"{MAP} .cm-chip[data-mode='value']").click()
    assert set(map_state(page)["paths"]) == {"none", "value", "norm"}
    assert run_count(page) == runs


def test_reset_on_the_map_and_presets_in_presentation_mode(page, app_url, console_errors):
    goto(page, app_url, "/explorer?c=0.1&lr=0.2&present=1")
    assert map_state(page)["c"] == "0.1"
    with expect_rerun(page):
        page.get_by_role("button", name="reset this landscape").click()
    assert query(page)["c"] == "1" and query(page)["lr"] == "0.5" and query(page)["present"] == "1"
    assert map_state(page)["c"] == "1"
    preset = cf.PRESETS[1]
    with expect_rerun(page):
        page.get_by_role("button", name=preset.button_label, exact=True).click()
    assert query(page)["lr"] == f"{preset.config.lr:g}" and query(page)["present"] == "1"
    assert map_state(page)["lr"] == f"{preset.config.lr:g}"
    assert not has_exception(page) and console_errors == []


def test_the_predict_game_at_the_default(page, app_url, console_errors):
    goto(page, app_url, "/explorer?predict=1")
    assert "none" not in map_state(page)["paths"]
    with expect_rerun(page):
        page.get_by_role("button", name="It leaves the map").click()
    assert "Right: it leaves the map" in page.locator("[data-testid='stAlert']").first.inner_text()
    assert "none" in map_state(page)["paths"]
    assert not has_exception(page) and console_errors == []


def test_a_phone_with_touch(browser, app_url):
    context = new_context(browser, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        goto(page, app_url, "/explorer")
        canvas = page.locator(f"{MAP} canvas").bounding_box()
        assert canvas["width"] <= 390 and 0.8 <= canvas["height"] / canvas["width"] <= 1.2
        for chip in page.locator(f"{MAP} .cm-chip").all():
            box = chip.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the legend wraps, nothing cut off
        slider = page.get_by_role("slider", name="learning rate", exact=True)
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        n = len(cf.LR_CHOICES)
        target = cf.LR_CHOICES.index(0.5) - 10
        runs = run_count(page)
        with expect_rerun(page):
            page.touchscreen.tap(thumb_x(box, target, n), box["y"] + box["height"] / 2)
        lr = map_state(page)["lr"]
        assert lr != "0.5" and query(page)["lr"] == lr and run_count(page) == runs + 1
        assert not has_exception(page)
    finally:
        context.close()


def test_hovering_reads_out_the_point_and_the_nearest_step(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    state = map_state(page)
    norm = state["paths"]["norm"]
    k = 20
    x, y = norm[k]
    page.mouse.move(*point_on_page(page, x, y))
    hover = page.locator(MAP).get_attribute("data-hover") or ""
    assert ", step " in hover and f"w = {float(f'{x:.3g}'):g}" in hover, hover
    assert page.locator(f"{MAP} .cm-hover").is_visible()
    # away from every path: the coordinates under the pointer
    page.mouse.move(*point_on_page(page, 6.2, -3.8))
    hover = page.locator(MAP).get_attribute("data-hover") or ""
    assert hover.startswith("w = 6.2") and "b = -3.8" in hover, hover
    page.mouse.move(1, 1)
    assert not page.locator(f"{MAP} .cm-hover").is_visible()
    assert not has_exception(page) and console_errors == []


def test_a_commit_in_presentation_mode_reruns_the_view(page, app_url, console_errors):
    """No sidebar in presentation mode: the commit reruns the view alone, and the link follows."""
    goto(page, app_url, "/explorer?present=1")
    n = len(cf.THRESHOLD_CHOICES)
    i0 = cf.THRESHOLD_CHOICES.index(1.0)
    drag(page, "threshold c", i0, i0 + 4, n, moves=4)
    with expect_rerun(page):
        page.mouse.up()
    committed = f"{cf.THRESHOLD_CHOICES[i0 + 4]:g}"
    assert query(page)["c"] == committed and query(page)["present"] == "1"
    assert map_state(page)["c"] == committed
    assert (
        page.locator("[data-testid='stSidebar']").count() == 0
        or not page.locator("[data-testid='stSidebar'] input[type='range']").count()
    )
    assert not has_exception(page) and console_errors == []
