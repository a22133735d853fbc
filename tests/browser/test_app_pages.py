"""The real app in Debian's Chromium: every page, sliders, shared links, clicks, reveal mode."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from landscapes.views.config import url_number

from .map_helpers import click_map_at, map_state
from .streamlit_helpers import (
    expect_rerun,
    goto,
    has_exception,
    plotly_chart,
    plotly_charts,
    slider,
    wait_for_app,
)

pytestmark = pytest.mark.browser

PAGES = ["/", "/explorer", "/sweeps?res=64&steps=20", "/rnn", "/learn"]


def names(chart: dict) -> set[str]:
    return {trace.get("name") for trace in chart["data"]}


def click_data_point(page, chart_index: int, x: float, y: float, trace_name: str) -> None:
    """Clicks the point of trace `trace_name` nearest to (x, y) in a Plotly chart, as a user would."""
    page.evaluate(
        "(i) => document.querySelectorAll('.js-plotly-plot')[i].scrollIntoView({block: 'center'})",
        chart_index,
    )
    page.wait_for_timeout(300)
    box = page.evaluate(
        """([index, x, y, name]) => {
            const el = document.querySelectorAll('.js-plotly-plot')[index];
            const full = el._fullLayout;
            const trace = el._fullData.find((t) => t.name === name);
            const xa = full[trace.xaxis.replace('x', 'xaxis')] || full.xaxis;
            const ya = full[trace.yaxis.replace('y', 'yaxis')] || full.yaxis;
            let best = null;
            for (let i = 0; i < trace.x.length; i++) {
              const d = Math.hypot(xa.d2p(trace.x[i]) - xa.d2p(x), ya.d2p(trace.y[i]) - ya.d2p(y));
              if (best === null || d < best.d) best = {d, i};
            }
            const rect = el.getBoundingClientRect();
            return {
              px: rect.left + xa._offset + xa.d2p(trace.x[best.i]),
              py: rect.top + ya._offset + ya.d2p(trace.y[best.i]),
              x: trace.x[best.i], y: trace.y[best.i],
            };
        }""",
        [chart_index, x, y, trace_name],
    )
    page.mouse.move(box["px"], box["py"])
    page.wait_for_timeout(200)
    page.mouse.click(box["px"], box["py"])
    return box


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_cleanly(page, app_url, console_errors, path):
    goto(page, app_url, path)
    assert not has_exception(page)
    assert plotly_charts(page), "every page shows at least one chart"
    assert console_errors == []


def test_moving_a_slider_changes_the_chart_and_the_link(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    before = map_state(page)
    with expect_rerun(page):
        slider(page, "threshold c (log scale)").press("ArrowLeft")
    after = map_state(page)
    assert before["paths"]["norm"] != after["paths"]["norm"] and after["c"] == "0.8"
    assert parse_qs(urlparse(page.url).query)["c"] == ["0.8"]
    assert not has_exception(page) and console_errors == []


# The Plotly map's zoom and pan (and the test that they survived a change) went with the Plotly
# map: the Explorer's 2-D map is the canvas component now (ui/cliffs_map.js), with a fixed window.


def test_a_shared_link_applies_its_settings(page, app_url, console_errors):
    goto(
        page,
        app_url,
        "/explorer?landscape=ravine&steepness=100&start=3,2.5&lr=1.2&c=1&steps=200&paths=none,norm",
    )
    state = map_state(page)
    assert state["axes"][0].startswith("u ")
    assert set(state["paths"]) == {"none", "norm"}
    assert page.get_by_text("Ravine under a cliff").first.is_visible()
    arrows = [text for text in state["exits"] if "thrown to" in text]
    assert arrows and arrows[0].startswith("step 2:")
    assert console_errors == []


def test_a_malformed_link_shows_a_notice_not_a_traceback(page, app_url, console_errors):
    goto(page, app_url, "/explorer?lr=fast&T=9999&start=oops&landscape=pascanu")
    notice = page.locator("[data-testid='stAlertContentWarning']")
    assert notice.count() == 1
    text = notice.inner_text()
    assert "'fast' is not a number" in text and "9999 is outside" in text
    assert not has_exception(page) and plotly_charts(page)
    assert console_errors == []


def test_clicking_the_map_moves_the_start(page, app_url, console_errors):
    goto(page, app_url, "/explorer")
    # Anywhere on the map, not only on drawn points: a spot between any grid.
    with expect_rerun(page):
        click_map_at(page, 5.4321, -3.0123)
    wait_for_app(page)
    x, y = map_state(page)["start"]
    # One screen pixel is about 0.005 in w and b on this map.
    assert x == pytest.approx(5.4321, abs=0.01)
    assert y == pytest.approx(-3.0123, abs=0.01)
    # The link carries the start exactly (shortest round-trip form of each float).
    assert parse_qs(urlparse(page.url).query)["start"] == [f"{url_number(x)},{url_number(y)}"]
    # A drag on the map is not a click: it does not move the start.
    box = page.locator("[data-testid='cliffs-map'] canvas").bounding_box()
    runs = page.evaluate("() => window.__cliffs.finished")
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 160, box["y"] + 140, steps=5)
    page.mouse.up()
    page.wait_for_timeout(800)
    assert page.evaluate("() => window.__cliffs.finished") == runs
    assert console_errors == []


#: The index of the in-figure sweep among the page's Plotly charts (the one with a slider).
SWEEP_INDEX = (
    "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
    ".findIndex((el) => (el.layout?.sliders || []).length > 0)"
)


def sweep_index(page) -> int:
    """Where the in-figure sweep is among the Plotly charts, once it is drawn."""
    page.wait_for_function(f"() => ({SWEEP_INDEX})() >= 0")
    return page.evaluate(SWEEP_INDEX)


def sweep_chart(page) -> dict:
    """The in-figure sweep as plain JSON (plotly_chart)."""
    return plotly_chart(page, sweep_index(page))


def test_in_figure_sweep_ships_frames(page, app_url, console_errors):
    goto(page, app_url, "/explorer?scrub=c&steps=40")
    # The map is the canvas component; of the Plotly charts (the history and the sweep) the sweep
    # is the one with a slider.
    index = sweep_index(page)
    sweep = plotly_chart(page, index)
    assert len(sweep["frames"]) == 45
    # Scrub inside the figure with the slider's own step (its label and animation
    # options): no rerun; the paths and the note on each path's fate follow.
    runs_before = page.evaluate("() => window.__cliffs.finished")
    sweep_el = f"document.querySelectorAll('.js-plotly-plot')[{index}]"
    note = f"() => {sweep_el}.querySelector('.annotation-text').textContent"
    note_before = page.evaluate(note)
    step = page.evaluate(
        f"""() => {{ const el = {sweep_el}, step = el.layout.sliders[0].steps[0];
                    return Plotly.animate(el, ...step.args).then(() => step.label); }}"""
    )
    page.wait_for_timeout(300)
    assert step == "0.01"
    assert page.evaluate("() => window.__cliffs.finished") == runs_before
    frames = page.evaluate(f"() => {sweep_el}._transitionData._frames.map((f) => __cliffs.plain(f))")
    frame = next(f for f in frames if f["name"] == step)
    drawn = page.evaluate(f"() => __cliffs.plain({sweep_el}.data)")
    for index, path in zip(frame["traces"], frame["data"], strict=True):
        assert drawn[index]["x"] == pytest.approx(path["x"]) and drawn[index]["y"] == pytest.approx(path["y"])
    note_after = page.evaluate(note)
    assert note_after != note_before
    assert note_after == re.sub("<[^>]+>", "", frame["layout"]["annotations"][0]["text"])
    assert console_errors == []


def test_the_sweep_and_the_take_home_code_follow_the_view(page, app_url, console_errors):
    """The sweep and the take-home code are fragments of their own beside the view's: a change of
    the view's settings, a guess in the predict game and a commit must rerun them too."""
    goto(page, app_url, "/explorer?scrub=c&steps=40&predict=1")
    before = sweep_chart(page)
    with expect_rerun(page):
        slider(page, "steps").press("ArrowRight")
    after = sweep_chart(page)
    assert parse_qs(urlparse(page.url).query)["steps"] == ["41"]
    assert after["data"] != before["data"]  # the paths drawn now have 41 steps
    assert "none" not in map_state(page)["paths"]  # a new setting asks for a new guess
    with expect_rerun(page):
        click_map_at(page, 6.0, -1.5)
    wait_for_app(page)
    assert "none" in map_state(page)["paths"]
    revealed = sweep_chart(page)
    assert len(revealed["data"]) > len(after["data"])  # the unclipped path joined the sweep
    with expect_rerun(page):
        page.get_by_text("Take it home").click()
    code = page.locator("[data-testid='stCode']").first
    assert "max_norm=1" in code.inner_text() or "1.0" in code.inner_text()
    before_code = code.inner_text()
    with expect_rerun(page):
        slider(page, "threshold c (log scale)").press("ArrowLeft")
    page.wait_for_function(
        "(old) => document.querySelector(\"[data-testid='stCode']\").innerText !== old", arg=before_code
    )
    assert "0.8" in code.inner_text()
    assert not has_exception(page) and console_errors == []


def test_predict_then_reveal(page, app_url, console_errors):
    goto(page, app_url, "/explorer?predict=1")
    assert "none" not in map_state(page)["paths"]
    assert page.get_by_text("Predict, then reveal.").is_visible()
    with expect_rerun(page):
        click_map_at(page, 6.0, -1.5)
    wait_for_app(page)
    state = map_state(page)
    assert "none" in state["paths"] and state["guess"] == pytest.approx([6.0, -1.5], abs=0.01)
    success = page.locator("[data-testid='stAlertContentSuccess']").inner_text()
    assert "The unclipped path ended at (39, 53.4)" in success and "away" in success
    assert console_errors == []


def test_sweeps_cell_click_opens_the_explorer_with_that_cell(page, app_url, console_errors):
    goto(page, app_url, "/sweeps?res=64&steps=30&lr=0.5&c=1&dclip=norm")
    chart_index = 2  # the (lr, c) diagram, after the two layouts of the start maps
    pick = next(
        t["name"] for t in plotly_chart(page, chart_index)["data"] if "pick" in str(t.get("meta", ""))
    )
    with expect_rerun(page):
        target = click_data_point(page, chart_index, 0.2, 0.3, pick)
    page.wait_for_url("**/explorer**", timeout=60_000)
    wait_for_app(page)
    query = parse_qs(urlparse(page.url).query)
    assert float(query["lr"][0]) == pytest.approx(target["x"]) and float(query["c"][0]) == pytest.approx(
        target["y"]
    )
    assert query["steps"] == ["30"]
    assert not has_exception(page) and console_errors == []


def test_a_point_on_the_explorer_opens_inside_the_rnn(page, app_url, console_errors):
    goto(page, app_url, "/explorer?start=4.9,-2.5&T=60")
    page.get_by_text("Look inside the RNN at the start point").click()
    page.wait_for_url("**/rnn**", timeout=60_000)
    wait_for_app(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["w"] == ["4.9"] and query["b"] == ["-2.5"] and query["T"] == ["60"]
    assert page.get_by_text("Inside the RNN").first.is_visible()
    assert not has_exception(page) and console_errors == []
