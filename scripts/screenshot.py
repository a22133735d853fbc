"""Headless-Chromium screenshot of an app page: python scripts/screenshot.py URL OUT.png [width height].

Uses the browser tests' launcher (Debian's /usr/bin/chromium with the flags this machine needs),
waits for the first run and every chart to be drawn, and captures the whole page (Streamlit
scrolls inside its own container, so the window is grown to the content first). For every page
at every size at once, see scripts/capture_all.py.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.capture_all import Size, full_length
from tests.browser.streamlit_helpers import (
    ConsoleLog,
    has_exception,
    launch_chromium,
    new_context,
    wait_for_app,
)


def main() -> None:
    url, out = sys.argv[1], sys.argv[2]
    width, height = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (1600, 1000)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = new_context(browser, viewport={"width": width, "height": height}).new_page()
        log = ConsoleLog().attach(page)
        page.goto(url)
        wait_for_app(page)
        page.wait_for_timeout(1000)
        full_length(page, Size("custom", width, height))
        page.screenshot(path=out, full_page=True)
        print(f"saved {out}; exception shown: {has_exception(page)}; console errors: {log.errors}")
        browser.close()


if __name__ == "__main__":
    main()
