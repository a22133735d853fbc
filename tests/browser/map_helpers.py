"""Reading and driving the Explorer's map component (ui/cliffs_map.js) from a browser test."""

from __future__ import annotations

import json
from typing import Any

MAP = "[data-testid='cliffs-map']"


def map_state(page: Any) -> dict:
    """What the map draws now, from its documented data- attributes (``plot["window"]`` is the
    shown, possibly zoomed, window; ``map_window`` the map's own)."""
    return page.evaluate(
        """(sel) => { const d = document.querySelector(sel).dataset;
            return {paths: JSON.parse(d.paths), lr: d.lr, c: d.c, step: Number(d.step),
                    draws: Number(d.draws), playing: d.playing === 'true', view: d.view,
                    styles: JSON.parse(d.styles), start: JSON.parse(d.start), guess: JSON.parse(d.guess),
                    exits: JSON.parse(d.exits), axes: JSON.parse(d.axes), plot: JSON.parse(d.plot),
                    zoom: Number(d.zoom), map_window: JSON.parse(d.mapWindow)}; }""",
        MAP,
    )


def point_on_page(page: Any, x: float, y: float) -> tuple[float, float]:
    """Where data point (x, y) of the map is on the page."""
    canvas = page.locator(f"{MAP} canvas")
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    box = canvas.bounding_box()
    plot = map_state(page)["plot"]
    (x0, x1), (y0, y1) = plot["window"]
    px = box["x"] + plot["left"] + (x - x0) / (x1 - x0) * plot["width"]
    py = box["y"] + plot["top"] + (y1 - y) / (y1 - y0) * plot["height"]
    return px, py


def click_map_at(page: Any, x: float, y: float) -> None:
    """Clicks the map at data point (x, y)."""
    px, py = point_on_page(page, x, y)
    page.mouse.move(px, py)
    page.mouse.click(px, py)


def thumb_x(box: dict, index: float, count: int) -> float:
    """Where a native range input puts value ``index`` of ``count`` (its thumb is ~16 px wide)."""
    return box["x"] + 8 + (box["width"] - 16) * index / (count - 1)


def labelled(label: str) -> str:
    return json.dumps(label)


def next_frame(page: Any) -> None:
    """Waits until the map has drawn what the last input asked for (pointer moves, wheels and
    touches are drawn on the next animation frame)."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
