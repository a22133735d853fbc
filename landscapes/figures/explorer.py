"""Plotly figure builders for the Explorer: pure functions from data to figure specs.

Each builder returns a plain Plotly figure dict (``{"data", "layout", "frames"}``):
building go.Figure objects validates every property and costs hundreds of
milliseconds for a map with playback frames, far too slow for a slider. The
tests validate every spec with ``go.Figure(spec)``; ``as_figure`` does the
same for notebook use.

Plotly has no log colour scale, so surfaces are drawn as log10(loss) with the
colour bar relabelled in loss units. Axis ranges are fixed to the landscape's
window. A path that leaves it is drawn up to the border and no further (a step
from outside to outside is never drawn, even where its straight line would cross
the map); an arrow at the border says at which step and where it went, and a path
that comes back is drawn again from where it re-enters. Labels are placed so that
they overlap neither each other nor the start and end markers (`place_labels`).
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.engine import Trajectory
from ..core.mesh import Surface
from ..core.registry import Landscape, Window
from ..views.config import own_threshold
from ..views.explorer import ExplorerRuns, SettingSweep, border_point, exit_events
from .palette import ACCENT, MODE_COLORS, MODE_DASHES, MODE_LABELS, MODE_MARKERS, WALL_COLOR

Spec = dict[str, Any]

LOSS_FLOOR = 1e-12  # losses below this share the lowest colour (log10 of 0 is -inf)
SURFACE_COLORSCALE = [  # light for low loss, so the coloured paths stay readable everywhere
    [0.0, "#ffffff"],
    [0.3, "#ece8df"],
    [0.6, "#c9c1b1"],
    [0.85, "#a39a88"],
    [1.0, "#857b69"],
]
MAX_FRAMES = 121  # playback frames at most (long runs step through every n-th step; each costs render time)


def log_loss(loss: np.ndarray) -> np.ndarray:
    """log10 of the loss, floored at LOSS_FLOOR."""
    return np.log10(np.maximum(loss, LOSS_FLOOR))


def decade_ticks(z: np.ndarray) -> tuple[list[int], list[str]]:
    """Colour-bar ticks at whole decades of log10 values, labelled in loss units."""
    low, high = math.floor(np.nanmin(z)), math.ceil(np.nanmax(z))
    step = max(1, math.ceil((high - low) / 7))
    values = list(range(low, high + 1, step))
    names = {0: "1", 1: "10", -1: "0.1", 2: "100"}
    return values, [names.get(v, f"1e{v}") for v in values]


def rounded(values: np.ndarray, digits: int = 6) -> list[float | None]:
    """Plain floats with a few significant digits (smaller JSON, same picture); NaN -> None."""
    a = np.asarray(values, dtype=float).ravel()
    with np.errstate(all="ignore"):
        magnitude = np.where(a != 0, np.floor(np.log10(np.abs(a))), 0.0)
        scale = 10.0 ** (digits - 1 - magnitude)
        out = (np.round(a * scale) / scale).tolist()
    if not np.isfinite(a).all():
        out = [v if math.isfinite(v) else None for v in out]
    return out


def loss_colorbar(zmin: float, zmax: float) -> Spec:
    """A colour bar over log10(loss) from zmin to zmax, labelled in loss units."""
    tickvals, ticktext = decade_ticks(np.array([zmin, zmax]))
    return {
        "title": {"text": "loss", "side": "right"},
        "tickvals": tickvals,
        "ticktext": ticktext,
        "thickness": 14,
        "len": 0.85,
    }


def colour_range(z: np.ndarray) -> tuple[float, float]:
    """The log-loss range the colours span: the top of the surface down to its 2nd
    percentile (at most 8 decades), so a deep but tiny ravine does not wash out the rest."""
    high = float(np.nanmax(z))
    low = max(float(np.nanpercentile(z, 2)), high - 8.0)
    return (low, high) if high > low else (high - 1.0, high)


def contour_trace(surface: Surface) -> Spec:
    """The loss surface as filled contours of log10(loss), colour bar in loss units."""
    z = log_loss(surface.loss)
    zmin, zmax = colour_range(z)
    return {
        "type": "contour",
        "x": rounded(surface.x),
        "y": rounded(surface.y),
        "z": [rounded(row, 4) for row in z],
        "colorscale": SURFACE_COLORSCALE,
        "zmin": zmin,
        "zmax": zmax,
        "zauto": False,
        "autocontour": False,
        "contours": {
            "showlines": True,
            "coloring": "fill",
            "start": zmin,
            "end": zmax,
            "size": (zmax - zmin) / 20,
        },
        "line": {"width": 0.4, "color": "rgba(80,80,80,0.35)"},
        "colorbar": loss_colorbar(zmin, zmax),
        "hovertemplate": "(%{x:.3f}, %{y:.3f})<br>log10 loss %{z:.2f}<extra></extra>",
        "name": "loss",
    }


def _colour_table(n: int = 256) -> np.ndarray:
    """SURFACE_COLORSCALE sampled at n points, as uint8 RGB."""
    stops = np.array([s for s, _ in SURFACE_COLORSCALE])
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in SURFACE_COLORSCALE], float)
    t = np.linspace(0, 1, n)
    return np.column_stack([np.interp(t, stops, rgb[:, k]) for k in range(3)]).round().astype(np.uint8)


def surface_image(surface: Surface, levels: int = 20) -> tuple[str, float, float]:
    """The loss surface as a PNG (a data URI) coloured by log10(loss), with iso-lines.

    A browser draws one image far faster than it computes and draws a filled
    contour, and the picture is the same. Returns the URI and the log10 range
    of the colours (for the colour bar).
    """
    from PIL import Image  # pillow: a dependency of the app; only figures need it

    z = log_loss(surface.loss)
    zmin, zmax = colour_range(z)
    scaled = np.clip((z - zmin) / (zmax - zmin), 0.0, 1.0)
    table = _colour_table()
    pixels = table[(scaled * 255).round().astype(int)].astype(float)
    # Iso-lines: darken pixels where the level changes from a neighbour's.
    band = np.floor(scaled * levels - 1e-9)
    edge = np.zeros_like(band, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    pixels[edge] *= 0.86
    image = Image.fromarray(pixels[::-1].round().astype(np.uint8), "RGB")  # row 0 is the top
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return uri, zmin, zmax


def surface_background(surface: Surface, image: tuple[str, float, float]) -> tuple[Spec, Spec]:
    """The image as a layout image covering the window, and an invisible trace that
    carries the colour bar (in loss units)."""
    uri, zmin, zmax = image
    x0, x1, y0, y1 = surface.x[0], surface.x[-1], surface.y[0], surface.y[-1]
    layout_image = {
        "source": uri,
        "xref": "x",
        "yref": "y",
        "x": float(x0),
        "y": float(y1),
        "sizex": float(x1 - x0),
        "sizey": float(y1 - y0),
        "xanchor": "left",
        "yanchor": "top",
        "sizing": "stretch",
        "layer": "below",
    }
    colour_bar = {
        "type": "scatter",
        "x": [None, None],
        "y": [None, None],
        "mode": "markers",
        "marker": {
            "color": [zmin, zmax],
            "cmin": zmin,
            "cmax": zmax,
            "colorscale": SURFACE_COLORSCALE,
            "showscale": True,
            "colorbar": loss_colorbar(zmin, zmax),
        },
        "name": "loss",
        "showlegend": False,
        "hoverinfo": "skip",
    }
    return layout_image, colour_bar


def wall_traces(scape: Landscape, params: dict[str, float], window: Window) -> list[Spec]:
    """The analytic walls (where the cliff stands) as dashed lines."""
    return [
        {
            "type": "scatter",
            "x": rounded(wall[:, 0]),
            "y": rounded(wall[:, 1]),
            "mode": "lines",
            "line": {"color": WALL_COLOR, "width": 2.5, "dash": "longdash"},
            "name": "the wall (analytic)",
            "legendgroup": "wall",
            "showlegend": i == 0,
            "hoverinfo": "name",
        }
        for i, wall in enumerate(scape.walls(params, window))
    ]


def _inside(points: np.ndarray, window: Window) -> np.ndarray:
    (x0, x1), (y0, y1) = window
    x, y = points[..., 0], points[..., 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def visible_segment(p: np.ndarray, q: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of the step p -> q to draw: all of it inside the window, cut at the border
    where it leaves or re-enters, and nothing when both ends lie outside (such a step
    jumped over the map; drawing its straight line would invent a path across it)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    inside_p, inside_q = bool(_inside(p, window)), bool(_inside(q, window))
    if inside_p and inside_q:
        return p, q
    if inside_p:
        return p, border_point(p, q, window)
    if inside_q:
        return border_point(q, p, window), q
    return None


def _append_point(xs: list, ys: list, steps: list[int | None], x, y, step: int | None) -> None:
    xs.append(x)
    ys.append(y)
    steps.append(step)


def path_pieces(params: np.ndarray, window: Window) -> tuple[list, list, list[int | None]]:
    """A path as polyline coordinates with gaps (None): every point inside the window, the
    border point where a step leaves or re-enters it, nothing of steps outside. The third
    list gives each drawn point's step (None for border points and gaps)."""
    xs: list = []
    ys: list = []
    steps: list[int | None] = []
    inside = _inside(params, window)
    for i in range(len(params)):
        if i > 0 and inside[i] != inside[i - 1]:
            segment = visible_segment(params[i - 1], params[i], window)
            assert segment is not None, "one end of this step is inside, so part of it is drawn"
            a, b = segment
            border = b if inside[i - 1] else a
            if not inside[i - 1] and xs:  # re-entry: a new piece starts at the border
                _append_point(xs, ys, steps, None, None, None)
            _append_point(xs, ys, steps, float(border[0]), float(border[1]), None)
        if inside[i]:
            _append_point(xs, ys, steps, float(params[i, 0]), float(params[i, 1]), i)
    return xs, ys, steps


def path_traces(mode: str, run: Trajectory, window: Window) -> list[Spec]:
    """A mode's path (lines and markers, cut at the window's border) and rings where clipping fired."""
    color = MODE_COLORS[mode]
    label = MODE_LABELS[mode]
    xs, ys, steps = path_pieces(run.params, window)
    loss = rounded(run.loss, 4)
    hover = [
        None
        if x is None
        else f"{label}<br>off the map here"
        if k is None
        else f"{label}<br>step {k}<br>({x:.4f}, {y:.4f})<br>loss {loss[k]:.3g}"
        for x, y, k in zip(xs, ys, steps, strict=True)
    ]
    path = {
        "type": "scatter",
        "x": rounded(np.array(xs, dtype=float)),
        "y": rounded(np.array(ys, dtype=float)),
        "mode": "lines+markers",
        "line": {"color": color, "width": 2.5, "dash": MODE_DASHES[mode]},
        # border points are not steps: no marker there
        "marker": {
            "color": color,
            "size": [0 if k is None else 5 for k in steps],
            "symbol": MODE_MARKERS[mode],
        },
        "name": label,
        "legendgroup": mode,
        "customdata": steps,
        "hovertext": hover,
        "hovertemplate": "%{hovertext}<extra></extra>",
    }
    fired = np.flatnonzero(run.clipped)
    fired = fired[_inside(run.params[fired], window)]  # a ring off the map would sit on its edge
    rings = {
        "type": "scatter",
        "x": rounded(run.params[fired, 0]),
        "y": rounded(run.params[fired, 1]),
        "mode": "markers",
        "marker": {
            "color": "rgba(0,0,0,0)",
            "size": 14,
            "symbol": "circle-open",
            "line": {"color": color, "width": 2},
        },
        "name": f"{label}: clipped here",
        "legendgroup": mode,
        "showlegend": False,
        "customdata": [[int(i), g] for i, g in zip(fired, rounded(run.grad_norm[fired], 4), strict=True)],
        "hovertemplate": "clipped at step %{customdata[0]}<br>raw |g| = %{customdata[1]:.3g}<extra></extra>",
    }
    return [path, rings]


def _head_xy(run: Trajectory, k: int, window: Window) -> tuple[list, list]:
    """The step from point k-1 to point k (just the start at k = 0), for playback, cut at
    the window's border (nothing while the path is off the map)."""
    k = min(k, len(run.params) - 1)
    if k == 0:
        points = run.params[:1]
        return (rounded(points[:, 0]), rounded(points[:, 1])) if _inside(points[0], window) else ([], [])
    part = visible_segment(run.params[k - 1], run.params[k], window)
    if part is None:
        return [], []
    points = np.array(part)
    return rounded(points[:, 0]), rounded(points[:, 1])


def head_trace(mode: str, run: Trajectory, k: int, window: Window) -> Spec:
    x, y = _head_xy(run, k, window)
    color = MODE_COLORS[mode]
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "lines+markers",
        "line": {"color": color, "width": 5},
        "marker": {
            "color": color,
            "size": 15,
            "symbol": MODE_MARKERS[mode],
            "line": {"color": "white", "width": 1.5},
        },
        "name": f"{MODE_LABELS[mode]} now",
        "legendgroup": mode,
        "showlegend": False,
        "hoverinfo": "skip",
    }


# --- labels that overlap nothing ---------------------------------------------------

#: The smallest plot area (pixels) a map is drawn in: a phone's. Labels are placed for
#: it, anchored in data units; a larger plot only moves them further apart.
LABEL_PLOT_PX = (260.0, 280.0)
CHAR_EM = 0.62  # average glyph width in em of the sans-serif fonts Plotly falls back to
MARKER_RADIUS_PX = 11.0  # the start star and the end markers (size 15-18 px)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels (y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, gap: float = 2.0) -> bool:
        return not (
            self.x1 + gap <= other.x0
            or other.x1 + gap <= self.x0
            or self.y1 + gap <= other.y0
            or other.y1 + gap <= self.y0
        )

    def contains(self, x: float, y: float, radius: float = 0.0) -> bool:
        return self.x0 - radius < x < self.x1 + radius and self.y0 - radius < y < self.y1 + radius


def label_size(text: str, font_size: float, pad: float = 3.0) -> tuple[float, float]:
    """Width and height in pixels of an annotation's box (its lines, padding and border)."""
    lines = text.split("<br>")
    width = max(len(line) for line in lines) * CHAR_EM * font_size + 2 * (pad + 1)
    height = len(lines) * 1.3 * font_size + 2 * (pad + 1)
    return width, height


def to_pixels(point, window: Window, plot: tuple[float, float] = LABEL_PLOT_PX) -> tuple[float, float]:
    (x0, x1), (y0, y1) = window
    return (
        (float(point[0]) - x0) / (x1 - x0) * plot[0],
        (y1 - float(point[1])) / (y1 - y0) * plot[1],
    )


def from_pixels(px: float, py: float, window: Window, plot: tuple[float, float] = LABEL_PLOT_PX):
    (x0, x1), (y0, y1) = window
    return x0 + px / plot[0] * (x1 - x0), y1 - py / plot[1] * (y1 - y0)


def _better(best, centre, size, rank, placed, markers, points, plot):
    """The better of ``best`` and a label box at ``centre``: inside the plot, overlapping
    no placed box and no marker (hard), covering few path points (soft), then by ``rank``."""
    (cx, cy), (width, height) = centre, size
    box = Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    if box.x0 < 0 or box.y0 < 0 or box.x1 > plot[0] or box.y1 > plot[1]:
        return best
    hard = sum(box.overlaps(other) for other in placed) + sum(
        box.contains(mx, my, MARKER_RADIUS_PX) for mx, my in markers
    )
    covered = int(
        np.count_nonzero(
            (points[:, 0] > box.x0)
            & (points[:, 0] < box.x1)
            & (points[:, 1] > box.y0)
            & (points[:, 1] < box.y1)
        )
    )
    cost = (1000 * hard + covered, *rank)
    return (cost, box, (cx, cy)) if best is None or cost < best[0] else best


def place_labels(
    labels: list[tuple[np.ndarray, np.ndarray, tuple[float, float]]],
    markers: list[np.ndarray],
    points: list[np.ndarray],
    window: Window,
    plot: tuple[float, float] = LABEL_PLOT_PX,
) -> list[tuple[float, float]]:
    """Centres (data units) for labels pointing at border points, one after another.

    Each label is (head, direction, (width, height)): the arrow's head on the border, the
    step's direction (outwards) and the box size in pixels. A label goes inside the plot,
    back along its step or turned from it, on the first spot that overlaps no label placed
    before and no marker (the start and the end points); among those, the one covering
    the fewest path points. ``points`` are the drawn path points (a soft cost).
    """
    placed: list[Box] = []
    pixels_markers = [to_pixels(m, window, plot) for m in markers]
    pixel_points = np.array([to_pixels(p, window, plot) for p in points]).reshape(-1, 2)
    centres = []
    for head, direction, (width, height) in labels:
        hx, hy = to_pixels(head, window, plot)
        d = _pixel_direction(direction, window, plot)
        size = (width, height)
        best = None
        # First near the arrow's head, back along the step or turned from it...
        for distance in (60.0, 90.0, 125.0, 165.0, 210.0):
            for turn in (0, 25, -25, 50, -50, 75, -75, 100, -100, 135, -135, 180):
                a = math.radians(turn)
                c, s_ = math.cos(a), math.sin(a)
                back = -np.array([d[0] * c - d[1] * s_, d[0] * s_ + d[1] * c])
                centre = (hx + distance * back[0], hy + distance * back[1])
                rank = (distance, abs(turn))
                best = _better(best, centre, size, rank, placed, pixels_markers, pixel_points, plot)
            if best is not None and best[0][0] == 0:
                break  # a free spot at this distance: nearer is clearer
        if best is None or best[0][0] >= 1000:
            # ...else anywhere in the plot that is free, the nearest such spot.
            for cx in np.arange(width / 2, plot[0] - width / 2 + 1e-9, 10.0):
                for cy in np.arange(height / 2, plot[1] - height / 2 + 1e-9, 10.0):
                    rank = (float(np.hypot(cx - hx, cy - hy)), 0.0)
                    best = _better(
                        best, (float(cx), float(cy)), size, rank, placed, pixels_markers, pixel_points, plot
                    )
        if best is None:  # wider or taller than the plot: as far inside as it goes, beside the head
            cx, cy = hx - 60.0 * d[0], hy - 60.0 * d[1]
            cx = min(max(cx, width / 2), plot[0] - width / 2) if width < plot[0] else plot[0] / 2
            cy = min(max(cy, height / 2), plot[1] - height / 2) if height < plot[1] else plot[1] / 2
            best = (None, Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2), (cx, cy))
        placed.append(best[1])
        px, py = best[2]
        centres.append(from_pixels(px, py, window, plot))
    return centres


def exit_label(i: int, inside: np.ndarray, outside: np.ndarray, window: Window, who: str = "") -> str:
    """What the arrow at the border says: the step, and where it went. A step longer than
    the window is wide threw the path; a shorter one only walked off the edge."""
    (x0, x1), (y0, y1) = window
    jump = float(np.hypot(*(outside - inside)))
    where = f"({outside[0]:.3g}, {outside[1]:.3g})"
    thrown = jump > max(x1 - x0, y1 - y0)
    if who:  # several paths: who on a line of its own, so no line outgrows a phone's plot
        return f"step {i} ({who}):<br>{'thrown to' if thrown else 'left the map, to'}<br>{where}"
    return f"step {i}: thrown to<br>{where}" if thrown else f"step {i}: left the map,<br>to {where}"


def _same_exit(a: tuple, b: tuple) -> bool:
    """Two paths leaving at the same step to the same point (they were identical so far)."""
    return a[1] == b[1] and np.allclose(a[3], b[3], rtol=1e-9, atol=1e-12)


def _who(modes: list[str], visible: int) -> str:
    if len(modes) == 1:
        return ""
    if len(modes) == visible:
        return "all paths" if visible > 2 else "both paths"
    short = {"none": "no clipping", "value": "value", "norm": "norm"}
    return " & ".join(short.get(m, MODE_LABELS[m]) for m in modes)


def exit_annotations(
    runs: dict[str, Trajectory], window: Window, *, font_size: int = 13, start=None, limit: int = 3
) -> list[Spec]:
    """Where paths leave the window: at each path's first exit an arrow on the border with
    a label (the step, and where it went), one label for paths that left together; a
    plain arrow for each later exit (the first few) of a path that came back. Labels are
    placed to overlap nothing (see `place_labels`)."""
    first, later = [], []
    for mode, run in runs.items():
        for n, i in enumerate(exit_events(run, window)[:limit]):
            event = (mode, i, run.params[i - 1], run.params[i])
            group = first if n == 0 else later
            for members in group:
                if _same_exit(members[0], event):
                    members.append(event)
                    break
            else:
                group.append([event])
    if not first:
        return []
    markers = [run.params[-1] for run in runs.values() if _inside(run.params[-1], window)]
    if start is not None:
        markers.append(np.asarray(start, float))
    drawn = [p for run in runs.values() for p in run.params[_inside(run.params, window)]]
    texts, labels = [], []
    for members in first:
        _, i, inside, outside = members[0]
        texts.append(exit_label(i, inside, outside, window, _who([m[0] for m in members], len(runs))))
        at = border_point(inside, outside, window)
        labels.append((at, outside - inside, label_size(texts[-1], font_size)))
    centres = place_labels(labels, markers, drawn, window)
    notes = []
    for members, text, (at, _, _), (cx, cy) in zip(first, texts, labels, centres, strict=True):
        modes = [m[0] for m in members]
        colour = MODE_COLORS[modes[0]] if len(modes) == 1 else "#333333"
        names = ", ".join(MODE_LABELS[m] for m in modes)
        notes.append(
            _arrow(at, (cx, cy), colour, f"exit-{'+'.join(modes)}-{members[0][1]}", font_size)
            | {
                "text": text,
                "hovertext": f"{names}: off the map at step {members[0][1]}",
                "bgcolor": "rgba(255,255,255,0.92)",
                "bordercolor": colour,
                "borderpad": 3,
            }
        )
    for members in later:
        mode, i, inside, outside = members[0]
        at = border_point(inside, outside, window)
        back = np.array(to_pixels(at, window)) - 28 * _pixel_direction(outside - inside, window)
        tail = from_pixels(back[0], back[1], window)
        notes.append(
            _arrow(at, tail, MODE_COLORS[mode], f"again-{'+'.join(m[0] for m in members)}-{i}", font_size)
            | {"text": "", "hovertext": f"{MODE_LABELS[mode]}: off the map again at step {i}"}
        )
    return notes


def _pixel_direction(step: np.ndarray, window: Window, plot=LABEL_PLOT_PX) -> np.ndarray:
    """The unit direction of a step on screen (y grows downwards)."""
    (x0, x1), (y0, y1) = window
    d = np.array([step[0] / (x1 - x0) * plot[0], -step[1] / (y1 - y0) * plot[1]])
    return d / max(float(np.hypot(*d)), 1e-300)


def _arrow(head, tail, colour: str, name: str, font_size: int) -> Spec:
    return {
        "x": float(head[0]),
        "y": float(head[1]),
        "ax": float(tail[0]),
        "ay": float(tail[1]),
        "xref": "x",
        "yref": "y",
        "axref": "x",
        "ayref": "y",
        "showarrow": True,
        "arrowhead": 3,
        "arrowsize": 1.4,
        "arrowwidth": 2.5,
        "arrowcolor": colour,
        "standoff": 0,
        "font": {"color": colour, "size": font_size},
        "name": name,
    }


def playback_frames(
    runs: dict[str, Trajectory], first_head: int, window: Window
) -> tuple[list[Spec], list[int]]:
    """Frames that move each path's current step, so playback needs no server round trip."""
    longest = max((len(r.params) for r in runs.values()), default=1)
    stride = max(1, math.ceil((longest - 1) / (MAX_FRAMES - 1)))
    ks = sorted({*range(0, longest, stride), longest - 1})
    indices = list(range(first_head, first_head + len(runs)))
    frames = []
    for k in ks:
        data = []
        for run in runs.values():
            x, y = _head_xy(run, k, window)
            data.append({"type": "scatter", "x": x, "y": y})
        frames.append({"name": str(k), "data": data, "traces": indices})
    return frames, ks


def playback_controls(ks: list[int], prefix: str = "step ") -> tuple[list[Spec], list[Spec]]:
    """Play/pause buttons and a step slider that animate the frames named in ``ks``."""
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    play = {
        "frame": {"duration": 80, "redraw": False},
        "fromcurrent": True,
        "transition": {"duration": 0},
        "mode": "immediate",
    }
    menus = [
        {
            "type": "buttons",
            "direction": "left",
            "x": 0.0,
            "y": -0.25,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 0, "r": 8},
            "showactive": False,
            "buttons": [
                {"label": "▶ play", "method": "animate", "args": [None, play]},
                {"label": "❚❚ pause", "method": "animate", "args": [[None], still]},
            ],
        }
    ]
    sliders = [
        {
            "active": len(ks) - 1,
            "x": 0.2,
            "len": 0.8,
            "y": -0.19,
            "yanchor": "top",
            "pad": {"t": 0, "b": 0},
            "currentvalue": {"prefix": prefix, "font": {"size": 13}, "xanchor": "right", "offset": 6},
            "steps": [{"label": str(k), "method": "animate", "args": [[str(k)], still]} for k in ks],
            "name": "playback",
        }
    ]
    return menus, sliders


def start_trace(start: tuple[float, float]) -> Spec:
    return {
        "type": "scatter",
        "x": [float(start[0])],
        "y": [float(start[1])],
        "mode": "markers",
        "marker": {"symbol": "star", "size": 18, "color": "black", "line": {"color": "white", "width": 1.5}},
        "name": "start",
        "hovertemplate": "start (%{x:.4f}, %{y:.4f})<extra></extra>",
    }


def guess_trace(guess: tuple[float, float]) -> Spec:
    return {
        "type": "scatter",
        "x": [float(guess[0])],
        "y": [float(guess[1])],
        "mode": "markers+text",
        "marker": {"symbol": "x-thin-open", "size": 22, "color": "black", "line": {"width": 3}},
        "text": ["your guess"],
        "textposition": "top center",
        "name": "your guess",
        "hovertemplate": "your guess (%{x:.3f}, %{y:.3f})<extra></extra>",
    }


def map_layout(
    scape: Landscape, window: Window, image: Spec, *, height: int, font_size: int, top: int, bottom: int
) -> Spec:
    """The layout every Plotly map shares (the Explorer's, the class's): size, margins, the
    axes of ``window``, a legend in one row above the plot, the loss image behind it."""
    return {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": top, "b": bottom},
        "font": {"size": font_size},
        **map_axes(scape, window),
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "x": 0,
            "font": {"size": font_size - 1},
        },
        "images": [image],
        "hovermode": "closest",
    }


def map_axes(scape: Landscape, window: Window) -> dict[str, Spec]:
    (x0, x1), (y0, y1) = window
    return {
        "xaxis": {
            "title": {"text": scape.axis_labels[0]},
            "range": [x0, x1],
            "autorange": False,
            "showgrid": False,
            "zeroline": False,
        },
        "yaxis": {
            "title": {"text": scape.axis_labels[1]},
            "range": [y0, y1],
            "autorange": False,
            "showgrid": False,
            "zeroline": False,
        },
    }


def map_figure(
    surface: Surface,
    result: ExplorerRuns,
    *,
    height: int = 620,
    font_size: int = 14,
    guess: tuple[float, float] | None = None,
    image: tuple[str, float, float] | None = None,
) -> Spec:
    """The Explorer's map: loss contours, the wall, every visible path, step playback
    (and a learner's guess, in predict-then-reveal mode).

    Trace order: contour, walls, then (path, clipped rings) per visible mode,
    one playback head per visible mode, and the start star (and the guess). Clicks on
    the map are read by the page (`ui.chart_clicks`), not by traces.
    """
    config = result.config
    scape = config.scape
    runs = result.visible()
    layout_image, colour_bar = surface_background(surface, image or surface_image(surface))
    data: list[Spec] = [colour_bar, *wall_traces(scape, dict(config.params), result.window)]
    for mode, run in runs.items():
        data += path_traces(mode, run, result.window)
    annotations: list[Spec] = exit_annotations(
        runs, result.window, font_size=font_size - 1, start=config.start
    )
    frames, ks = playback_frames(runs, first_head=len(data), window=result.window)
    data += [head_trace(mode, run, ks[-1], result.window) for mode, run in runs.items()]
    data.append(start_trace(config.start))
    if guess is not None:
        data.append(guess_trace(guess))
    menus, sliders = playback_controls(ks)
    layout = {
        **map_layout(
            scape, result.window, layout_image, height=height, font_size=font_size, top=44, bottom=170
        ),
        "annotations": annotations,
        "updatemenus": menus,
        "sliders": sliders,
        "dragmode": "pan",
        "uirevision": config.landscape,
        "meta": {"compact": compact_map(data)},
    }
    return {"data": data, "layout": layout, "frames": frames}


# --- narrow screens ------------------------------------------------------------------

#: Below this width of its box (pixels: a phone, not a laptop's two-column page) a figure switches to
#: its compact layout (see assets/plotly_view.js, which applies it).
COMPACT_BELOW = 480
SHORT_NAMES = {
    "the wall (analytic)": "wall",
    "no clipping": "no clipping",
    "value clipping": "value clip.",
    "norm clipping": "norm clip.",
    "start": "start",
    "your guess": "guess",
}
#: The compact map: a plot about as tall as a phone's width, a two-row legend above it,
#: the colour bar lying under the x axis, then the playback buttons and slider.
COMPACT_PLOT_HEIGHT = 320
COMPACT_MARGIN = {"l": 48, "r": 10, "t": 62, "b": 176}


def _below(pixels: float) -> float:
    """A paper y coordinate ``pixels`` below the compact plot's bottom edge."""
    return -pixels / COMPACT_PLOT_HEIGHT


def compact_names(data: list[Spec]) -> dict[str, Spec]:
    """Short legend names, by trace index."""
    return {
        str(i): {"name": SHORT_NAMES[t["name"]]}
        for i, t in enumerate(data)
        if t.get("name") in SHORT_NAMES and t.get("showlegend", True)
    }


def compact_map(data: list[Spec]) -> Spec:
    """The map's layout for a narrow screen (merged in by assets/plotly_view.js)."""
    patches = compact_names(data)
    for i, trace in enumerate(data):
        if (trace.get("marker") or {}).get("showscale"):  # the colour bar, laid under the x axis
            patches[str(i)] = {
                "marker": {
                    "colorbar": {
                        "orientation": "h",
                        "x": 0.5,
                        "xanchor": "center",
                        "y": _below(44),
                        "yanchor": "top",
                        "len": 1.0,
                        "thickness": 9,
                        "title": {"text": "loss", "side": "right"},
                        "tickfont": {"size": 10},
                    }
                }
            }
    return {
        "below": COMPACT_BELOW,
        "data": patches,
        "layout": {
            "height": COMPACT_PLOT_HEIGHT + COMPACT_MARGIN["t"] + COMPACT_MARGIN["b"],
            "margin": COMPACT_MARGIN,
            "font": {"size": 12},
            "legend": {"font": {"size": 11}, "itemwidth": 30, "tracegroupgap": 0},
            "xaxis": {"title": {"standoff": 4}},
            "yaxis": {"title": {"standoff": 2}},
            # play/pause on their own row, then the slider (its step label on the right)
            "updatemenus": [{"x": 0.0, "y": _below(78), "font": {"size": 11}}],
            "sliders": [{"x": 0.0, "len": 1.0, "y": _below(110), "currentvalue": {"font": {"size": 11}}}],
        },
    }


def surface_heights(surface: Surface, points: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    """The drawn surface's height (log10 loss, clipped to the colour range) at ``points``
    (shape (n, 2)), interpolated bilinearly from the grid: a line lifted by this sits on
    the surface the learner sees."""
    z = np.clip(log_loss(surface.loss), zmin, zmax)
    x, y = np.asarray(surface.x, float), np.asarray(surface.y, float)
    px = np.clip(np.asarray(points, float)[:, 0], x[0], x[-1])
    py = np.clip(np.asarray(points, float)[:, 1], y[0], y[-1])
    i = np.clip(np.searchsorted(x, px) - 1, 0, len(x) - 2)
    j = np.clip(np.searchsorted(y, py) - 1, 0, len(y) - 2)
    tx = (px - x[i]) / (x[i + 1] - x[i])
    ty = (py - y[j]) / (y[j + 1] - y[j])
    return (
        z[j, i] * (1 - tx) * (1 - ty)
        + z[j, i + 1] * tx * (1 - ty)
        + z[j + 1, i] * (1 - tx) * ty
        + z[j + 1, i + 1] * tx * ty
    )


def _lifted(surface, xs: list, ys: list, zmin: float, zmax: float) -> list:
    """Heights for a polyline with gaps: on the surface, lifted a little so it stays visible."""
    lift = 0.02 * (zmax - zmin)
    pts = np.array([[np.nan, np.nan] if x is None else [x, y] for x, y in zip(xs, ys, strict=True)])
    z = np.full(len(pts), np.nan)
    ok = ~np.isnan(pts[:, 0])
    if ok.any():
        z[ok] = surface_heights(surface, pts[ok], zmin, zmax) + lift
    return rounded(z, 4)


def camera_eye(surface: Surface, shown: np.ndarray, zmax: float) -> dict[str, float]:
    """A camera on the low side of the landscape, looking across it at the cliff: paths
    run where the loss is low, so that side faces the viewer. Far enough back that the
    axis titles stay inside the figure."""
    x, y = np.asarray(surface.x, float), np.asarray(surface.y, float)
    ux = (x - (x[0] + x[-1]) / 2) / (x[-1] - x[0])
    uy = (y - (y[0] + y[-1]) / 2) / (y[-1] - y[0])
    weight = zmax - shown  # deeper = heavier
    total = float(weight.sum())
    cx = float((weight * ux[None, :]).sum() / total) if total > 0 else 0.0
    cy = float((weight * uy[:, None]).sum() / total) if total > 0 else 0.0
    norm = math.hypot(cx, cy)
    dx, dy = (cx / norm, cy / norm) if norm > 0.02 else (math.sqrt(0.5), -math.sqrt(0.5))
    return {"x": round(2.0 * dx, 3), "y": round(2.0 * dy, 3), "z": 1.15}


#: The 3-D view's loss axis has no tick label in this bottom fraction of its box (the corner
#: where the weight and bias axes' labels are).
Z_TICK_CLEARANCE = 0.1


def surface3d_figure(
    surface: Surface, result: ExplorerRuns, *, height: int = 620, font_size: int = 13
) -> Spec:
    """The same loss as a 3-D surface (height = log10 loss) with the wall, the start and the
    visible paths on it.

    The height is log10(loss) clipped to the colour range of the flat map, and the box's
    z range is exactly that range: the surface fits the box, and its colours are the
    colour bar's (the same scale, range and ticks). Paths are lifted onto the surface and
    stop at the window's edge, as on the map.
    """
    config = result.config
    scape = config.scape
    window = result.window
    (x0, x1), (y0, y1) = window
    z = log_loss(surface.loss)
    zmin, zmax = colour_range(z)
    shown = np.clip(z, zmin, zmax)
    tickvals, ticktext = decade_ticks(np.array([zmin, zmax]))
    bar = loss_colorbar(zmin, zmax)
    ticks = [(v, t) for v, t in zip(tickvals, ticktext, strict=True) if zmin - 1e-9 <= v <= zmax + 1e-9]
    bar["tickvals"], bar["ticktext"] = [v for v, _ in ticks], [t for _, t in ticks]
    bar.update({"len": 0.7, "thickness": 12, "x": 1.0, "xanchor": "left"})
    # The loss axis labels the colour bar's ticks, but none in the bottom tenth of the box, where
    # the z axis meets the corner with the other two axes' tick labels (the top tick at least).
    clear = zmin + Z_TICK_CLEARANCE * (zmax - zmin)
    z_ticks = [(v, t) for v, t in ticks if v >= clear] or ticks[-1:]
    # Rounded for a smaller payload, then clipped again so no rounded value leaves the box.
    rows = [[None if v is None else min(max(v, zmin), zmax) for v in rounded(row, 4)] for row in shown]
    data: list[Spec] = [
        {
            "type": "surface",
            "x": rounded(surface.x),
            "y": rounded(surface.y),
            "z": rows,
            "surfacecolor": rows,
            "colorscale": SURFACE_COLORSCALE,
            "cmin": zmin,
            "cmax": zmax,
            "cauto": False,
            "colorbar": bar,
            # Flat light: shading would darken the colours away from the bar's; the
            # iso-lines of the flat map give the shape instead.
            "lighting": {"ambient": 1.0, "diffuse": 0.0, "specular": 0.0, "fresnel": 0.0},
            "contours": {
                "z": {
                    "show": True,
                    "start": zmin,
                    "end": zmax,
                    "size": (zmax - zmin) / 20,
                    "usecolormap": False,
                    "color": "rgba(60,60,60,0.45)",
                    "width": 1,
                }
            },
            "name": "loss",
            "showlegend": False,
            "hovertemplate": "(%{x:.3f}, %{y:.3f})<br>log10 loss %{z:.2f}<extra></extra>",
        }
    ]
    top = zmax + 0.02 * (zmax - zmin)
    for i, wall in enumerate(scape.walls(dict(config.params), window)):
        # Along the top of the box: on the surface a wall line would jump up and down the
        # cliff face it follows (the grid cannot resolve a face that thin).
        data.append(
            {
                "type": "scatter3d",
                "x": rounded(wall[:, 0]),
                "y": rounded(wall[:, 1]),
                "z": [top] * len(wall),
                "mode": "lines",
                "line": {"color": WALL_COLOR, "width": 5, "dash": "longdash"},
                "name": "the wall (analytic)",
                "legendgroup": "wall",
                "showlegend": i == 0,
                "hoverinfo": "name",
            }
        )
    lift = 0.02 * (zmax - zmin)
    for mode, run in result.visible().items():
        xs, ys, steps = path_pieces(run.params, window)
        # Each step at its own loss (clipped to the box, as the surface is), and never
        # under the drawn surface (a grid interpolates across a cliff face thinner than
        # its cells); the border points, which are not steps, on the drawn surface.
        heights = _lifted(surface, xs, ys, zmin, zmax)
        own = np.clip(log_loss(run.loss), zmin, zmax) + lift
        heights = [
            h if k is None else round(max(float(own[k]), h), 4) for h, k in zip(heights, steps, strict=True)
        ]
        data.append(
            {
                "type": "scatter3d",
                "x": rounded(np.array(xs, dtype=float)),
                "y": rounded(np.array(ys, dtype=float)),
                "z": heights,
                "mode": "lines+markers",
                "line": {"color": MODE_COLORS[mode], "width": 6},
                "marker": {"size": [0 if k is None else 2.5 for k in steps], "color": MODE_COLORS[mode]},
                "customdata": steps,
                "name": MODE_LABELS[mode],
                "legendgroup": mode,
                "hovertemplate": f"{MODE_LABELS[mode]}<br>step %{{customdata}}<extra></extra>",
            }
        )
    start = np.asarray(config.start, float)
    start_loss = next(iter(result.runs.values())).loss[0] if result.runs else LOSS_FLOOR
    start_height = round(float(np.clip(log_loss(np.array(start_loss)), zmin, zmax)) + lift, 4)
    data.append(
        {
            "type": "scatter3d",
            "x": [float(start[0])],
            "y": [float(start[1])],
            "z": [max(start_height, _lifted(surface, [float(start[0])], [float(start[1])], zmin, zmax)[0])],
            "mode": "markers",
            "marker": {
                "symbol": "diamond",
                "size": 7,
                "color": "black",
                "line": {"color": "white", "width": 1},
            },
            "name": "start",
            "hovertemplate": "start (%{x:.4f}, %{y:.4f})<extra></extra>",
        }
    )
    axis = {"showspikes": False, "title": {"font": {"size": font_size}}, "tickfont": {"size": font_size - 2}}
    layout = {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
        "font": {"size": font_size},
        "scene": {
            "xaxis": {**axis, "title": {**axis["title"], "text": scape.axis_labels[0]}, "range": [x0, x1]},
            "yaxis": {**axis, "title": {**axis["title"], "text": scape.axis_labels[1]}, "range": [y0, y1]},
            "zaxis": {
                **axis,
                "title": {**axis["title"], "text": "loss"},
                "range": [zmin, zmax + 0.04 * (zmax - zmin)],
                "tickvals": [v for v, _ in z_ticks],
                "ticktext": [t for _, t in z_ticks],
            },
            "aspectmode": "manual",
            "aspectratio": {"x": 1, "y": 1, "z": 0.75},
            "camera": {"eye": camera_eye(surface, shown, zmax)},
            "domain": {"x": [0.0, 0.9], "y": [0.05, 1.0]},
        },
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        "uirevision": config.landscape,
        "meta": {
            "compact": {
                "below": COMPACT_BELOW,
                "data": {
                    **compact_names(data),
                    "0": {"colorbar": {"thickness": 8, "len": 0.6, "tickfont": {"size": 10}}},
                },
                "layout": {
                    "height": 440,
                    "font": {"size": 11},
                    "legend": {"font": {"size": 11}, "itemwidth": 30},
                    "scene": {"domain": {"x": [0.0, 0.86], "y": [0.0, 1.0]}},
                },
            }
        },
    }
    return {"data": data, "layout": layout}


def positive(values: np.ndarray) -> list[float | None]:
    """Log axes cannot show 0: exact zeros become gaps (the narration says why), as do infinities
    (an adaptive rule with no threshold yet)."""
    return [float(f"{v:.6g}") if 0 < v < math.inf else None for v in np.asarray(values, dtype=float)]


#: How a spiked step is marked in the history: a thin grey line through all three charts.
SPIKE_COLOR = "rgba(90, 90, 90, 0.35)"


def spiked_steps(result: ExplorerRuns) -> list[int]:
    """The steps whose gradient noise spiked (the same on every path: the noise depends only on the
    seed and the step), from the longest shown run; empty without noise."""
    runs = list(result.visible().values())
    if result.config.noise is None or not runs:
        return []
    longest = max(runs, key=lambda run: run.steps_taken)
    return [int(k) for k in np.flatnonzero(longest.spiked)]


def _spike_marks(result: ExplorerRuns, data: list[Spec]) -> list[Spec]:
    """Marks each spiked step: a grey line across the charts (returned as layout shapes) and a
    marker on each shown path's gradient norm there (a legend entry, "spiked step")."""
    steps = spiked_steps(result)
    if not steps:
        return []
    xs, ys = [], []
    for run in result.visible().values():
        for k in steps:
            # Only where the norm can sit on the log axis (a dead path's zero gradient has no place).
            if k < run.steps_taken and np.isfinite(run.grad_norm[k]) and run.grad_norm[k] > 0:
                xs.append(k)
                ys.append(float(run.grad_norm[k]))
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": xs,
            "y": ys,
            "name": "spiked step (gradient noise)",
            "xaxis": "x2",
            "yaxis": "y2",
            "marker": {"symbol": "star-triangle-up", "size": 9, "color": "#555555"},
            "hovertemplate": "spike at step %{x}<extra></extra>",
        }
    )
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": k,
            "x1": k,
            "y0": 0,
            "y1": 1,
            "line": {"color": SPIKE_COLOR, "width": 1},
            "layer": "below",
        }
        for k in steps
    ]


def history_figure(result: ExplorerRuns, *, height: int = 640, font_size: int = 13) -> Spec:
    """Three stacked charts against step: loss, raw gradient norm with the threshold c (and
    each shown adaptive rule's own threshold at every step, ``Trajectory.clip_threshold``),
    and step length with the lr*c ceiling of norm-clipped plain descent."""
    config = result.config
    data: list[Spec] = []
    for mode, run in result.visible().items():
        common = {
            "type": "scatter",
            "mode": "lines",
            "line": {"color": MODE_COLORS[mode], "width": 2, "dash": MODE_DASHES[mode]},
            "legendgroup": mode,
            "name": MODE_LABELS[mode],
        }
        steps = list(range(len(run.loss)))
        data.append({**common, "x": steps, "y": positive(run.loss), "xaxis": "x", "yaxis": "y"})
        data.append(
            {
                **common,
                "x": steps[:-1],
                "y": positive(run.grad_norm),
                "xaxis": "x2",
                "yaxis": "y2",
                "showlegend": False,
            }
        )
        data.append(
            {
                **common,
                "x": steps[:-1],
                "y": positive(run.step_length),
                "xaxis": "x3",
                "yaxis": "y3",
                "showlegend": False,
            }
        )
    last = max(config.steps, 1)
    # Each adaptive rule's own threshold, step by step, in its colour (a gap where it has none yet,
    # e.g. during ZClip's warm-up); the fixed c only when a shown rule uses it.
    for mode, run in result.visible().items():
        if own_threshold(mode) and run.clip_threshold is not None:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": list(range(run.steps_taken)),
                    "y": positive(run.clip_threshold),
                    "name": f"{MODE_LABELS[mode]}: its threshold",
                    "legendgroup": mode,
                    "xaxis": "x2",
                    "yaxis": "y2",
                    "line": {"color": MODE_COLORS[mode], "width": 3.5, "dash": "solid"},
                    "opacity": 0.45,
                }
            )
    uses_c = [mode for mode in config.paths if mode != "none" and not own_threshold(mode)]
    if uses_c or not config.paths:
        data.append(
            {
                "type": "scatter",
                "x": [0, last],
                "y": [config.threshold] * 2,
                "mode": "lines",
                "name": f"threshold c = {config.threshold:.3g}",
                "xaxis": "x2",
                "yaxis": "y2",
                "line": {"color": ACCENT, "width": 2, "dash": "dashdot"},
            }
        )
    if config.optimizer == "sgd" and (uses_c or not config.paths):
        ceiling = config.lr * config.threshold
        data.append(
            {
                "type": "scatter",
                "x": [0, last],
                "y": [ceiling] * 2,
                "mode": "lines",
                "name": f"norm-clipping ceiling lr·c = {ceiling:.3g}",
                "xaxis": "x3",
                "yaxis": "y3",
                "line": {"color": ACCENT, "width": 2, "dash": "dot"},
            }
        )
    gap = 0.07
    size = (1 - 2 * gap) / 3
    domains = [[1 - size, 1], [size + gap, 2 * size + gap], [0, size]]
    spike_lines = _spike_marks(result, data)
    # The x axis is the step; it is said in the first heading, not in an axis title, which the
    # horizontal legend below would run into once adaptive rules add their threshold lines.
    titles = ["loss at each step", "raw gradient norm |g|", "step length |Δθ|"]
    layout: Spec = {
        "height": height,
        "margin": {"l": 70, "r": 16, "t": 30, "b": 40},
        "font": {"size": font_size},
        "legend": {"orientation": "h", "y": -0.1},
        "hovermode": "x unified",
        "annotations": [],
    }
    for i, (domain, title) in enumerate(zip(domains, titles, strict=True), start=1):
        suffix = "" if i == 1 else str(i)
        layout[f"yaxis{suffix}"] = {
            "domain": domain,
            "type": "log",
            "exponentformat": "power",
            "anchor": f"x{suffix}",
        }
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "range": [0, last],
            "matches": "x" if i > 1 else None,
            "showticklabels": i == 3,
        }
        layout["annotations"].append(
            {
                "text": f"<b>{title}</b>",
                "x": 0,
                "xanchor": "left",
                "y": domain[1],
                "yanchor": "bottom",
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
            }
        )
    layout["xaxis"].pop("matches")
    if spike_lines:
        layout["shapes"] = spike_lines
    layout["meta"] = {
        "compact": {
            "below": COMPACT_BELOW,
            "data": compact_names(data),
            "layout": {
                "height": 600,
                "margin": {"l": 52, "r": 8, "t": 30, "b": 120},
                "font": {"size": 11},
                # under the "step" title (about 35 px below the plot), inside the margin
                "legend": {"font": {"size": 11}, "y": -0.12, "yanchor": "top", "itemwidth": 30},
            },
        }
    }
    return {"data": data, "layout": layout}


MAX_SWEEP_POINTS = 250  # points per path per frame in the sweep figure


def thinned(run: Trajectory, limit: int = MAX_SWEEP_POINTS) -> np.ndarray:
    """Indices of a path's points to draw: every n-th point, the end, and both ends of
    the longest steps, so a catapult is never thinned away."""
    n = len(run.params)
    if n <= limit:
        return np.arange(n)
    keep = set(range(0, n, math.ceil(n / limit))) | {n - 1}
    for i in np.argsort(run.step_length)[-10:]:
        keep |= {int(i), int(i) + 1}
    return np.array(sorted(keep))


def _sweep_path(mode: str, run: Trajectory, window: Window) -> Spec:
    # Lines only: a marker is one SVG node per step per frame, and markers made
    # every slider move ~20 ms slower in Chromium (p95 72 -> 40 ms on the 2-core
    # machine). Colour and dash still tell the modes apart; the Explorer's main
    # map keeps a marker on every step.
    xs, ys, _ = path_pieces(run.params[thinned(run)], window)  # cut at the border, as on the map
    return {
        "type": "scatter",
        "x": rounded(np.array(xs, dtype=float)),
        "y": rounded(np.array(ys, dtype=float)),
        "mode": "lines",
        "line": {"color": MODE_COLORS[mode], "width": 2.5, "dash": MODE_DASHES[mode]},
        "name": MODE_LABELS[mode],
        "legendgroup": mode,
        "hoverinfo": "name",
    }


def _sweep_text(sweep: SettingSweep, j: int) -> str:
    parts = []
    for mode, runs in sweep.runs.items():
        run = runs[j if len(runs) > 1 else 0]
        left = run.left_window_at(sweep.window)
        fate = (
            f"diverged at step {run.diverged_at}"
            if run.diverged_at is not None
            else f"off the map at step {left}"
            if left is not None
            else f"final loss {run.final_loss:.3g}"
        )
        parts.append(f"<span style='color:{MODE_COLORS[mode]}'>{MODE_LABELS[mode]}: {fate}</span>")
    return "<br>".join(parts)


def sweep_figure(
    surface: Surface,
    sweep: SettingSweep,
    *,
    height: int = 620,
    font_size: int = 14,
    image: tuple[str, float, float] | None = None,
) -> Spec:
    """The map with an in-figure slider over every value of c (or lr): all paths are
    precomputed and shipped as frames, so scrubbing needs no server round trip."""
    config = sweep.config
    scape = config.scape
    current = sweep.values.index(config.threshold if sweep.setting == "c" else config.lr)
    # No colour bar here: every slider move redraws the whole figure, and the bar
    # alone cost ~10 ms of each redraw. The page shows this figure under the map,
    # whose bar gives the same colours in loss units.
    layout_image, _ = surface_background(surface, image or surface_image(surface))
    data: list[Spec] = wall_traces(scape, dict(config.params), sweep.window)
    moving: list[int] = []
    for mode, runs in sweep.runs.items():
        if len(runs) > 1:
            moving.append(len(data))
        data.append(_sweep_path(mode, runs[current if len(runs) > 1 else 0], sweep.window))
    data.append(start_trace(config.start))
    label = "threshold c = " if sweep.setting == "c" else "learning rate = "
    frames = []
    for j, value in enumerate(sweep.values):
        frames.append(
            {
                "name": f"{value:g}",
                "data": [
                    _sweep_path(mode, runs[j], sweep.window)
                    for mode, runs in sweep.runs.items()
                    if len(runs) > 1
                ],
                "traces": moving,
                "layout": {"annotations": [_sweep_note(sweep, j)]},
            }
        )
    # A full redraw on every move: without it Plotly moves the paths but leaves the
    # note on each path's fate (a layout annotation) showing the old value.
    redraw = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    slider = {
        "active": current,
        "x": 0.0,
        "len": 1.0,
        "y": -0.13,
        "yanchor": "top",
        "pad": {"t": 0, "b": 0},
        "currentvalue": {"prefix": label, "font": {"size": font_size}},
        "steps": [
            {"label": f"{v:g}", "method": "animate", "args": [[f"{v:g}"], redraw]} for v in sweep.values
        ],
        "name": sweep.setting,
    }
    layout = {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 44, "b": 140},
        "font": {"size": font_size},
        **map_axes(scape, sweep.window),
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        "images": [layout_image],
        "annotations": [_sweep_note(sweep, current)],
        "sliders": [slider],
        "hovermode": "closest",
        "dragmode": "pan",
        "uirevision": f"sweep-{config.landscape}",
    }
    return {"data": data, "layout": layout, "frames": frames}


def _sweep_note(sweep: SettingSweep, j: int) -> Spec:
    return {
        "text": _sweep_text(sweep, j),
        "xref": "paper",
        "yref": "paper",
        "x": 0.01,
        "y": 0.01,
        "xanchor": "left",
        "yanchor": "bottom",
        "align": "left",
        "showarrow": False,
        "bgcolor": "rgba(255,255,255,0.85)",
        "name": "sweep-note",
    }
