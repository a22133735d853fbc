"""The one outcome vocabulary: how a run ended (trains, stuck, thrown, diverged), and its cut-off.

The Explorer, the Sweeps, the lessons and the exports all classify runs with
``classify`` and ``train_tolerance`` and name the classes with
``OUTCOME_LABELS``.
"""

from __future__ import annotations

import functools

import numpy as np

from .mesh import loss_surface
from .registry import Landscape, get_landscape
from .validation import positive_number

#: The outcome of one cell, by code: ``OUTCOMES[sweep.outcome[j, i]]``.
OUTCOMES = ("trains", "stuck", "thrown", "diverged")
TRAINS, STUCK, THROWN, DIVERGED = range(4)

#: Short learner-facing names for legends: one vocabulary for the Explorer,
#: the Sweeps page and exports.
OUTCOME_LABELS = {
    "trains": "trains",
    "stuck": "stuck or crawling",
    "thrown": "thrown off the map",
    "diverged": "diverged (overflow)",
}

#: A run "trains" when its final loss is at most this fraction of the
#: landscape's typical loss (see ``train_tolerance``).
TRAIN_FRACTION = 0.1

#: One plain sentence per class, with its cut-off; ``outcome_legend`` adds
#: the value for a landscape. The classes are decided in the order of
#: ``classify``: diverged first, then trains, thrown, stuck.
OUTCOME_DEFINITIONS = {
    "trains": (
        f"the final loss is at most {100 * TRAIN_FRACTION:g} % of the landscape's typical loss (the median "
        "loss over its default window), even if the path left the map on the way"
    ),
    "stuck": "the path stayed on the map and finite, but its final loss is above that cut-off",
    "thrown": (
        "the path left the map (the window drawn) at some step and its final loss is above the cut-off"
    ),
    "diverged": "a gradient, parameter or loss stopped being a finite number; the run stopped there",
}


def classify(
    final_loss: np.ndarray, diverged_at: np.ndarray, left_at: np.ndarray, tolerance: float
) -> np.ndarray:
    """The outcome code of each cell, decided in this order:

    1. ``diverged``: a non-finite gradient, parameter or loss stopped the run.
    2. ``trains``: the final loss is at or below ``tolerance`` (even if the path
       left the window on the way and came back).
    3. ``thrown``: the path left the window at some step.
    4. ``stuck``: everything else: finite, inside, not trained (a plateau, a
       crawl along a gentle slope, or too few steps).
    """
    outcome = np.full(np.shape(final_loss), STUCK, dtype=np.int8)
    outcome[np.asarray(left_at) >= 0] = THROWN
    outcome[np.asarray(final_loss) <= tolerance] = TRAINS
    outcome[np.asarray(diverged_at) >= 0] = DIVERGED
    return outcome


@functools.lru_cache(maxsize=64)
def _typical_loss(name: str, params: tuple[tuple[str, float], ...]) -> float:
    surface = loss_surface(name, 64, **dict(params))
    return float(np.median(surface.loss[np.isfinite(surface.loss)]))


def train_tolerance(landscape: str | Landscape, **params: float) -> float:
    """The loss at or below which a sweep counts a run as trained.

    ``TRAIN_FRACTION`` (10 %) of the landscape's typical loss: the median of
    the loss over its default window on a 64 x 64 grid, with these
    parameters. It is relative to the landscape, so one rule serves a
    surface whose losses are around 0.1 (``pascanu``: about 0.008) and one
    whose losses are around 2 (``ravine``: about 0.2); it uses the default
    window, not the sweep's, so zooming in does not move the bar.

    Why 10 %: on ``pascanu`` a run that reached the ravine keeps bouncing in
    it, ending anywhere from 1e-8 to a few 1e-3 depending on the phase of
    the bounce, while the failures sit at 0.09 (thrown onto the dead
    plateau) and 0.35 (the wrong basin). A bar at 10 % of the median falls
    between the two groups, so the classes do not flicker from pixel to pixel.
    """
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    return TRAIN_FRACTION * _typical_loss(scape.name, tuple(sorted(values.items())))


def _loss_text(value: float) -> str:
    return f"{value:.2g}"


def outcome_legend(
    landscape: str | Landscape, *, tolerance: float | None = None, **params: float
) -> list[str]:
    """One learner-facing sentence per outcome class, in ``OUTCOMES`` order, with the cut-off's value.

    Args:
      landscape: a registered name or a Landscape.
      tolerance: the cut-off a sweep used, if it was given one; by default
        ``train_tolerance(landscape, **params)``.
      **params: the landscape's own parameters (the cut-off depends on them).

    >>> outcome_legend("pascanu")[0].startswith("trains: the final loss is at most 10 %")
    True
    """
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    typical = _typical_loss(scape.name, tuple(sorted(values.items())))
    tol = TRAIN_FRACTION * typical if tolerance is None else positive_number("tolerance", tolerance)
    if tolerance is None:
        cut = (
            f"at most {100 * TRAIN_FRACTION:g} % of the landscape's typical loss "
            f"({_loss_text(typical)} here), "
            f"so at most {_loss_text(tol)}"
        )
    else:
        cut = f"at most {_loss_text(tol)}"
    label = OUTCOME_LABELS
    return [
        f"{label['trains']}: the final loss is {cut}, even if the path left the map on the way.",
        f"{label['stuck']}: the path stayed on the map and finite, but its final loss is above "
        f"{_loss_text(tol)}.",
        f"{label['thrown']}: the path left the map (the window drawn) at some step, and its final loss "
        f"is above {_loss_text(tol)}.",
        f"{label['diverged']}: a gradient, parameter or loss stopped being a finite number, and the run "
        "stopped there.",
    ]
