"""Real-browser tests: a Streamlit server per script and Debian's Chromium through Playwright.

Fixtures:
  streamlit_server  session; a factory: streamlit_server("app.py", SOME_ENV="x") -> StreamlitServer
                    (one server per script and environment, stopped at the end)
  app_url           session; base URL of `streamlit run app.py`, e.g. "http://127.0.0.1:40123"
  browser           session; Chromium from /usr/bin/chromium (never a downloaded one)
  context, page     per test; the page counts Streamlit runs (see streamlit_helpers.INIT_SCRIPT)
  console_errors    per test; the live list of the page's console errors and uncaught errors
                    (less Streamlit's known deep-link 404s, see streamlit_helpers.BENIGN_404)

Helpers (import from .streamlit_helpers):
  goto(page, app_url, "/explorer?lr=0.5")   open a page; wait for the run, charts drawn, DOM quiet
  with expect_rerun(page): ...              act, then wait for the rerun that the action caused
  wait_for_rerun(page), wait_for_quiet(page), run_count(page)
  has_exception(page), exception_texts(page)
  plotly_charts(page), plotly_chart(page, i)  {"data", "layout", "frames"} as plain JSON
  slider(page, "Learning rate"), slider_labels(page)
  PageNotFound                              raised by goto for a path st.navigation lacks

Policy: every test here is marked `@pytest.mark.browser`. Without Chromium (or
the playwright package) the tests skip on a developer's machine, but fail when
the environment variable CI is set: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .streamlit_helpers import (
    CHROMIUM,
    ROOT,
    ConsoleLog,
    StreamlitServer,
    chromium_available,
    launch_chromium,
    new_context,
)

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

HERE = Path(__file__).resolve().parent
CONSOLE_ERRORS = pytest.StashKey[list[str]]()
_CALL_FAILED = pytest.StashKey[bool]()
SCREENSHOTS = ROOT / "screenshots"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def missing_browser_reason() -> str | None:
    problems = []
    if sync_playwright is None:
        problems.append("the playwright package is not installed (pip install -r requirements-dev.txt)")
    if not chromium_available():
        problems.append(f"{CHROMIUM} is missing (apt-get install chromium; see scripts/test.sh)")
    return "; ".join(problems) or None


def _is_here(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [i.nodeid for i in items if _is_here(i) and i.get_closest_marker("browser") is None]
    if unmarked:
        raise pytest.UsageError(
            "tests under tests/browser must be marked @pytest.mark.browser: " + ", ".join(unmarked)
        )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is None:
        return
    reason = missing_browser_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"browser tests cannot run: {reason}. CI is set: this fails, never skips.", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    assert sync_playwright is not None  # pytest_runtest_setup has skipped or failed otherwise
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    chromium = launch_chromium(playwright_driver)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[Callable[..., StreamlitServer]]:
    servers: dict[tuple[str, tuple[tuple[str, str], ...]], StreamlitServer] = {}

    def start(script: str = "app.py", **env: str) -> StreamlitServer:
        key = (script, tuple(sorted(env.items())))
        if key not in servers:
            servers[key] = StreamlitServer(script, env=env).start()
        return servers[key]

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def app_url(streamlit_server) -> str:
    """Base URL of the app (app.py); pages are reached with goto(page, app_url, "/explorer")."""
    return streamlit_server("app.py").url


@pytest.fixture
def context(browser):
    ctx = new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request: pytest.FixtureRequest):
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    log = ConsoleLog().attach(pg)
    request.node.stash[CONSOLE_ERRORS] = log.errors
    yield pg
    if request.node.stash.get(_CALL_FAILED, False):
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        path = SCREENSHOTS / f"{name}.png"
        try:
            pg.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failed page: {path}")
        except Exception as error:  # the page may be gone; the failure matters more
            print(f"no screenshot ({error})")
    pg.close()


@pytest.fixture
def console_errors(page, request: pytest.FixtureRequest) -> list[str]:
    """The page's console errors and uncaught exceptions so far (a live list)."""
    return request.node.stash[CONSOLE_ERRORS]
