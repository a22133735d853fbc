"""Browser benchmark: the app beside Streamlit's floor, in one run. Prints figures, asserts nothing.

    python benchmarks/bench_app.py --target-path "/explorer?<all three paths on>" \
        --slider-label "Learning rate" --chart-index 0 --frames-chart 0
    python benchmarks/bench_app.py --quick --only a,b        # fewer repetitions, two parts
    python benchmarks/bench_app.py --target benchmarks/reference_app.py \
        --frames-path "/?frames=60" --json benchmarks/results/self.json   # self-check

The machines are shared and noisy, so every figure for the app (the target)
is taken beside the same figure for `benchmarks/reference_app.py` (one slider,
one two-point chart), in the same run, and compared as a ratio. A part that
cannot be measured on the target (no slider, no chart, no frames) says so and
the others go on.

a) Slider -> chart: from the key press on a focused st.slider thumb (the
   keydown's event.timeStamp, taken in the page) until the frame showing the
   chosen Plotly chart with different data has been rendered (headline), and
   until that data is in the DOM (checked on every DOM mutation and animation
   frame), and until the run's script_finished message was handled; p50/p95
   over --changes presses, in blocks alternating between the two apps.
   Goal: target p50 <= 1.5x and p95 <= 2x the reference.
b) Scrubbing inside a figure (Plotly frames, no rerun): Plotly.animate(el,
   [frame], {transition: 0, frame: {duration: 0, redraw: true}}) until
   `plotly_animated`, over many frames. Goal: p95 <= 50 ms. Reference: the
   reference app with `?frames=60`.
c) Server start -> first drawn chart: spawn `streamlit run`, open the page as
   soon as /_stcore/health answers, wait for a drawn `.js-plotly-plot`. A
   first (cold) start, then warm starts, for both apps; the target's
   CLIFFS_JAX_CACHE is a new temporary folder for the cold start and is reused
   for the warm ones. Goal: target at most 1.5 s more than the reference.
d) Load: --sessions concurrent browser contexts (one Chromium) on 127.0.0.1,
   each pressing its slider for at most --load-seconds / --load-changes;
   counts exception boxes, console errors, lost connections and timeouts, and
   reports latency under load. Reference first, then target.

Only 127.0.0.1; every loop is bounded in count and time; the servers this
script starts are stopped by their process handles at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import numpy as np  # noqa: E402
import streamlit_helpers as sh  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

REFERENCE = "benchmarks/reference_app.py"
REFERENCE_SLIDER = "Value"
REFERENCE_FRAMES_PATH = "/?frames=60"
CHANGE_TIMEOUT = 30.0  # s, one slider change, even under load
PAGE_TIMEOUT = 120.0  # s, opening a page (a cold JAX start included)


class Unmeasurable(Exception):
    """The page lacks what a measurement needs (no slider, no chart, no frames...)."""


@dataclass
class App:
    name: str
    script: str
    path: str
    slider_label: str | None
    chart_index: int
    frames_path: str
    frames_chart: int | None
    env: dict[str, str] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:.{digits}f}{unit}"


# --- One session: a page with a slider and a chart ---------------------------


@dataclass
class Session:
    """One browser page on one app, pressing one slider and watching one chart."""

    app: App
    page: Any
    log: sh.ConsoleLog
    thumb: Any = None
    direction: int = 1
    since: int = 0
    pressed_at: float = 0.0
    chart_ms: list[float] = field(default_factory=list)
    paint_ms: list[float] = field(default_factory=list)
    rerun_ms: list[float] = field(default_factory=list)
    timeouts: int = 0

    def prepare(self) -> None:
        """Finds the slider and the chart, or says clearly what is missing."""
        labels = sh.slider_labels(self.page)
        if not labels:
            raise Unmeasurable(f"{self.app.name}: the page has no st.slider")
        if self.app.slider_label is not None and self.app.slider_label not in labels:
            raise Unmeasurable(
                f"{self.app.name}: no slider labelled {self.app.slider_label!r}; sliders: {labels}"
            )
        charts = sh.chart_count(self.page)
        if charts == 0:
            raise Unmeasurable(f"{self.app.name}: the page has no Plotly chart")
        if self.app.chart_index >= charts:
            raise Unmeasurable(f"{self.app.name}: chart {self.app.chart_index} asked for, page has {charts}")
        self.thumb = sh.slider(self.page, self.app.slider_label)

    # One round trip: remember the run count, arm the chart probe, read the slider.
    ARM = """(el, index) => {
        const c = window.__cliffs;
        const since = c.finished;
        c.arm(index);
        const num = (a, b) => Number(el[a] !== undefined && el[a] !== '' ? el[a] : el.getAttribute(b));
        return [since, num('value', 'aria-valuenow'), num('min', 'aria-valuemin'),
            num('max', 'aria-valuemax')];
    }"""

    def press(self) -> None:
        """Arms the probe and presses an arrow key on the slider thumb.

        ArrowRight up to the slider's maximum, then ArrowLeft down to its
        minimum, and so on, so that every press changes the value.
        """
        self.since, value, low, high = self.thumb.evaluate(self.ARM, self.app.chart_index)
        if self.direction > 0 and value >= high:
            self.direction = -1
        elif self.direction < 0 and value <= low:
            self.direction = 1
        self.pressed_at = time.perf_counter()
        self.thumb.press("ArrowRight" if self.direction > 0 else "ArrowLeft")

    # Done: the chart shows new data, the run is over, and the page has been
    # quiet for 100 ms (Streamlit redraws a chart at its measured width after
    # the data arrives) or 2 s have passed since the new chart was painted.
    POLL = """(since) => {
        const c = window.__cliffs, p = c.probeResult();
        return p && p.done && c.finished > since && c.idle()
            && (c.quiet(100) || performance.now() - p.tPaint > 2000) ? p : null;
    }"""

    def record(self, probe: dict[str, float]) -> None:
        self.chart_ms.append(probe["tData"] - probe["t0"])
        self.paint_ms.append(probe["tPaint"] - probe["t0"])
        if probe["tFinished"] is not None:
            self.rerun_ms.append(probe["tFinished"] - probe["t0"])

    def poll(self) -> bool:
        """Non-blocking: True once the pending change is recorded (or timed out)."""
        probe = self.page.evaluate(self.POLL, self.since)
        if probe is not None:
            self.record(probe)
            return True
        if time.perf_counter() - self.pressed_at > CHANGE_TIMEOUT:
            self.timeouts += 1
            self.page.evaluate("() => window.__cliffs.disarm()")
            return True
        return False

    def change(self) -> None:
        """Blocking: one press, waiting in the page for the chart and the end of the run."""
        self.press()
        try:
            handle = self.page.wait_for_function(self.POLL, arg=self.since, timeout=CHANGE_TIMEOUT * 1000)
            self.record(handle.json_value())
            sh.wait_for_quiet(self.page)  # the POLL gives up on quiet after 2 s; this caps at 3 s
        except PlaywrightError as error:
            if "Timeout" not in str(error):
                raise
            self.timeouts += 1
            self.page.evaluate("() => window.__cliffs.disarm()")
            if self.timeouts >= 3:
                raise Unmeasurable(
                    f"{self.app.name}: 3 slider changes gave no new data in chart {self.app.chart_index}"
                ) from error
            sh.wait_for_rerun(self.page, timeout=CHANGE_TIMEOUT)

    def reset(self) -> None:
        self.chart_ms.clear()
        self.paint_ms.clear()
        self.rerun_ms.clear()
        self.timeouts = 0


# --- Bench ------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, browser: Any, stack: ExitStack) -> None:
        self.args = args
        self.browser = browser
        self.stack = stack
        self.servers: dict[str, sh.StreamlitServer] = {}
        self.results: dict[str, Any] = {}
        self.notes: list[str] = []
        # (part, what, reference, target, comparison, goal, verdict) for the closing table
        self.summary: list[tuple[str, ...]] = []

    def server(self, app: App) -> sh.StreamlitServer:
        if app.script not in self.servers:
            server = sh.StreamlitServer(app.script, env=app.env, startup_timeout=PAGE_TIMEOUT)
            self.stack.callback(server.stop)
            self.servers[app.script] = server.start()
        return self.servers[app.script]

    @contextmanager
    def open_page(self, app: App, path: str) -> Iterator[tuple[Any, sh.ConsoleLog]]:
        context = sh.new_context(self.browser)
        try:
            page = context.new_page()
            log = sh.ConsoleLog().attach(page)
            try:
                sh.goto(page, self.server(app).url, path, timeout=PAGE_TIMEOUT)
            except sh.PageNotFound as error:
                raise Unmeasurable(f"{app.name}: {error}") from error
            yield page, log
        finally:
            context.close()

    def fail(self, part: str, why: str) -> None:
        message = f"{part}) not measured: {why}"
        self.notes.append(message)
        print(f"   {message}")

    def verdict(self, ok: bool) -> str:
        return "meets" if ok else "MISSES"

    # a) ------------------------------------------------------------------
    def part_a(self, apps: list[App]) -> None:
        n, warmup, block = self.args.changes, (2 if self.args.quick else 3), 5
        print(
            f"\na) slider -> chart: {n} changes per app after {warmup} warm-up, alternating blocks of {block}"
        )
        rows: dict[str, dict[str, Any]] = {}
        with ExitStack() as pages:
            sessions = []
            for app in apps:
                try:
                    page, log = pages.enter_context(self.open_page(app, app.path))
                    session = Session(app, page, log)
                    session.prepare()
                    for _ in range(warmup):
                        session.change()
                except Unmeasurable as why:
                    self.fail("a", str(why))
                    continue
                session.reset()
                sessions.append(session)
            active = list(sessions)
            done = 0
            while done < n and active:
                step = min(block, n - done)
                for session in list(active):
                    try:
                        for _ in range(step):
                            session.change()
                    except Unmeasurable as why:
                        self.fail("a", str(why))
                        active.remove(session)
                done += step
            for s in sessions:
                rows[s.app.name] = {
                    "chart_ms": s.chart_ms,
                    "paint_ms": s.paint_ms,
                    "rerun_ms": s.rerun_ms,
                    "timeouts": s.timeouts,
                    "errors": s.log.errors + sh.exception_texts(s.page),
                }
        self.results["a"] = rows
        if not rows:
            return
        print(f"   {'ms':<38}{'p50':>8}{'p95':>8}{'max':>8}{'n':>5}{'timeouts':>10}{'errors':>8}")
        for name, r in rows.items():
            for metric, label in (
                ("paint_ms", "input -> new chart painted"),
                ("chart_ms", "input -> new data in DOM"),
                ("rerun_ms", "input -> run finished"),
            ):
                v = r[metric]
                extra = f"{r['timeouts']:>10}{len(r['errors']):>8}" if metric == "paint_ms" else ""
                print(
                    f"   {name:<10}{label:<28}{fmt(pct(v, 50)):>8}{fmt(pct(v, 95)):>8}"
                    f"{fmt(max(v) if v else None):>8}{len(v):>5}{extra}"
                )
            for error in r["errors"][:5]:
                print(f"   {name} error: {error[:200]}")
        ref, tgt = rows.get("reference", {}).get("paint_ms"), rows.get("target", {}).get("paint_ms")
        for q, goal in ((50, 1.5), (95, 2.0)):
            a, b = (pct(ref, q) if ref else None), (pct(tgt, q) if tgt else None)
            ratio = b / a if a and b else None
            self.summary.append(
                (
                    "a",
                    f"slider -> chart p{q} (ms)",
                    fmt(a),
                    fmt(b),
                    fmt(ratio, "x", 2),
                    f"<= {goal}x",
                    self.verdict(ratio <= goal) if ratio else "-",
                )
            )
        errors = {name: r["timeouts"] + len(r["errors"]) for name, r in rows.items()}
        self.summary.append(
            (
                "a",
                "timeouts + errors",
                str(errors.get("reference", "-")),
                str(errors.get("target", "-")),
                "",
                "0",
                self.verdict(not any(errors.values())) if "target" in errors else "-",
            )
        )

    # b) ------------------------------------------------------------------
    SCRUB = """async ([index, n]) => {
        const c = window.__cliffs;
        const plots = c.plots();
        const hasFrames = (el) => !!(el && el._transitionData && el._transitionData._frames
            && el._transitionData._frames.length);
        const el = index === null ? plots.find(hasFrames) : plots[index];
        if (!el) return {error: index === null ? `no chart with frames among ${plots.length} chart(s)`
            : `chart ${index} asked for, the page has ${plots.length}`};
        if (!hasFrames(el)) return {error: `chart ${index} has no frames`};
        if (!window.Plotly || !window.Plotly.animate) return {error: 'window.Plotly.animate is missing'};
        const names = el._transitionData._frames.map((f) => f.name);
        const raf = () => new Promise((resolve) => requestAnimationFrame(resolve));
        const animated = [], painted = [];
        let timeouts = 0;
        for (let k = 0; k < n; k++) {
            const name = names[k % names.length];
            await raf();
            const t0 = performance.now();
            const done = new Promise((resolve) => {
                const handler = () => {
                    el.removeListener('plotly_animated', handler);
                    resolve(performance.now());
                };
                el.on('plotly_animated', handler);
                setTimeout(() => { el.removeListener('plotly_animated', handler); resolve(null); }, 5000);
            });
            window.Plotly.animate(el, [name], {mode: 'immediate', transition: {duration: 0},
                frame: {duration: 0, redraw: true}});
            const t1 = await done;
            if (t1 === null) { timeouts++; continue; }
            const t2 = await new Promise((resolve) => c.afterPaint(resolve));
            animated.push(t1 - t0);
            painted.push(t2 - t0);
        }
        return {frames: names.length, animated, painted, timeouts};
    }"""

    def part_b(self, apps: list[App]) -> None:
        n = self.args.scrubs
        print(f"\nb) scrubbing Plotly frames: Plotly.animate -> plotly_animated, {n} frames per app")
        rows = {}
        for app in apps:
            try:
                with self.open_page(app, app.frames_path) as (page, log):
                    result = page.evaluate(self.SCRUB, [app.frames_chart, 3])  # warm-up
                    if "error" not in result:
                        result = page.evaluate(self.SCRUB, [app.frames_chart, n])
                    result["errors"] = log.errors + sh.exception_texts(page)
            except PlaywrightError as error:
                result = {"error": str(error).splitlines()[0]}
            except Unmeasurable as why:
                result = {"error": str(why)}
            if "error" in result:
                self.fail("b", f"{app.name} ({app.frames_path}): {result['error']}")
                continue
            rows[app.name] = result
        self.results["b"] = rows
        if rows:
            print(f"   {'ms':<38}{'p50':>8}{'p95':>8}{'max':>8}{'n':>5}{'frames':>8}{'timeouts':>10}")
        for name, r in rows.items():
            for metric, label in (
                ("animated", "animate -> plotly_animated"),
                ("painted", "animate -> painted"),
            ):
                v = r[metric]
                print(
                    f"   {name:<10}{label:<28}{fmt(pct(v, 50)):>8}{fmt(pct(v, 95)):>8}"
                    f"{fmt(max(v) if v else None):>8}{len(v):>5}{r['frames']:>8}{r['timeouts']:>10}"
                )
            for error in r["errors"][:5]:
                print(f"   {name} error: {error[:200]}")
        ref, tgt = rows.get("reference", {}).get("animated"), rows.get("target", {}).get("animated")
        a, b = (pct(ref, 95) if ref else None), (pct(tgt, 95) if tgt else None)
        self.summary.append(
            (
                "b",
                "scrub frame p95 (ms)",
                fmt(a),
                fmt(b),
                fmt(b / a if a and b else None, "x", 2),
                "<= 50 ms",
                self.verdict(b <= 50) if b is not None else "-",
            )
        )

    # c) ------------------------------------------------------------------
    FIRST_CHART = """() => {
        const c = window.__cliffs;
        if (!c) return false;
        if (c.pageNotFound) return 'page not found';
        if (c.plots().some(c.drawn)) return 'chart';
        if (c.finished > 0 && c.idle() && !document.querySelector("[data-testid='stPlotlyChart']"))
            return 'no chart';
        return false;
    }"""

    def start_to_chart(self, app: App, env: dict[str, str]) -> dict[str, Any]:
        server = sh.StreamlitServer(app.script, env=env, startup_timeout=PAGE_TIMEOUT)
        context = sh.new_context(self.browser)
        try:
            server.spawn()
            server.wait_healthy()
            page = context.new_page()
            page.goto(server.url + "/" + app.path.lstrip("/"), wait_until="commit")
            outcome = page.wait_for_function(self.FIRST_CHART, timeout=PAGE_TIMEOUT * 1000).json_value()
            seen = time.perf_counter()
            if outcome == "no chart":
                page.wait_for_timeout(1000)  # a lazily loaded chart would show a skeleton first
                outcome = page.evaluate(self.FIRST_CHART)
            return {
                "health_s": server.healthy_at - server.spawned_at,
                "first_s": seen - server.spawned_at,
                "chart": outcome == "chart",
                "outcome": outcome,
            }
        finally:
            context.close()
            server.stop()

    def part_c(self, apps: list[App]) -> None:
        warm = self.args.warm_starts
        print(f"\nc) server start -> first drawn chart: 1 cold + {warm} warm start(s) per app, interleaved")
        cache = tempfile.mkdtemp(prefix="cliffs-jax-bench-")
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {a.name: {"cold": [], "warm": []} for a in apps}
        broken: set[str] = set()
        try:
            for kind in ["cold"] + ["warm"] * warm:
                for app in apps:
                    if app.name in broken:
                        continue
                    env = {**app.env, "CLIFFS_JAX_CACHE": cache} if app.name == "target" else dict(app.env)
                    try:
                        runs[app.name][kind].append(self.start_to_chart(app, env))
                    except (PlaywrightError, RuntimeError, TimeoutError) as error:
                        self.fail("c", f"{app.name} {kind}: {str(error).splitlines()[0]}")
                        broken.add(app.name)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        self.results["c"] = runs
        print(f"   {'s (from spawning the server)':<38}{'health':>8}{'chart':>8}")
        first: dict[tuple[str, str], float | None] = {}
        for name, kinds in runs.items():
            for kind, values in kinds.items():
                if not values:
                    continue
                health = statistics.median(v["health_s"] for v in values)
                seen = statistics.median(v["first_s"] for v in values)
                drawn = all(v["chart"] for v in values)
                first[name, kind] = seen if drawn else None
                label = kind + (f" (median of {len(values)})" if len(values) > 1 else "")
                note = "" if drawn else "  NO CHART: the run ended without one (time shown: run end)"
                if any(v["outcome"] == "page not found" for v in values):
                    path = next(a.path for a in apps if a.name == name)
                    note = f"  PAGE NOT FOUND: Streamlit has no page at {path!r}"
                print(f"   {name:<10}{label:<28}{fmt(health, digits=2):>8}{fmt(seen, digits=2):>8}{note}")
        for kind in ("cold", "warm"):
            a, b = first.get(("reference", kind)), first.get(("target", kind))
            diff = b - a if a is not None and b is not None else None
            self.summary.append(
                (
                    "c",
                    f"{kind} start -> chart (s)",
                    fmt(a, digits=2),
                    fmt(b, digits=2),
                    f"{diff:+.2f} s" if diff is not None else "-",
                    "<= +1.5 s",
                    self.verdict(diff <= 1.5) if diff is not None else "-",
                )
            )

    # d) ------------------------------------------------------------------
    def part_d(self, apps: list[App]) -> None:
        n, seconds, cap = self.args.sessions, self.args.load_seconds, self.args.load_changes
        print(f"\nd) load: {n} concurrent sessions per app, each <= {cap} changes, <= {seconds:.0f} s")
        rows = {}
        for app in apps:
            try:
                rows[app.name] = self.load(app, n, seconds, cap)
            except Unmeasurable as why:
                self.fail("d", str(why))
        self.results["d"] = rows
        if rows:
            print(
                f"   {'ms':<38}{'p50':>8}{'p95':>8}{'max':>8}{'changes':>9}{'timeouts':>10}"
                f"{'exceptions':>12}{'console':>9}{'lost':>6}{'wall s':>8}"
            )
        for name, r in rows.items():
            for metric, label in (
                ("paint_ms", "input -> new chart painted"),
                ("rerun_ms", "input -> run finished"),
            ):
                v = r[metric]
                extra = (
                    f"{r['timeouts']:>10}{r['exceptions']:>12}{len(r['console']):>9}"
                    f"{r['disconnected']:>6}{r['wall_s']:>8.1f}"
                    if metric == "paint_ms"
                    else ""
                )
                print(
                    f"   {name:<10}{label:<28}{fmt(pct(v, 50)):>8}{fmt(pct(v, 95)):>8}"
                    f"{fmt(max(v) if v else None):>8}{len(v):>9}{extra}"
                )
        errors = {}
        for name, r in rows.items():
            counts = ("timeouts", "exceptions", "disconnected", "failed_opens")
            errors[name] = sum(r[k] for k in counts) + len(r["console"])
            print(f"   {name}: {'zero errors' if errors[name] == 0 else f'{errors[name]} ERRORS'}")
            for error in r["console"][:5]:
                print(f"   {name} console: {error[:200]}")
        self.summary.append(
            (
                "d",
                f"errors, {n} sessions",
                str(errors.get("reference", "-")),
                str(errors.get("target", "-")),
                "",
                "0",
                self.verdict(errors.get("target", 1) == 0) if "target" in errors else "-",
            )
        )
        for q in (50, 95):
            ref, tgt = (rows.get(k, {}).get("rerun_ms") for k in ("reference", "target"))
            a, b = (pct(ref, q) if ref else None), (pct(tgt, q) if tgt else None)
            self.summary.append(
                (
                    "d",
                    f"run p{q} under load (ms)",
                    fmt(a),
                    fmt(b),
                    fmt(b / a if a and b else None, "x", 2),
                    "",
                    "",
                )
            )

    def load(self, app: App, n: int, seconds: float, cap: int) -> dict[str, Any]:
        url = self.server(app).url
        sessions: list[Session] = []
        contexts = []
        failed_opens = 0
        try:
            for i in range(n):
                context = sh.new_context(self.browser)
                contexts.append(context)
                page = context.new_page()
                sessions.append(Session(app, page, sh.ConsoleLog().attach(page)))
                if i == 0:  # the first page tells whether there is anything to measure
                    try:
                        sh.goto(page, url, app.path, timeout=PAGE_TIMEOUT)
                    except sh.PageNotFound as error:
                        raise Unmeasurable(f"{app.name}: {error}") from error
                    sessions[0].prepare()
                else:  # the others load together
                    page.goto(
                        url + "/" + app.path.lstrip("/"), wait_until="commit", timeout=PAGE_TIMEOUT * 1000
                    )
            ready = sessions[:1]
            for session in sessions[1:]:
                try:
                    sh.wait_for_app(session.page, timeout=PAGE_TIMEOUT)
                    session.prepare()
                    ready.append(session)
                except (PlaywrightError, Unmeasurable, sh.PageNotFound):
                    failed_opens += 1
            if not ready:
                raise Unmeasurable(f"{app.name}: no session could open the page")
            start = time.perf_counter()
            deadline = start + seconds
            busy: set[int] = set()
            counts = [0] * len(ready)
            while True:
                progressed = False
                for i, session in enumerate(ready):
                    if i in busy:
                        if session.poll():
                            busy.discard(i)
                            progressed = True
                    elif counts[i] < cap and time.perf_counter() < deadline:
                        session.press()
                        counts[i] += 1
                        busy.add(i)
                        progressed = True
                if not busy and (time.perf_counter() >= deadline or all(c >= cap for c in counts)):
                    break
                if not progressed:
                    time.sleep(0.01)
            wall = time.perf_counter() - start
            exceptions = sum(len(sh.exception_texts(s.page)) for s in sessions)
            disconnected = sum(
                1
                for s in sessions
                if s.page.locator(f"{sh.APP}[data-test-connection-state='CONNECTED']").count() == 0
            )
            return {
                "chart_ms": [v for s in ready for v in s.chart_ms],
                "paint_ms": [v for s in ready for v in s.paint_ms],
                "rerun_ms": [v for s in ready for v in s.rerun_ms],
                "timeouts": sum(s.timeouts for s in ready),
                "exceptions": exceptions,
                "console": [e for s in sessions for e in s.log.errors],
                "disconnected": disconnected,
                "failed_opens": failed_opens,
                "wall_s": wall,
            }
        finally:
            for context in contexts:
                context.close()

    def print_summary(self) -> None:
        if not self.summary:
            return
        header = ("part", "figure", "reference", "target", "target vs ref", "goal", "verdict")
        widths = [max(len(str(row[i])) for row in [header, *self.summary]) for i in range(len(header))]
        print("\nSummary")
        for row in [header, *self.summary]:
            cells = [
                str(c).ljust(w) if i < 2 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            print("   " + "  ".join(cells))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="app.py", help="the app's script (default app.py)")
    parser.add_argument("--target-path", default="/", help="page path and query, e.g. '/explorer?clip=norm'")
    parser.add_argument("--slider-label", default=None, help="target slider's label (default: the first)")
    parser.add_argument("--chart-index", type=int, default=0, help="target chart for a); -1: any chart")
    parser.add_argument(
        "--frames-chart", type=int, default=None, help="target chart with frames for b) (default: the first)"
    )
    parser.add_argument("--frames-path", default=None, help="target page for b) (default: --target-path)")
    parser.add_argument("--reference", default=REFERENCE, help=f"reference script (default {REFERENCE})")
    parser.add_argument("--changes", type=int, default=None, help="a) slider changes per app (30; quick 10)")
    parser.add_argument("--scrubs", type=int, default=None, help="b) frames per app (120; quick 40)")
    parser.add_argument("--warm-starts", type=int, default=None, help="c) warm starts per app (3; quick 1)")
    parser.add_argument("--sessions", type=int, default=20, help="d) concurrent sessions (20)")
    parser.add_argument("--load-seconds", type=float, default=None, help="d) seconds per app (30; quick 10)")
    parser.add_argument("--load-changes", type=int, default=None, help="d) changes per session (20; quick 5)")
    parser.add_argument("--only", default="a,b,c,d", help="parts to run, e.g. a,c")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args(argv)
    defaults = {
        "changes": (10, 30),
        "scrubs": (40, 120),
        "warm_starts": (1, 3),
        "load_seconds": (10.0, 30.0),
        "load_changes": (5, 20),
    }
    for name, (quick, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    args.only = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = args.only - set("abcd")
    if unknown:
        parser.error(f"--only takes parts among a,b,c,d; got {sorted(unknown)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not sh.chromium_available():
        sys.exit(f"{sh.CHROMIUM} is missing: apt-get install chromium (Playwright must not download one)")
    reference = App("reference", args.reference, "/", REFERENCE_SLIDER, 0, REFERENCE_FRAMES_PATH, None)
    target = App(
        "target",
        args.target,
        args.target_path,
        args.slider_label,
        args.chart_index,
        args.frames_path or args.target_path,
        args.frames_chart,
    )
    apps = [reference, target]
    print(f"reference: {reference.script}   target: {target.script} at {target.path!r}")
    started = time.perf_counter()
    parts: dict[str, Callable[[list[App]], None]]
    with sync_playwright() as playwright, ExitStack() as stack:
        browser = sh.launch_chromium(playwright)
        stack.callback(browser.close)
        bench = Bench(args, browser, stack)
        # c) first: it starts its own servers, and the long-lived ones are not up yet.
        parts = {"c": bench.part_c, "a": bench.part_a, "b": bench.part_b, "d": bench.part_d}
        for name, run in parts.items():
            if name in args.only:
                run(apps)
    bench.print_summary()
    print(f"\ndone in {time.perf_counter() - started:.0f} s")
    for note in bench.notes:
        print(f"   {note}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {"args": vars(args) | {"only": sorted(args.only)}, **bench.results}
        args.json.write_text(json.dumps(figures, default=str))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
