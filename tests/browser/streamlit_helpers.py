"""Drive a Streamlit app in a real browser: start a server, wait for reruns, read charts.

Shared by the browser tests (`tests/browser/`) and the browser benchmark
(`benchmarks/bench_app.py`), so it needs neither pytest nor the app's code.
Playwright is imported lazily: this module imports even where it is missing.

Two facts about Streamlit 1.67 shape the waits here:

- `[data-testid='stApp'][data-test-script-state]` is React state: a fast
  rerun can go `notRunning -> running -> notRunning` inside one render, so the
  attribute never shows `running` (about every second rerun of a small app).
  Waiting for `notRunning` right after an input can return before the rerun
  has even started. `INIT_SCRIPT` therefore counts runs from the websocket
  itself (`new_session` / `script_finished` messages) and `expect_rerun`
  waits for the count to move.
- Charts load lazily: a `stSkeleton` stands in while the Plotly bundle loads,
  and a chart is hidden until Plotly knows its width. `goto` waits for both.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never a downloaded one (see the house-style notes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

APP = "[data-testid='stApp']"
EXCEPTION = "[data-testid='stException']"
PLOTLY_CHART = "[data-testid='stPlotlyChart']"
PLOTLY_PLOT = ".js-plotly-plot"
# st.slider in 1.67 is a react-aria slider: the thumb is a visually hidden
# <input type="range" aria-label="<label>">. It has the ARIA role "slider"
# implicitly, so a CSS `[role='slider']` finds nothing. (Older Streamlit used a
# div with role="slider"; both are accepted.)
SLIDER_THUMB = "input[type='range'], [role='slider']"

# Installed before any page script runs (context.add_init_script). Defines
# window.__cliffs: run counters read from Streamlit's websocket, a chart-change
# probe with in-page timestamps, and chart readers.
INIT_SCRIPT = (Path(__file__).with_name("probe.js")).read_text()


class PageNotFound(LookupError):
    """The URL names a page the app's st.navigation does not have."""


def launch_chromium(playwright: Playwright, executable: Path = CHROMIUM) -> Browser:
    """Debian's Chromium, headless; Playwright never downloads a browser here."""
    return playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)


def new_context(browser: Browser, **kwargs: Any) -> BrowserContext:
    """A browser context whose pages count Streamlit runs (see INIT_SCRIPT)."""
    kwargs.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(**kwargs)
    context.add_init_script(INIT_SCRIPT)
    return context


# --- Streamlit server -------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """`streamlit run <script>` on 127.0.0.1 as a child process, from the repo root.

    Use as a context manager, or call `start()` and `stop()`. Output goes to a
    temporary file (a pipe could fill up and stall the server); `log()` reads it.
    """

    script: str | os.PathLike[str] = "app.py"
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    startup_timeout: float = 60.0
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    spawned_at: float = 0.0
    healthy_at: float = 0.0
    _log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.script),
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            # No file watcher: nothing reruns because a file changed mid-test.
            "--server.fileWatcherType",
            "none",
        ]

    def spawn(self) -> None:
        """Starts the process and returns at once (see `wait_healthy`)."""
        self.port = free_port()
        # Closed in stop(); a pipe instead could fill up and stall the server.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.spawned_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command(), cwd=self.cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.perf_counter() + self.startup_timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.proc.returncode} before it was healthy:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200 and response.read().strip() == b"ok":
                        self.healthy_at = time.perf_counter()
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"streamlit not healthy after {self.startup_timeout:.0f} s:\n{self.log()}")

    def start(self, attempts: int = 3) -> StreamlitServer:
        """Spawns and waits for /_stcore/health; retries on another port if one was taken."""
        for attempt in range(attempts):
            self.spawn()
            try:
                self.wait_healthy()
                return self
            except RuntimeError:
                address_taken = "address already in use" in self.log().lower()
                self.stop()
                if not address_taken or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def log(self) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def chromium_available(executable: Path = CHROMIUM) -> bool:
    return executable.is_file() and os.access(executable, os.X_OK)


# --- Waiting for the app ----------------------------------------------------


def _ms(timeout: float) -> float:
    return timeout * 1000.0


def run_count(page: Page) -> int:
    """Script runs finished so far in this page (superseded runs not counted)."""
    return int(page.evaluate("() => window.__cliffs ? window.__cliffs.finished : 0"))


def wait_for_rerun(page: Page, since: int | None = None, timeout: float = 60.0, settle: float = 0.15) -> None:
    """Waits until the app is connected, no script run is in flight, and no skeleton is left.

    Args:
      page: a page opened in a context from `new_context` (or with INIT_SCRIPT).
      since: a `run_count(page)` taken *before* the input that triggers the
        rerun; the wait then also needs a run to have finished after it. Without
        it, the app must stay idle for `settle` seconds, which covers a page that
        is mid-run or about to start one (but not a server that has yet to see
        the input: pass `since`, or use `expect_rerun`).
      timeout: seconds.
      settle: seconds of idleness required when `since` is None.
    """
    if not page.evaluate("() => !!window.__cliffs"):
        # Without the init script, fall back to Streamlit's own attribute wait.
        page.locator(f"{APP}[data-test-connection-state='CONNECTED']").wait_for(
            state="attached", timeout=_ms(timeout)
        )
        page.wait_for_timeout(_ms(settle))
        page.locator(f"{APP}[data-test-script-state='notRunning']").wait_for(
            state="attached", timeout=_ms(timeout)
        )
        return
    if since is not None:
        page.wait_for_function(
            "(since) => window.__cliffs.finished > since && window.__cliffs.idle()",
            arg=since,
            timeout=_ms(timeout),
        )
        wait_for_quiet(page)
        return
    deadline = time.perf_counter() + timeout
    while True:
        remaining = max(deadline - time.perf_counter(), 0.001)
        page.wait_for_function("() => window.__cliffs.idle()", timeout=_ms(remaining))
        before = page.evaluate("() => [window.__cliffs.started, window.__cliffs.finished]")
        page.wait_for_timeout(_ms(settle))
        after = page.evaluate(
            "() => [window.__cliffs.started, window.__cliffs.finished, window.__cliffs.idle()]"
        )
        if after[:2] == before and after[2]:
            wait_for_quiet(page)
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"app never settled within {timeout} s")


def wait_for_quiet(page: Page, quiet: float = 0.1, limit: float = 3.0) -> bool:
    """Waits (at most `limit` seconds) until the DOM has not changed for `quiet` seconds.

    Charts go on rendering after a run has finished (Streamlit draws a chart,
    then draws it again at its measured width), so reading a chart right
    after the run can see the old figure. Returns False if the page never
    went quiet (an animation, say): a soft wait, never an error.
    """
    try:
        page.wait_for_function("(ms) => window.__cliffs.quiet(ms)", arg=_ms(quiet), timeout=_ms(limit))
        return True
    except Exception as error:  # playwright's TimeoutError; the module imports playwright lazily
        if "Timeout" not in type(error).__name__ + str(error):
            raise
        return False


@contextlib.contextmanager
def expect_rerun(page: Page, timeout: float = 60.0) -> Iterator[None]:
    """Waits, on leaving the block, for a rerun that the block's input caused.

    with expect_rerun(page):
        slider(page, "Learning rate").press("ArrowRight")
    """
    since = run_count(page)
    yield
    wait_for_rerun(page, since=since, timeout=timeout)


def wait_for_charts(page: Page, timeout: float = 60.0, at_least: int = 0) -> int:
    """Waits until every Plotly chart on the page is drawn; returns how many there are."""
    page.wait_for_function(
        """(atLeast) => {
            // st.plotly_chart boxes, and the app's own plot components (ui.plot), which
            // load Plotly.js themselves and may draw a moment after the run.
            const boxes = document.querySelectorAll("[data-testid='stPlotlyChart'], .cliffs-plot");
            const plots = window.__cliffs ? window.__cliffs.plots()
                : Array.from(document.querySelectorAll('.js-plotly-plot'));
            const drawn = plots.filter((el) => el.data && el._fullLayout && el.querySelector('.main-svg'));
            return boxes.length >= atLeast && drawn.length >= boxes.length
                && !document.querySelector("[data-testid='stSkeleton']");
        }""",
        arg=at_least,
        timeout=_ms(timeout),
    )
    if page.evaluate("() => !!window.__cliffs"):
        wait_for_quiet(page)
    return chart_count(page)


def goto(
    page: Page, base_url: str, path_and_query: str = "/", timeout: float = 90.0, charts: int = 0
) -> None:
    """Opens `base_url + path_and_query` and waits for the first run and its charts.

    Returns once the run has finished, no skeleton is left, every Plotly
    chart is drawn (or at least `charts` of them, if given) and the page has
    stopped changing. A page with no chart returns after the run. Raises
    PageNotFound if Streamlit answered that the path names no page.
    """
    url = base_url.rstrip("/") + "/" + path_and_query.lstrip("/")
    page.goto(url, wait_until="domcontentloaded", timeout=_ms(timeout))
    wait_for_app(page, timeout=timeout, charts=charts)


def wait_for_app(page: Page, timeout: float = 90.0, charts: int = 0) -> None:
    """After a navigation: waits for the first run, no skeleton, and every chart drawn (see `goto`)."""
    page.locator("[data-testid='stAppViewContainer']").wait_for(state="attached", timeout=_ms(timeout))
    if page.evaluate("() => !!window.__cliffs"):
        page.wait_for_function(
            "() => window.__cliffs.finished > 0 && window.__cliffs.idle()", timeout=_ms(timeout)
        )
        missing = page.evaluate("() => window.__cliffs.pageNotFound")
        if missing:
            raise PageNotFound(f"Streamlit has no page at {missing!r}: it ran the main page instead")
    wait_for_rerun(page, timeout=timeout)
    wait_for_charts(page, timeout=timeout, at_least=charts)


# --- Reading the page --------------------------------------------------------


def has_exception(page: Page) -> bool:
    """Whether Streamlit shows an exception box (st.exception or an uncaught error)."""
    return page.locator(EXCEPTION).count() > 0


def exception_texts(page: Page) -> list[str]:
    return page.locator(EXCEPTION).all_inner_texts()


def chart_count(page: Page) -> int:
    return int(page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length"))


def plotly_charts(page: Page) -> list[dict[str, Any]]:
    """Every Plotly chart in page order, as {"data", "layout", "frames"} (plain JSON).

    Numpy arrays sent as base64 ({"dtype", "bdata"}) come back as lists (2-D
    arrays as lists of rows); Plotly.js' private keys are left out; "frames"
    lists the figure's frame names.
    """
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map((el) =>
            window.__cliffs ? window.__cliffs.readChart(el)
                : JSON.parse(JSON.stringify({data: el.data, layout: el.layout, frames: []},
                    (k, v) => (k && k[0] === '_' ? undefined : v))))"""
    )


def plotly_chart(page: Page, index: int = 0) -> dict[str, Any]:
    charts = plotly_charts(page)
    if index >= len(charts):
        raise IndexError(f"chart {index} asked for, the page has {len(charts)}")
    return charts[index]


def slider(page: Page, label: str | None = None) -> Locator:
    """The focusable thumb of an st.slider: the first one, or the one labelled `label`.

    Matches the aria-label (the label as plain text) or the visible label.
    """
    sliders = page.locator("[data-testid='stSlider']")
    if label is None:
        return sliders.first.locator(SLIDER_THUMB).first
    thumbs = page.locator(
        f"[data-testid='stSlider'] input[type='range'][aria-label={json.dumps(label)}], "
        f"[data-testid='stSlider'] [role='slider'][aria-label={json.dumps(label)}]"
    )
    if thumbs.count() > 0:
        return thumbs.first
    by_text = sliders.filter(has=page.locator("[data-testid='stWidgetLabel']", has_text=label)).locator(
        SLIDER_THUMB
    )
    return by_text.first


def slider_labels(page: Page) -> list[str]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll("[data-testid='stSlider']")).map((s) => {
            const t = s.querySelector("input[type='range'], [role='slider']");
            return (t && t.getAttribute('aria-label')) || s.innerText.split('\\n')[0];
        })"""
    )


# Streamlit's own noise, not the app's: on a deep link (/explorer) the
# frontend first looks for its server under the page's path, gets 404 for
# /explorer/_stcore/health and /explorer/_stcore/host-config, then uses "/"
# (streamlit/streamlit#7074, open). Chromium logs each 404 as a console error.
BENIGN_404 = re.compile(r"^https?://[^/]+/.+/_stcore/(health|host-config)$")


@dataclass
class ConsoleLog:
    """Console errors and uncaught page errors of one page, as they happen.

    `errors` leaves out the known-benign 404s above (kept in `ignored`).
    """

    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> ConsoleLog:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_pageerror)
        return self

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        text = f"console.error: {message.text}" + (f" ({url})" if url else "")
        if message.text.startswith("Failed to load resource") and BENIGN_404.match(url):
            self.ignored.append(text)
        else:
            self.errors.append(text)

    def _on_pageerror(self, error: Any) -> None:
        self.errors.append(f"pageerror: {error}")
