"""The Class page's pictures and words: the class's cloud of guesses on the map, the answer, and
how close the class came. Pure functions (no Streamlit, no database).

The question asked in class is the Explorer's predict game: *where does plain gradient descent
(no clipping) end?* A path that is thrown off the map has no end on it, so the answer is the point
where it leaves the map for the last time (:func:`answer_of`); every guess lies on the map, and a
distance is measured in the window's own units, as a share of its diagonal (as the Explorer's
predict game says it).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.engine import Trajectory
from ..core.mesh import Surface
from ..core.registry import Window
from ..views.explorer import ExplorerRuns, border_point, exit_events
from .explorer import (
    COMPACT_BELOW,
    Spec,
    compact_map,
    map_layout,
    path_traces,
    start_trace,
    surface_background,
    surface_image,
    wall_traces,
)

#: A guess within this share of the map's diagonal counts as close.
CLOSE_SHARE = 0.10
GUESS_COLOR = "#0b6e99"
ANSWER_COLOR = "#d62728"
#: Names drawn next to the points are cut to this many characters (the store allows 20).
LABEL_CHARS = 12


@dataclass(frozen=True)
class Answer:
    """The point the class is asked to find, and how the unclipped path got there."""

    point: tuple[float, float]
    left_at: int | None  # the step at which the path left the map (None: it ends on the map)
    edge: str | None  # "top", "bottom", "left" or "right" when it left the map
    steps: int  # the steps the path took


@dataclass(frozen=True)
class ClassSpread:
    """How close a class's guesses came to the answer (distances in the window's units)."""

    count: int
    median: float
    median_share: float  # the median distance as a share of the map's diagonal
    close: int  # guesses within CLOSE_SHARE of the diagonal
    diagonal: float


def diagonal(window: Window) -> float:
    (x0, x1), (y0, y1) = window
    return float(math.hypot(x1 - x0, y1 - y0))


def _inside(point: np.ndarray, window: Window) -> bool:
    (x0, x1), (y0, y1) = window
    return bool(np.all(np.isfinite(point)) and x0 <= point[0] <= x1 and y0 <= point[1] <= y1)


def _edge(point: np.ndarray, window: Window) -> str:
    (x0, x1), (y0, y1) = window
    gaps = {
        "left": abs(point[0] - x0) / (x1 - x0),
        "right": abs(point[0] - x1) / (x1 - x0),
        "bottom": abs(point[1] - y0) / (y1 - y0),
        "top": abs(point[1] - y1) / (y1 - y0),
    }
    return min(gaps, key=gaps.__getitem__)


def answer_of(run: Trajectory, window: Window) -> Answer:
    """Where the unclipped run ends if its last point is on the map; otherwise where it last
    crossed the map's border on its way out."""
    params = np.asarray(run.params, dtype=float)
    steps = len(params) - 1
    if _inside(params[-1], window):
        return Answer((float(params[-1, 0]), float(params[-1, 1])), None, None, steps)
    exits = exit_events(run, window)
    if not exits:  # it started off the map (a start outside the window): the start is the answer
        return Answer((float(params[0, 0]), float(params[0, 1])), 0, _edge(params[0], window), steps)
    i = exits[-1]
    inside, outside = params[i - 1], params[i]
    if not np.all(np.isfinite(outside)):  # overflowed: it leaves in the direction it was last heading
        outside = inside + np.nan_to_num(outside - inside, nan=0.0, posinf=1e300, neginf=-1e300)
    point = border_point(inside, outside, window)
    (x0, x1), (y0, y1) = window
    point = np.array([min(max(point[0], x0), x1), min(max(point[1], y0), y1)])
    return Answer((float(point[0]), float(point[1])), i, _edge(point, window), steps)


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return float(math.hypot(a[0] - b[0], a[1] - b[1]))


def class_spread(guesses: Sequence[Sequence[float]], answer: Answer, window: Window) -> ClassSpread | None:
    """The median distance of the guesses to the answer and how many came within
    ``CLOSE_SHARE`` of the diagonal; None without guesses."""
    if not guesses:
        return None
    span = diagonal(window)
    d = [distance(g, answer.point) for g in guesses]
    median = float(np.median(d))
    return ClassSpread(len(d), median, median / span, sum(x <= CLOSE_SHARE * span for x in d), span)


def _g(value: float) -> str:
    return f"{value:.3g}"


def question_sentence(steps: int) -> str:
    """What the students are asked (the same on their phones and on the projector)."""
    return (
        f"Where is plain gradient descent (no clipping) after {steps} steps? Click that spot on the map. "
        "If you think it is thrown off the map, click where it leaves it."
    )


def answer_sentence(answer: Answer) -> str:
    x, y = answer.point
    if answer.left_at is None:
        return f"The unclipped path ends on the map, at ({_g(x)}, {_g(y)}), after {answer.steps} steps."
    return (
        f"The unclipped path leaves the map at step {answer.left_at}, through the {answer.edge} edge "
        f"at ({_g(x)}, {_g(y)})."
    )


def own_sentence(guess: Sequence[float] | None, answer: Answer, window: Window) -> str:
    """One student's result, e.g. "Your guess (5.1, -2) was 0.31 away: 7 % of the map's diagonal."."""
    if guess is None:
        return "You did not submit a guess for this question."
    d = distance(guess, answer.point)
    share = d / diagonal(window)
    verdict = "Close!" if share <= CLOSE_SHARE else "Not this time."
    return (
        f"{verdict} Your guess ({_g(guess[0])}, {_g(guess[1])}) was {_g(d)} away: "
        f"{100 * share:.0f} % of the map's diagonal."
    )


def spread_sentence(spread: ClassSpread | None) -> str:
    """The class's result, e.g. "Half of the 23 guesses were within 0.42 of the answer (10 % of the
    map's diagonal); 11 of 23 (48 %) came within 10 % of it."."""
    if spread is None:
        return "Nobody submitted a guess for this question."
    n = spread.count
    guesses = "the one guess was" if n == 1 else f"half of the {n} guesses were"
    head = f"{guesses[0].upper()}{guesses[1:]} within {_g(spread.median)} of the answer"
    return (
        f"{head} ({100 * spread.median_share:.0f} % of the map's diagonal); {spread.close} of {n} "
        f"({100 * spread.close / n:.0f} %) came within {100 * CLOSE_SHARE:.0f} % of it."
    )


def guess_trace(guesses: Sequence[tuple[float, float, str | None]], *, font_size: int = 14) -> Spec:
    """The class's guesses as one cloud of points (names, escaped, beside them when given)."""
    names = [name for _, _, name in guesses]
    labelled = any(names)
    text = [html.escape(n[:LABEL_CHARS], quote=True) if n else "" for n in names]
    return {
        "type": "scatter",
        "x": [float(x) for x, _, _ in guesses],
        "y": [float(y) for _, y, _ in guesses],
        "mode": "markers+text" if labelled else "markers",
        "text": text,
        "textposition": "top center",
        "textfont": {"size": max(10, font_size - 2), "color": GUESS_COLOR},
        "marker": {
            "symbol": "circle",
            "size": 13,
            "color": GUESS_COLOR,
            "opacity": 0.6,
            "line": {"color": "white", "width": 1.5},
        },
        "name": f"the class's guesses ({len(guesses)})",
        "hovertemplate": "a guess (%{x:.3f}, %{y:.3f})<extra></extra>",
    }


def answer_trace(answer: Answer) -> Spec:
    word = "where it ends" if answer.left_at is None else "where it leaves the map"
    return {
        "type": "scatter",
        "x": [answer.point[0]],
        "y": [answer.point[1]],
        "mode": "markers",
        "marker": {
            "symbol": "x",
            "size": 20,
            "color": ANSWER_COLOR,
            "line": {"color": "white", "width": 1.5},
        },
        "name": f"the answer: {word}",
        "hovertemplate": "the answer (%{x:.3f}, %{y:.3f})<extra></extra>",
        "cliponaxis": False,  # an answer on the border is drawn whole
    }


def class_map_figure(
    surface: Surface,
    result: ExplorerRuns,
    guesses: Sequence[tuple[float, float, str | None]],
    *,
    revealed: bool,
    height: int = 620,
    font_size: int = 14,
    image: tuple[str, float, float] | None = None,
) -> Spec:
    """The projector's map: the loss, the wall, the start, the clipped paths and the class's cloud
    of guesses; once ``revealed``, the unclipped path and the answer too (before, the unclipped run
    is not in the figure at all).

    Trace order: colour bar, walls, the shown paths (path, clipped rings per rule), the start,
    the guesses, and (revealed) the answer.
    """
    config = result.config
    window = result.window
    layout_image, colour_bar = surface_background(surface, image or surface_image(surface))
    data: list[Spec] = [colour_bar, *wall_traces(config.scape, dict(config.params), window)]
    for mode, run in result.visible().items():
        if mode == "none" and not revealed:
            continue
        data += path_traces(mode, run, window)
    data.append(start_trace(config.start))
    data.append(guess_trace(guesses, font_size=font_size))
    if revealed and "none" in result.runs:
        data.append(answer_trace(answer_of(result.runs["none"], window)))
    layout = {
        **map_layout(
            config.scape, window, layout_image, height=height, font_size=font_size, top=56, bottom=56
        ),
        "dragmode": False,
        "uirevision": "class",
        "meta": {"compact": compact_class_map(data)},
    }
    return {"data": data, "layout": layout}


#: The phone layout: a plot about as tall as it is wide, the legend above, the colour bar under it.
COMPACT_PLOT_HEIGHT = 320
COMPACT_MARGIN = {"l": 48, "r": 10, "t": 96, "b": 96}


def compact_class_map(data: list[Spec]) -> Spec:
    """The class map's layout below ``COMPACT_BELOW`` pixels (applied by assets/plotly_view.js):
    the Explorer map's short names and horizontal colour bar, and this figure's own short names."""
    patches = compact_map(data)["data"]
    for i, trace in enumerate(data):
        name = str(trace.get("name", ""))
        if name.startswith("the class's guesses"):
            patches[str(i)] = {"name": f"guesses ({len(trace['x'])})"}
        elif name.startswith("the answer"):
            patches[str(i)] = {"name": "answer"}
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
        },
    }
