"""Zoom and pan on the Explorer's map (ui/cliffs_map.js), all in the browser: the buttons and keys,
the zoom box, drag to pan, Ctrl+wheel around the pointer, a double-click back to the whole map, the
limits (16x, never beyond the map), a click while zoomed, what survives a commit and what resets
it, and a phone's two-finger pinch (a one-finger swipe scrolls the page instead)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from .map_helpers import MAP, click_map_at, map_state, next_frame, point_on_page
from .streamlit_helpers import expect_rerun, goto, has_exception, new_context, run_count, wait_for_app

pytestmark = pytest.mark.browser

MAX_ZOOM = 16  # ui/cliffs_map.js
DOUBLE_MS = 300  # ui/cliffs_map.js: a zoomed click waits this long for a second one


def button(page, name: str):
    return page.locator(MAP).get_by_role("button", name=name, exact=True)


def pixel(state: dict) -> tuple[float, float]:
    """The data size of one CSS pixel of the shown window, in x and in y."""
    (x0, x1), (y0, y1) = state["plot"]["window"]
    return (x1 - x0) / state["plot"]["width"], (y1 - y0) / state["plot"]["height"]


def flat(window) -> list[float]:
    """[x0, x1, y0, y1] of a window [[x0, x1], [y0, y1]] (pytest.approx compares flat lists)."""
    return [*window[0], *window[1]]


def start_in_link(page) -> tuple[float, float]:
    x, y = parse_qs(urlparse(page.url).query)["start"][0].split(",")
    return float(x), float(y)


def box_drag(page, a: tuple[float, float], b: tuple[float, float]) -> None:
    """Presses at data point ``a``, moves to data point ``b`` and releases (the mouse)."""
    pa, pb = point_on_page(page, *a), point_on_page(page, *b)
    page.mouse.move(*pa)
    page.mouse.down()
    page.mouse.move(*pb, steps=8)
    page.mouse.up()
    next_frame(page)


def test_the_zoom_in_button_halves_the_shown_window_around_its_centre_with_no_script_run(
    page, app_url, console_errors
):
    goto(page, app_url, "/explorer")
    before = map_state(page)
    runs = run_count(page)
    assert before["zoom"] == 1 and before["plot"]["window"] == before["map_window"]
    assert button(page, "show the whole map").is_disabled() and button(page, "zoom out").is_disabled()
    button(page, "zoom in").click()
    after = map_state(page)
    (x0, x1), (y0, y1) = before["map_window"]
    cx, cy, wx, wy = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    halved = [cx - wx / 4, cx + wx / 4, cy - wy / 4, cy + wy / 4]
    assert flat(after["plot"]["window"]) == pytest.approx(halved)
    assert after["zoom"] == 2 and after["map_window"] == before["map_window"]
    # The drawn paths are data: zooming changes where they are drawn, not what they are.
    assert after["paths"] == before["paths"]
    assert after["draws"] == before["draws"] + 1  # one canvas draw
    assert button(page, "show the whole map").is_enabled()
    button(page, "zoom out").click()
    back = map_state(page)
    assert flat(back["plot"]["window"]) == pytest.approx(flat(before["map_window"])) and back["zoom"] == 1
    assert run_count(page) == runs  # no script run
    assert not has_exception(page) and console_errors == []


def test_an_exit_label_is_drawn_only_where_its_border_point_is_shown(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    whole = map_state(page)
    assert any("thrown to" in text for text in whole["exits"])  # the unclipped path at step 4
    # Zoomed on the lower left, the point where that path leaves the map is out of view; the
    # status line still tells it when the step is played: it is about the map, not the view.
    (x0, _), (y0, _) = whole["map_window"]
    box_drag(page, (x0 + 0.05, y0 + 1.0), (x0 + 1.0, y0 + 0.05))
    zoomed = map_state(page)
    assert zoomed["zoom"] > 2 and zoomed["exits"] == []
    root = page.locator(MAP)
    root.focus()
    root.press("Home")
    for _ in range(4):
        root.press("ArrowRight")
    assert "thrown" in root.locator("[role='status']").inner_text()
    assert console_errors == []


def test_a_box_drag_zooms_to_the_box(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    before = map_state(page)
    runs = run_count(page)
    px, py = pixel(before)
    box_drag(page, (4.5, -2.0), (5.0, -2.6))
    state = map_state(page)
    (x0, x1), (y0, y1) = state["plot"]["window"]
    assert x0 == pytest.approx(4.5, abs=px) and x1 == pytest.approx(5.0, abs=px)
    assert y0 == pytest.approx(-2.6, abs=py) and y1 == pytest.approx(-2.0, abs=py)
    assert state["zoom"] == pytest.approx(3.0 / 0.5, rel=0.01)
    assert state["paths"] == before["paths"]
    assert page.locator(f"{MAP} .cm-zoombox").is_hidden()
    # A thin box (under 8 px tall) zooms only the horizontal axis, as Plotly's does.
    button(page, "show the whole map").click()
    a = point_on_page(page, 4.0, -2.5)
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(a[0] + 120, a[1] + 3, steps=6)
    page.mouse.up()
    next_frame(page)
    thin = map_state(page)
    assert thin["plot"]["window"][1] == pytest.approx(before["map_window"][1])
    assert thin["plot"]["window"][0][0] == pytest.approx(4.0, abs=px)
    assert thin["plot"]["window"][0][1] == pytest.approx(4.0 + 120 * px, abs=px)
    assert run_count(page) == runs  # a drag is no click: the start did not move
    assert console_errors == []


def test_a_click_while_zoomed_sets_the_start_at_the_point_under_the_pointer(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    button(page, "zoom in").click()
    button(page, "zoom in").click()
    zoomed = map_state(page)
    assert zoomed["zoom"] == 4
    px, py = pixel(zoomed)
    target = (4.8123, -2.4567)
    # The hover readout converts with the shown window too, with the digits a zoomed pixel needs.
    page.mouse.move(*point_on_page(page, *target))
    hover = page.locator(MAP).get_attribute("data-hover") or ""
    assert hover.startswith("w = 4.812") and "b = -2.45" in hover, hover
    with expect_rerun(page):
        click_map_at(page, *target)
    wait_for_app(page)
    state = map_state(page)
    # Within one pixel of the zoomed view (four times finer than the whole map's).
    x, y = start_in_link(page)
    assert x == pytest.approx(target[0], abs=px) and y == pytest.approx(target[1], abs=py)
    assert state["start"] == pytest.approx([x, y])
    sidebar = page.locator("[data-testid='stSidebar'] input[type='number']")
    assert [sidebar.nth(0).input_value(), sidebar.nth(1).input_value()] == [f"{x:.4f}", f"{y:.4f}"]
    # The new view keeps the zoom: the same map, a new start.
    assert state["view"] != zoomed["view"] and state["plot"]["window"] == zoomed["plot"]["window"]
    assert not has_exception(page) and console_errors == []


def test_ctrl_wheel_zooms_around_the_pointer_and_a_plain_wheel_scrolls_the_page(
    page, app_url, console_errors
):
    goto(page, app_url, "/explorer")
    runs = run_count(page)
    target = (4.7, -2.3)
    at = point_on_page(page, *target)
    page.mouse.move(*at)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    next_frame(page)
    state = map_state(page)
    assert state["zoom"] > 2
    moved = point_on_page(page, *target)
    assert moved == pytest.approx(at, abs=1.0)  # the data point under the pointer stayed there
    # A plain wheel is the page's: it scrolls, the zoom stays.
    main = page.locator("[data-testid='stMain']")
    top = main.evaluate("(el) => el.scrollTop")
    page.mouse.wheel(0, 200)
    page.wait_for_function("([el, top]) => el.scrollTop > top", arg=[main.element_handle(), top])
    assert map_state(page)["zoom"] == state["zoom"]
    # Many wheel events in one task: one draw on the next frame (pointer input is coalesced);
    # the ctrl+wheel's default (the browser's page zoom) is prevented, a plain wheel's is not.
    result = page.evaluate(
        """(sel) => { const root = document.querySelector(sel), canvas = root.querySelector('canvas');
            const box = canvas.getBoundingClientRect(), draws = Number(root.dataset.draws);
            const wheel = (ctrlKey) => canvas.dispatchEvent(new WheelEvent('wheel', {ctrlKey,
                deltaY: 10, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2,
                bubbles: true, cancelable: true}));
            const kept = []; for (let i = 0; i < 10; i++) kept.push(wheel(true));
            const plain = wheel(false);
            return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() =>
                done({kept, plain, draws: Number(root.dataset.draws) - draws})))); }""",
        MAP,
    )
    assert result == {"kept": [False] * 10, "plain": True, "draws": 1}
    assert run_count(page) == runs
    assert console_errors == []


def test_double_click_the_0_key_and_the_button_return_to_the_whole_map(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    whole = map_state(page)["map_window"]
    runs = run_count(page)
    root = page.locator(MAP)
    root.focus()
    zooms = []
    for key in ("+", "=", "-", "0"):
        root.press(key)
        zooms.append(map_state(page)["zoom"])
    assert zooms == [2, 4, 2, 1]
    assert flat(map_state(page)["plot"]["window"]) == pytest.approx(flat(whole))
    # A double-click while zoomed: the whole map, and the start stays (no click is sent).
    button(page, "zoom in").click()
    canvas = page.locator(f"{MAP} canvas").bounding_box()
    page.mouse.dblclick(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    assert map_state(page)["zoom"] == 1
    page.wait_for_timeout(DOUBLE_MS + 500)
    assert run_count(page) == runs
    button(page, "zoom in").click()
    button(page, "show the whole map").click()
    state = map_state(page)
    assert state["zoom"] == 1 and flat(state["plot"]["window"]) == pytest.approx(flat(whole))
    assert button(page, "show the whole map").is_disabled()
    assert run_count(page) == runs
    assert console_errors == []


def test_zoom_stops_at_16x_and_the_whole_map_and_pan_stays_inside_it(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    before = map_state(page)
    (X0, X1), (Y0, Y1) = before["map_window"]
    runs = run_count(page)
    root = page.locator(MAP)
    root.focus()
    for _ in range(6):
        root.press("+")
    state = map_state(page)
    assert state["zoom"] == MAX_ZOOM and button(page, "zoom in").is_disabled()
    (x0, x1), (y0, y1) = state["plot"]["window"]
    width, height = x1 - x0, y1 - y0
    assert width == pytest.approx((X1 - X0) / MAX_ZOOM) and height == pytest.approx((Y1 - Y0) / MAX_ZOOM)
    root.press("Shift+ArrowRight")
    assert map_state(page)["plot"]["window"][0][0] == pytest.approx(x0 + 0.2 * width)
    for _ in range(40):
        root.press("Shift+ArrowLeft")
        root.press("Shift+ArrowUp")
    (x0, x1), (y0, y1) = map_state(page)["plot"]["window"]
    assert (x0, y1) == pytest.approx((X0, Y1)) and (x1 - x0, y1 - y0) == pytest.approx((width, height))
    # A mouse drag while zoomed pans (the map follows the pointer), and stops at the map's border.
    canvas = page.locator(f"{MAP} canvas").bounding_box()
    plot = state["plot"]
    cx, cy = canvas["x"] + plot["left"] + plot["width"] / 2, canvas["y"] + plot["top"] + plot["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 200, cy - 100, steps=5)
    next_frame(page)
    dragged = map_state(page)
    assert dragged["plot"]["window"][0][0] == pytest.approx(X0 + 200 * width / plot["width"], abs=1e-9)
    assert dragged["plot"]["window"][1][1] == pytest.approx(Y1 - 100 * height / plot["height"], abs=1e-9)
    page.mouse.up()
    # At 2x, a drag from the middle to the page's corner is more than the room left: it stops
    # at the map's border.
    for _ in range(3):
        root.press("-")
    assert map_state(page)["zoom"] == 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(5, 5, steps=8)
    page.mouse.up()
    next_frame(page)
    (x0, x1), (y0, y1) = map_state(page)["plot"]["window"]
    assert (x1, y0) == pytest.approx((X1, Y0))
    assert (x1 - x0, y1 - y0) == pytest.approx(((X1 - X0) / 2, (Y1 - Y0) / 2))
    # Out: never beyond the map's window (the loss image covers only it).
    root.press("-")
    page.mouse.move(cx, cy)
    page.keyboard.down("Control")
    page.mouse.wheel(0, 100)
    page.keyboard.up("Control")
    next_frame(page)
    state = map_state(page)
    assert state["zoom"] == 1 and flat(state["plot"]["window"]) == pytest.approx(flat(before["map_window"]))
    assert state["paths"] == before["paths"]
    assert run_count(page) == runs
    assert console_errors == []


def test_a_commit_of_c_keeps_the_zoom_and_another_landscape_resets_it(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    box_drag(page, (4.4, -2.0), (5.2, -2.8))
    zoomed = map_state(page)
    assert zoomed["zoom"] > 3
    c = page.get_by_role("slider", name="threshold c", exact=True)
    c.focus()
    with expect_rerun(page):
        c.press("ArrowLeft")
    wait_for_app(page)
    committed = map_state(page)
    assert committed["c"] != zoomed["c"] and committed["view"] != zoomed["view"]
    assert committed["plot"]["window"] == zoomed["plot"]["window"] and committed["zoom"] == zoomed["zoom"]
    # Another landscape: another window, the whole of it.
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    with expect_rerun(page):
        page.get_by_role("option", name="Ravine under a cliff").click()
    wait_for_app(page)
    other = map_state(page)
    assert other["map_window"] != zoomed["map_window"]
    assert other["zoom"] == 1 and other["plot"]["window"] == other["map_window"]
    assert not has_exception(page) and console_errors == []


def test_a_phone_pinch_zooms_around_the_fingers_and_a_one_finger_swipe_scrolls(browser, app_url):
    context = new_context(browser, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        goto(page, app_url, "/explorer")
        cdp = context.new_cdp_session(page)

        def touch(kind: str, *points: tuple[float, float]) -> None:
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]},
            )

        runs = run_count(page)
        state = map_state(page)
        (X0, X1), (Y0, Y1) = state["map_window"]
        middle = ((X0 + X1) / 2, (Y0 + Y1) / 2)
        # One finger: the page scrolls, the map stays as it is.
        cx, cy = point_on_page(page, *middle)
        main = page.locator("[data-testid='stMain']")
        top = main.evaluate("(el) => el.scrollTop")
        touch("touchStart", (cx, cy))
        for k in range(1, 11):
            touch("touchMove", (cx, cy - 12 * k))
        touch("touchEnd")
        page.wait_for_timeout(500)
        assert map_state(page)["zoom"] == 1
        assert main.evaluate("(el) => el.scrollTop") > top
        # Two fingers apart from 60 px to 180 px: 3x, around their midpoint.
        target = (4.8, -2.4)
        mx, my = point_on_page(page, *target)
        touch("touchStart", (mx - 30, my), (mx + 30, my))
        for k in range(1, 11):
            touch("touchMove", (mx - 30 - 6 * k, my), (mx + 30 + 6 * k, my))
        touch("touchEnd")
        next_frame(page)
        pinched = map_state(page)
        assert pinched["zoom"] == pytest.approx(3, rel=0.02)
        assert point_on_page(page, *target) == pytest.approx((mx, my), abs=1.5)
        # A tap still sets the start, at the point under the finger in the zoomed view.
        px, py = pixel(pinched)
        tap = (4.75, -2.45)
        with expect_rerun(page):
            page.touchscreen.tap(*point_on_page(page, *tap))
        wait_for_app(page)
        x, y = start_in_link(page)
        assert x == pytest.approx(tap[0], abs=1.5 * px) and y == pytest.approx(tap[1], abs=1.5 * py)
        assert map_state(page)["plot"]["window"] == pinched["plot"]["window"]
        assert run_count(page) == runs + 1
        # The zoom buttons fit the phone and are big enough to tap.
        for name in ("zoom in", "zoom out", "show the whole map"):
            box = button(page, name).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40
        assert not has_exception(page)
    finally:
        context.close()
