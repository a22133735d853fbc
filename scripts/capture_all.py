"""Screenshots of every page and every Explorer preset at desktop, projector and phone sizes.

    python scripts/capture_all.py                      # starts its own server on a free port
    python scripts/capture_all.py --url http://127.0.0.1:8501 --out /tmp/shots --only explorer

Sizes: 1400x1000 ("desktop"), 1920x1080 with ``present=1`` in the URL ("projector") and
390x844 ("phone"). Files are named ``<target>-<size>.png`` (e.g. ``preset-tenfold-phone.png``).
Prints every file written, then every picture whose page showed an exception box or logged
console errors, and exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from landscapes.views import config as cf  # noqa: E402
from tests.browser.streamlit_helpers import (  # noqa: E402
    ConsoleLog,
    StreamlitServer,
    exception_texts,
    launch_chromium,
    new_context,
    wait_for_app,
)

PAGES = {"home": "/", "explorer": "/explorer", "sweeps": "/sweeps", "rnn": "/rnn", "learn": "/learn"}


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int
    query: tuple[tuple[str, str], ...] = ()


SIZES = (
    Size("desktop", 1400, 1000),
    Size("projector", 1920, 1080, (("present", "1"),)),
    Size("phone", 390, 844),
)


def targets() -> list[tuple[str, str, dict[str, str]]]:
    """(name, path, query) for every page, every Explorer preset and the 3-D view."""
    out = [(name, path, {}) for name, path in PAGES.items()]
    out += [(f"preset-{p.key}", "/explorer", cf.to_query(p.config)) for p in cf.PRESETS]
    out.append(("explorer-3d", "/explorer", {"view3d": "1"}))
    return out


def url_for(base: str, path: str, query: dict[str, str], size: Size) -> str:
    merged = {**query, **dict(size.query)}
    tail = f"?{urlencode(merged, safe=',')}" if merged else ""
    return base.rstrip("/") + path + tail


# Streamlit scrolls inside its own container, not the document, so a "full page"
# screenshot would stop at the window's bottom: grow the window to the content's height.
CONTENT_HEIGHT = """() => Math.max(document.documentElement.scrollHeight, ...Array.from(
    document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], section'))
    .map((el) => el.scrollHeight))"""


def full_length(page, size: Size, limit: int = 16000) -> None:
    height = min(int(page.evaluate(CONTENT_HEIGHT)), limit)
    if height > size.height:
        page.set_viewport_size({"width": size.width, "height": height})
        page.wait_for_timeout(600)


def capture(base: str, out: Path, only: list[str], timeout: float) -> tuple[list[Path], list[str]]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for size in SIZES:
                context = new_context(browser, viewport={"width": size.width, "height": size.height})
                for name, path, query in targets():
                    shot = f"{name}-{size.name}"
                    if only and not any(word in shot for word in only):
                        continue
                    file = out / f"{shot}.png"
                    page = context.new_page()
                    log = ConsoleLog().attach(page)
                    try:
                        page.goto(url_for(base, path, query, size), wait_until="domcontentloaded")
                        wait_for_app(page, timeout=timeout)
                        page.wait_for_timeout(800)  # the deferred history chart and fonts
                        full_length(page, size)
                        page.screenshot(path=str(file), full_page=True)
                        written.append(file)
                        shown = exception_texts(page)
                        if shown:
                            problems.append(f"{file.name}: exception shown: {shown[0][:300]}")
                    except Exception as error:  # a page that never settles is a finding, not a crash
                        problems.append(f"{file.name}: not captured ({type(error).__name__}: {error})")
                    problems += [f"{file.name}: {e[:300]}" for e in log.errors]
                    page.close()
                context.close()
        finally:
            browser.close()
    return written, problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running app (default: start one on a free port)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/cliffs-shots"))
    parser.add_argument("--only", nargs="*", default=[], help="capture only names containing one of these")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per page")
    args = parser.parse_args()
    if args.url:
        written, problems = capture(args.url, args.out, args.only, args.timeout)
    else:
        with StreamlitServer(cwd=ROOT) as server:
            written, problems = capture(server.url, args.out, args.only, args.timeout)
    for file in written:
        print(file)
    print(f"{len(written)} screenshots in {args.out}")
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
