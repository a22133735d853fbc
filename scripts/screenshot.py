"""Headless-Chromium screenshots of app pages: python scripts/screenshot.py URL OUT.png [width height]."""

import sys

from playwright.sync_api import sync_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    url, out = sys.argv[1], sys.argv[2]
    width, height = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (1600, 1000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=90000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=90000)
        page.wait_for_timeout(3000)
        page.screenshot(path=out, full_page=True)
        exceptions = page.locator("[data-testid='stException']").count()
        print(f"saved {out}; exceptions: {exceptions}; console errors: {errors}")
        browser.close()


if __name__ == "__main__":
    main()
