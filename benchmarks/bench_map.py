"""Browser benchmark of the Explorer's map component beside the one-slider reference app, in one
run. Prints figures, asserts nothing.

    python benchmarks/bench_map.py            # every part
    python benchmarks/bench_map.py --quick    # fewer repetitions
    python benchmarks/bench_map.py --only a,b

a) Drag -> redraw: the in-map threshold slider is dragged with the mouse (20 moves per drag) and
   stepped with the keyboard; from the input event's timeStamp (pointermove / keydown, taken in
   the page) to the animation frame after the map's draw. Script runs during the drags are
   counted (goal: 0). Goal: p95 <= 33 ms.
b) Commit -> narration: a drag of the in-map slider is released; from the pointerup's timeStamp
   until the summary table and the narration show the new run. Reference: the reference app's
   round trip (key on its slider -> its chart shows the new data), pressed once after every
   change of the app, so that a ratio compares moments of the same load (measured in a block
   of its own, the reference's p50 moved by 15 ms between runs). Goal: p50 within 2x.
c) Other controls: a key on the sidebar's steps and T sliders -> the map redrawn with the new
   view; reference as in b, interleaved. Goal: p50 within 1.5x, p95 within 2x.
d) Server start -> first chart: spawn the server (`streamlit run app.py`, as the README
   says), open the page as soon as it is healthy, wait for the drawn map (the reference: its
   drawn Plotly chart). Cold (a new JAX cache folder each time), then warm (a folder one start
   has filled), each beside a start of the reference; medians. Goal: at most 1.5 s more than
   the reference.

Only 127.0.0.1; every loop is bounded; the servers started here are stopped by their handles.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import numpy as np  # noqa: E402
import streamlit_helpers as sh  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

REFERENCE = "benchmarks/reference_app.py"
#: The app as the README starts it.
APP = "app.py"
MAP = "[data-testid='cliffs-map']"
TIMEOUT_MS = 30_000

# In the page: the timeStamp of the last input, and the latency to the frame after each draw.
PROBE = """(sel) => {
  const b = (window.__mapBench = { t: null, lat: [] });
  for (const type of ['pointermove', 'keydown', 'pointerup'])
    document.addEventListener(type, (e) => { b.t = e.timeStamp; }, true);
  new MutationObserver(() => {
    const t = b.t;
    if (t === null) return;
    b.t = null;
    requestAnimationFrame(() => b.lat.push(performance.now() - t));
  }).observe(document.querySelector(sel), { attributes: true, attributeFilter: ['data-draws'] });
}"""

# What a part waits to change: the summary and the narration, the reference's chart, or the map's view.
READ = """(what) => {
  if (what === 'summary') {
    const table = document.querySelector('table.cliff-summary');
    const side = Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
      .map((e) => e.innerText).join('|');
    return (table ? table.innerText : '') + side;
  }
  if (what === 'reference') {
    const el = document.querySelector('.js-plotly-plot');
    return el && el.data ? JSON.stringify(el.data[0].y) : '';
  }
  return document.querySelector('[data-testid="cliffs-map"]').dataset.view;
}"""
# Waits until READ(what) differs from `before`; returns ms from the input's timeStamp (window.__t0)
# to the animation frame after the change. The change is seen by a MutationObserver on the page
# (a microtask right after the DOM changed; a 2 ms poll as a fallback), so the frame it waits for
# is the first one that can show the change. (A poll alone, as in earlier versions, can see the
# change only after another long task of the page has run, such as a chart drawn after paint,
# and then counts that task too.)
CHANGED = f"""async ([before, what]) => {{
  const read = {READ};
  return await new Promise((resolve) => {{
    let done = false;
    const observer = new MutationObserver(() => check());
    const check = () => {{
      if (done || read(what) === before) return;
      done = true;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - window.__t0));
    }};
    const all = {{ subtree: true, childList: true, attributes: true, characterData: true }};
    observer.observe(document.body, all);
    const poll = () => {{ check(); if (!done) setTimeout(poll, 2); }};
    poll();
  }});
}}"""


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def line(name: str, values: list[float], goal: str = "") -> str:
    if not values:
        return f"{name:<44} -"
    return (
        f"{name:<44} p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms  (n={len(values)}) {goal}"
    )


def open_page(browser, url: str, path: str, size=(1400, 1000)):
    page = sh.new_context(browser, viewport={"width": size[0], "height": size[1]}).new_page()
    sh.goto(page, url, path)
    return page


def read(page, what: str) -> str:
    return page.evaluate(READ, what)


def timed_change(page, what: str, before: str, action) -> float:
    """Runs ``action`` (an input), then waits until ``what`` changed; ms from the input's timeStamp."""
    page.evaluate(
        "() => { window.__t0 = null; const f = (e) => { window.__t0 = e.timeStamp; };"
        " for (const t of ['keydown','pointerup'])"
        " document.addEventListener(t, f, {capture: true, once: true}); }"
    )
    action()
    return float(page.evaluate(CHANGED, [before, what]))


def timed_key(page, thumb, what: str, k: int) -> float:
    """Presses an arrow key on a slider (right on even ``k``, left on odd, so the value goes back
    and forth) and returns ms until ``what`` changed; then waits for the run to finish."""
    thumb.focus()
    before = read(page, what)
    value = timed_change(page, what, before, lambda: thumb.press("ArrowRight" if k % 2 == 0 else "ArrowLeft"))
    sh.wait_for_rerun(page, settle=0.05)
    return value


def slider_box(page, name: str):
    thumb = page.get_by_role("slider", name=name, exact=True)
    thumb.scroll_into_view_if_needed()
    return thumb.bounding_box()


def x_of(box, index: float, count: int) -> float:
    return box["x"] + 8 + (box["width"] - 16) * index / (count - 1)


def part_a(browser, url: str, drags: int) -> None:
    from landscapes.views import config as cf

    page = open_page(browser, url, "/explorer")
    page.evaluate(PROBE, MAP)
    n = len(cf.THRESHOLD_CHOICES)
    i0 = cf.THRESHOLD_CHOICES.index(1.0)
    runs = sh.run_count(page)
    mouse: list[float] = []
    for d in range(drags):
        box = slider_box(page, "threshold c")
        y = box["y"] + box["height"] / 2
        page.mouse.move(x_of(box, i0, n), y)
        page.mouse.down()
        page.evaluate("() => { window.__mapBench.lat = []; }")
        for k in range(1, 21):
            page.mouse.move(x_of(box, i0 - k if d % 2 == 0 else i0 + k * 0.9, n), y)
            page.wait_for_timeout(16)
        page.wait_for_timeout(50)
        mouse += page.evaluate("() => window.__mapBench.lat")
        during = sh.run_count(page) - runs
        page.mouse.move(x_of(box, i0, n), y)  # back to the start before releasing: nothing to commit
        page.mouse.up()
        page.wait_for_timeout(100)
        if during:
            print(f"   drag {d}: {during} script runs during the drag")
    keys: list[float] = []
    thumb = page.get_by_role("slider", name="threshold c", exact=True)
    thumb.focus()
    page.evaluate("() => { window.__mapBench.lat = []; }")
    runs_keys = sh.run_count(page)
    for k in range(20):
        thumb.press("ArrowLeft" if k < 10 else "ArrowRight")
        page.wait_for_timeout(30)
    page.wait_for_timeout(50)
    keys = page.evaluate("() => window.__mapBench.lat")
    key_runs = sh.run_count(page) - runs_keys
    print(line("a) drag (mouse) -> paths redrawn", mouse, "goal p95 <= 33 ms"))
    print(line("a) key-step (keyboard) -> paths redrawn", keys, "goal p95 <= 33 ms"))
    print(
        f"   script runs during {drags} mouse drags of 20 moves: {sh.run_count(page) - runs - key_runs}; "
        f"during 20 quick keys: {key_runs} (keys are committed once, 400 ms after the last)"
    )
    page.context.close()


class Reference:
    """The reference app's page: ``press()`` moves its slider one key and returns the round trip
    (key -> its chart shows the new data). Parts b and c press it after each change of the app,
    so both sides of a ratio are measured in the same moments of a noisy machine."""

    def __init__(self, browser, url: str):
        self.page = open_page(browser, url, "/", size=(1000, 800))
        self.thumb = sh.slider(self.page, "Value")
        self.count = 0

    def press(self) -> float:
        self.count += 1
        return timed_key(self.page, self.thumb, "reference", self.count - 1)


def part_b(browser, url: str, reference: Reference, changes: int) -> None:
    from landscapes.views import config as cf

    page = open_page(browser, url, "/explorer")
    n = len(cf.THRESHOLD_CHOICES)
    commits, ref = [], []
    for k in range(changes):
        box = slider_box(page, "threshold c")
        y = box["y"] + box["height"] / 2
        current = cf.THRESHOLD_CHOICES.index(float(page.locator(MAP).get_attribute("data-c")))
        target = current - 3 if k % 2 == 0 else current + 3
        page.mouse.move(x_of(box, current, n), y)
        page.mouse.down()
        for j in range(1, 6):
            page.mouse.move(x_of(box, current + (target - current) * j / 5, n), y)
        before = read(page, "summary")
        commits.append(timed_change(page, "summary", before, page.mouse.up))
        sh.wait_for_rerun(page, settle=0.05)
        ref.append(reference.press())
    page.context.close()
    print(line("b) commit -> narration and table updated", commits))
    print(line("b) reference app round trip (interleaved)", ref))
    if commits and ref:
        print(f"   ratio p50 {pct(commits, 50) / pct(ref, 50):.2f}x (goal <= 2x)")


def part_c(browser, url: str, reference: Reference, changes: int) -> None:
    page = open_page(browser, url, "/explorer")
    for label in ("steps", "unrolled steps T"):
        values, ref = [], []
        thumb = sh.slider(page, label)
        thumb.scroll_into_view_if_needed()
        for k in range(changes):
            values.append(timed_key(page, thumb, "view", k))
            ref.append(reference.press())
        print(line(f"c) sidebar '{label}' -> map redrawn", values))
        print(line("c) reference app round trip (interleaved)", ref))
        if values and ref:
            print(
                f"   ratio p50 {pct(values, 50) / pct(ref, 50):.2f}x (goal <= 1.5x), "
                f"p95 {pct(values, 95) / pct(ref, 95):.2f}x (goal <= 2x)"
            )
    page.context.close()


def first_chart(browser, script: str, path: str, selector: str, env: dict[str, str]) -> float:
    server = sh.StreamlitServer(script, env=env)
    t0 = time.perf_counter()
    server.start()
    try:
        page = sh.new_context(browser, viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(server.url + path, wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_function(selector, timeout=120_000)
        elapsed = time.perf_counter() - t0
        page.context.close()
        return elapsed
    finally:
        server.stop()


IMPORT_TIMES = """
import time
t0 = time.perf_counter()
import ml_dtypes
t1 = time.perf_counter()
import jax
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t0:.3f} {ml_dtypes.__version__}")
"""


def import_times() -> str:
    """JAX's import in a fresh process (the app pays it before its first map), ml_dtypes first."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", IMPORT_TIMES], capture_output=True, text=True, check=True)
    ml, total, version = out.stdout.split()
    return f"ml_dtypes {version} {float(ml):.2f} s, JAX with it {float(total):.2f} s"


def part_d(browser, warm: int, colds: int) -> None:
    print(f"d) import in a fresh process: {import_times()}")
    drawn_map = (
        "() => { const m = document.querySelector(\"[data-testid='cliffs-map']\");"
        " return !!m && Number(m.dataset.draws) > 0; }"
    )
    drawn_plot = (
        "() => { const el = document.querySelector('.js-plotly-plot');"
        " return !!(el && el._fullLayout && el.querySelector('.main-svg')); }"
    )
    cold, cold_ref, warms, warm_refs = [], [], [], []
    # One unmeasured start of each first: otherwise the first measured start alone also pays
    # for reading Streamlit's, JAX's and Chromium's files from disk, and its partner does not.
    with tempfile.TemporaryDirectory() as cache:
        first_chart(browser, APP, "/explorer", drawn_map, {"CLIFFS_JAX_CACHE": cache})
    first_chart(browser, REFERENCE, "/", drawn_plot, {})
    # Each cold start gets a new JAX cache folder, the reference's start right after it; the
    # warm starts reuse the last folder.
    for _ in range(colds):
        with tempfile.TemporaryDirectory() as cache:
            env = {"CLIFFS_JAX_CACHE": cache}
            cold.append(first_chart(browser, APP, "/explorer", drawn_map, env))
            cold_ref.append(first_chart(browser, REFERENCE, "/", drawn_plot, {}))
    with tempfile.TemporaryDirectory() as cache:
        env = {"CLIFFS_JAX_CACHE": cache}
        first_chart(browser, APP, "/explorer", drawn_map, env)
        for _ in range(warm):
            warms.append(first_chart(browser, APP, "/explorer", drawn_map, env))
            warm_refs.append(first_chart(browser, REFERENCE, "/", drawn_plot, {}))

    def each(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    for name, app, ref in (("cold", cold, cold_ref), ("warm", warms, warm_refs)):
        m, mr = statistics.median(app), statistics.median(ref)
        print(
            f"d) server start -> first map, {name} (median of {len(app)}): {m:.2f} s; reference {mr:.2f} s; "
            f"difference {m - mr:+.2f} s (goal <= +1.5 s)  [app {each(app)}; reference {each(ref)}]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="a,b,c,d")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    changes = 6 if args.quick else 20
    with sync_playwright() as p:
        browser = sh.launch_chromium(p)
        try:
            if parts & {"a", "b", "c"}:
                with sh.StreamlitServer(APP) as app, sh.StreamlitServer(REFERENCE) as reference:
                    # warm both servers (the first run compiles)
                    open_page(browser, app.url, "/explorer").context.close()
                    if "a" in parts:
                        part_a(browser, app.url, 3 if args.quick else 6)
                    if parts & {"b", "c"}:
                        ref = Reference(browser, reference.url)
                        ref.press()  # its first run after the page opened
                        if "b" in parts:
                            part_b(browser, app.url, ref, changes)
                        if "c" in parts:
                            part_c(browser, app.url, ref, changes)
                        ref.page.context.close()
            if "d" in parts:
                part_d(browser, 1 if args.quick else 3, 1 if args.quick else 3)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
