"""Sweeps: many descents at once, one per start point or per (learning rate, threshold) pair.

``sweep_starts`` runs the same descent from every point of a grid over a
window; ``sweep_hparams`` runs it from one start for every learning rate and
clipping threshold on a grid. Each cell is exactly what ``simulate`` would
compute for it (same clipping rule, optimizer, divergence handling), reduced
to a few numbers: where the run ended, its final loss, whether and when it
diverged or left the window, how often clipping fired and its longest step.

How it runs: the cells of a block (about 2000, sized for the cache) advance
together in one jitted loop, ``jax.vmap`` over the cells; the blocks of a
shard run one after the other inside the same program; the shards, one per
core, run at once in threads. As in the engine, the learning rates,
thresholds, step count, start points and landscape parameters (even the RNN
length ``T``) are traced values: a new value never recompiles; only a new
number of cells (a new resolution) or another landscape, optimizer, clipping
mode or dtype does.

"Exactly" means bit for bit, not merely close: near a cliff a difference in
the last digit of one gradient grows into another path within a few hundred
steps, and a learner who clicks a pixel must see that pixel's run in the
Explorer. Two details keep the arithmetic identical to the one-cell program
of ``simulate``: norm clipping is written per column (``_clip_cells``), and
the flagship ``pascanu`` landscape's fast path (``FAST_LOSSES``) only
reshapes the RNN's loop (unrolled in chunks, T still traced), never its
operations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
from jax.typing import ArrayLike

from .clipping import check_clip, check_clip_options
from .engine import ClipMode
from .optimizers import OptimizerName, check_optimizer_options
from .outcomes import (
    OUTCOMES,
    classify,
    train_tolerance,
)
from .registry import Landscape, Window, get_landscape
from .stateful_rules import history_capacity
from .status import OK
from .stepper import check_noise, check_placement, noise_as_traced, options_as_traced
from .sweep_program import (
    PASCANU_UNROLL,
    _execute,
)
from .validation import check_optimizer_settings, check_start, check_steps, positive_number

#: Most cells per side a sweep accepts.
MAX_RESOLUTION = 1024

# ---------------------------------------------------------------------------
# Results.


@dataclass(frozen=True)
class Sweep:
    """One descent per cell of a grid, summarised.

    Every per-cell array has shape (ny, nx) like Plotly's ``z``: row j is
    ``y[j]``, column i is ``x[i]``. For ``kind="starts"`` the axes are the
    landscape's parameters (the start point); for ``kind="hparams"``, x is
    the learning rate and y the clipping threshold. No array holds NaN: a
    diverged cell keeps the last finite values of its run.

    Attributes:
      kind: ``"starts"`` or ``"hparams"``.
      x, y: (nx,) and (ny,) the grid coordinates.
      x_name, y_name: what the axes are (``"w"``, ``"b"``; or ``"lr"``, ``"threshold"``).
      final_loss: the loss where the run ended (``inf`` only where the start
        loss itself is not finite).
      final_x, final_y: the point where the run ended.
      start_loss: the loss at the start (``inf`` where not finite).
      steps_taken: how many steps completed.
      diverged_at: the step that could not be completed because a gradient,
        parameter or loss was not finite (as ``Trajectory.diverged_at``); -1 if none.
      left_at: the first step index whose point lies outside ``window`` (as
        ``Trajectory.left_window_at``); -1 if none.
      n_clipped: how many completed steps clipping changed the gradient.
      longest_step: the longest applied update (0 if no step).
      outcome: the class of each cell, an index into ``OUTCOMES`` (see
        ``classify`` and ``OUTCOME_DEFINITIONS``).
      tolerance: the loss at or below which a run counts as trained.
      landscape, clip, optimizer, steps, lr, threshold, start, window,
        landscape_params, momentum, dtype, clip_options, optimizer_options,
        noise: the configuration. ``lr`` and
        ``threshold`` are None on the axis that varies them; ``start`` is
        None for a start sweep.
    """

    kind: Literal["starts", "hparams"]
    x: np.ndarray
    y: np.ndarray
    x_name: str
    y_name: str
    final_loss: np.ndarray
    final_x: np.ndarray
    final_y: np.ndarray
    start_loss: np.ndarray
    steps_taken: np.ndarray
    diverged_at: np.ndarray
    left_at: np.ndarray
    n_clipped: np.ndarray
    longest_step: np.ndarray
    outcome: np.ndarray
    tolerance: float
    landscape: str
    clip: str
    optimizer: str
    steps: int
    lr: float | None
    threshold: float | None
    start: tuple[float, float] | None
    window: Window
    landscape_params: Mapping[str, float] = field(default_factory=dict)
    momentum: float = 0.9
    dtype: str = "float64"
    clip_options: Mapping[str, float] = field(default_factory=dict)
    optimizer_options: Mapping[str, float] = field(default_factory=dict)
    noise: Mapping[str, float] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.final_loss.shape  # type: ignore[return-value]

    @property
    def diverged(self) -> np.ndarray:
        """(ny, nx) whether the run met a non-finite value."""
        return self.diverged_at >= 0

    @property
    def left_window(self) -> np.ndarray:
        """(ny, nx) whether the path ever left the window."""
        return self.left_at >= 0

    def locate(self, x: float, y: float) -> tuple[int, int]:
        """The (row j, column i) of the cell nearest to (x, y), e.g. a clicked pick point."""
        return int(np.argmin(np.abs(self.y - y))), int(np.argmin(np.abs(self.x - x)))

    def share(self, outcome: str) -> float:
        """The fraction of cells in one outcome class (``"trains"``, ...)."""
        return float(np.mean(self.outcome == OUTCOMES.index(outcome)))

    def counts(self) -> dict[str, int]:
        """How many cells fall in each outcome class."""
        return {name: int(np.sum(self.outcome == code)) for code, name in enumerate(OUTCOMES)}


def _check_window(window: Window | None, scape: Landscape) -> Window:
    if window is None:
        return scape.window
    try:
        (x0, x1), (y0, y1) = window
        x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
    except (TypeError, ValueError):
        raise ValueError(f"window must be ((x0, x1), (y0, y1)), got {window!r}") from None
    if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
        raise ValueError(f"window must be ((x0, x1), (y0, y1)) with x0 < x1, y0 < y1, got {window!r}")
    return (x0, x1), (y0, y1)


def _check_resolution(resolution: int | tuple[int, int]) -> tuple[int, int]:
    # numpy's isscalar guard would retype an int side as any numpy scalar: the sides are as annotated
    pair = (resolution, resolution) if np.isscalar(resolution) else tuple(resolution)  # type: ignore[arg-type]
    sides = cast("tuple[int, ...]", pair)
    try:
        nx, ny = (int(side) for side in sides)
        exact = all(float(side) == int(side) for side in sides)
    except (TypeError, ValueError):
        raise ValueError(f"resolution must be a whole number or (nx, ny), got {resolution!r}") from None
    if not exact or not (2 <= nx <= MAX_RESOLUTION and 2 <= ny <= MAX_RESOLUTION):
        raise ValueError(f"resolution must lie in [2, {MAX_RESOLUTION}] per side, got {resolution!r}")
    return nx, ny


def _check_common(optimizer: str, momentum: float, dtype) -> tuple[float, np.dtype]:
    return check_optimizer_settings(optimizer, momentum, dtype)


def _check_tolerance(tolerance: float | None, scape: Landscape, values: Mapping[str, float]) -> float:
    if tolerance is None:
        return train_tolerance(scape, **values)
    return positive_number("tolerance", tolerance)


def _run(
    scape: Landscape,
    starts: np.ndarray,
    lr: np.ndarray,
    threshold: np.ndarray,
    steps: int,
    values: Mapping[str, float],
    momentum: float,
    window: Window,
    dt: np.dtype,
    optimizer: str,
    clip: str,
    unroll: int,
    clip_options: Mapping[str, float] | None = None,
    optimizer_options: Mapping[str, float] | None = None,
    noise: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    (x0, x1), (y0, y1) = window
    floats, ints = _execute(
        (starts.astype(dt), lr.astype(dt), threshold.astype(dt)),
        (
            np.int32(steps),
            scape.param_vector(values, dt),
            dt.type(momentum),
            np.array([x0, x1, y0, y1], dtype=dt),
            options_as_traced(clip_options or {}, dt),
            options_as_traced(optimizer_options or {}, dt),
            noise_as_traced(noise, dt),
        ),
        dict(
            landscape=scape.name,
            optimizer=optimizer,
            clip=clip,
            unroll=int(unroll),
            capacity=history_capacity(clip, steps),
        ),
    )
    taken, status = ints[0], ints[1]
    return dict(
        final_x=floats[0],
        final_y=floats[1],
        # Only a start whose own loss is not finite can get here without a
        # finite loss; report it as inf, never NaN.
        final_loss=np.where(np.isfinite(floats[2]), floats[2], np.inf),
        start_loss=np.where(np.isfinite(floats[3]), floats[3], np.inf),
        longest_step=floats[4],
        steps_taken=taken,
        diverged_at=np.where(status != OK, taken, -1).astype(np.int32),
        left_at=ints[2],
        n_clipped=ints[3],
    )


def sweep_starts(
    landscape: str | Landscape,
    lr: float,
    steps: int,
    clip: ClipMode = "none",
    threshold: float | None = None,
    optimizer: OptimizerName = "sgd",
    resolution: int | tuple[int, int] = 128,
    window: Window | None = None,
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    tolerance: float | None = None,
    fast: bool = True,
    clip_options: Mapping[str, object] | None = None,
    optimizer_options: Mapping[str, object] | None = None,
    noise: Mapping[str, object] | None = None,
    **params: float,
) -> Sweep:
    """Runs the same descent from every start on a grid over a window.

    Each cell is the run ``simulate(landscape, (x[i], y[j]), lr, steps, clip,
    threshold, optimizer, ...)`` would make, summarised (see ``Sweep``).

    Args:
      landscape: a registered name or a Landscape.
      lr: learning rate, finite and positive.
      steps: number of steps, 0 to ``MAX_STEPS``.
      clip: any registered rule (``clip_modes()``).
      threshold: the rule's threshold, finite and positive; None for the
        rule's default.
      optimizer: ``"sgd"``, ``"momentum"``, ``"adam"`` or ``"adamw"``.
      resolution: starts per side, or (nx, ny); 2 to ``MAX_RESOLUTION``. A new
        number of cells compiles once; new values never do.
      window: ((x0, x1), (y0, y1)) the start grid, and the box a path must
        stay in not to count as thrown; the landscape's default when None.
      momentum: the heavy-ball coefficient, in [0, 1).
      dtype: ``"float64"`` (default) or ``"float32"``.
      tolerance: the loss at or below which a run trains; ``train_tolerance``
        when None.
      fast: use the landscape's fast path if it has one (``FAST_LOSSES``;
        the same numbers bit for bit, only quicker).
      clip_options, optimizer_options, noise: as for ``simulate`` (the same
        for every cell; with noise every cell draws the noise ``simulate``
        would draw for it).
      **params: the landscape's own parameters (e.g. ``T=50``).

    Returns:
      A Sweep of shape (ny, nx).

    Raises:
      ValueError: for any invalid argument, with a message naming it.

    >>> sweep = sweep_starts("pascanu", lr=0.5, steps=50, clip="norm", resolution=8)
    >>> sweep.final_loss.shape, sorted(sweep.counts())
    ((8, 8), ['diverged', 'stuck', 'thrown', 'trains'])
    """
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    lr = positive_number("learning rate", lr)
    threshold = check_clip(clip, threshold, default=True)
    options = check_clip_options(clip, clip_options)
    steps = check_steps(steps)
    momentum, dt = _check_common(optimizer, momentum, dtype)
    opt_options = check_optimizer_options(optimizer, optimizer_options)
    check_placement(clip, optimizer)
    noise = check_noise(noise)
    nx, ny = _check_resolution(resolution)
    window = _check_window(window, scape)
    tol = _check_tolerance(tolerance, scape, values)

    (x0, x1), (y0, y1) = window
    x, y = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
    xx, yy = np.meshgrid(x, y)
    starts = np.column_stack([xx.ravel(), yy.ravel()])
    n = starts.shape[0]
    out = _run(
        scape,
        starts,
        np.full(n, lr),
        np.full(n, threshold),
        steps,
        values,
        momentum,
        window,
        dt,
        optimizer,
        clip,
        PASCANU_UNROLL if fast else 0,
        options,
        opt_options,
        noise,
    )
    cells = {key: value.reshape(ny, nx) for key, value in out.items()}
    return Sweep(
        kind="starts",
        x=x,
        y=y,
        x_name=scape.param_names[0],
        y_name=scape.param_names[1],
        outcome=classify(cells["final_loss"], cells["diverged_at"], cells["left_at"], tol),
        tolerance=tol,
        landscape=scape.name,
        clip=clip,
        optimizer=optimizer,
        steps=steps,
        lr=lr,
        threshold=threshold,
        start=None,
        window=window,
        landscape_params=values,
        momentum=momentum,
        dtype=dt.name,
        clip_options=options,
        optimizer_options=opt_options,
        noise=noise,
        **cells,
    )


def _check_axis(
    name: str, values: ArrayLike | Sequence[float], check: Callable[[object], float]
) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=object))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got {values!r}")
    if array.size > MAX_RESOLUTION:
        raise ValueError(f"at most {MAX_RESOLUTION} {name}, got {array.size}")
    return np.array([check(v) for v in array], dtype=float)


def sweep_hparams(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lrs: Sequence[float] | ArrayLike,
    thresholds: Sequence[float] | ArrayLike,
    steps: int,
    clip: ClipMode,
    optimizer: OptimizerName = "sgd",
    *,
    window: Window | None = None,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    tolerance: float | None = None,
    fast: bool = True,
    clip_options: Mapping[str, object] | None = None,
    optimizer_options: Mapping[str, object] | None = None,
    noise: Mapping[str, object] | None = None,
    **params: float,
) -> Sweep:
    """Runs the same descent from one start for every (learning rate, threshold) pair.

    Cell (j, i) is the run ``simulate(landscape, start, lrs[i], steps, clip,
    thresholds[j], optimizer, ...)`` would make, summarised (see ``Sweep``).
    With ``clip="none"`` the threshold changes nothing, so every row is the same.

    Args:
      landscape: a registered name or a Landscape.
      start: the start (p1, p2); None for the landscape's default.
      lrs: the learning rates (x axis), each finite and positive.
      thresholds: the clipping thresholds (y axis), each finite and positive.
      steps: number of steps, 0 to ``MAX_STEPS``.
      clip: ``"none"``, ``"value"`` or ``"norm"``.
      optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
      window: the box a path must stay in not to count as thrown; the
        landscape's default when None.
      momentum, dtype, tolerance, fast, **params: as for ``sweep_starts``.

    Returns:
      A Sweep of shape (len(thresholds), len(lrs)); x holds the learning
      rates and y the thresholds, in the order given.

    Raises:
      ValueError: for any invalid argument, with a message naming it.
    """
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    start_point = check_start(scape.default_start if start is None else start)
    lr_axis = _check_axis("learning rates", lrs, lambda v: positive_number("learning rate", v))
    check_clip(clip, 1.0)
    c_axis = _check_axis("thresholds", thresholds, lambda v: check_clip(clip, v))
    options = check_clip_options(clip, clip_options)
    steps = check_steps(steps)
    momentum, dt = _check_common(optimizer, momentum, dtype)
    opt_options = check_optimizer_options(optimizer, optimizer_options)
    check_placement(clip, optimizer)
    noise = check_noise(noise)
    window = _check_window(window, scape)
    tol = _check_tolerance(tolerance, scape, values)

    lr_grid, c_grid = np.meshgrid(lr_axis, c_axis)
    n = lr_grid.size
    out = _run(
        scape,
        np.tile(start_point, (n, 1)),
        lr_grid.ravel(),
        c_grid.ravel(),
        steps,
        values,
        momentum,
        window,
        dt,
        optimizer,
        clip,
        PASCANU_UNROLL if fast else 0,
        options,
        opt_options,
        noise,
    )
    cells = {key: value.reshape(lr_grid.shape) for key, value in out.items()}
    return Sweep(
        kind="hparams",
        x=lr_axis,
        y=c_axis,
        x_name="lr",
        y_name="threshold",
        outcome=classify(cells["final_loss"], cells["diverged_at"], cells["left_at"], tol),
        tolerance=tol,
        landscape=scape.name,
        clip=clip,
        optimizer=optimizer,
        steps=steps,
        lr=None,
        threshold=None,
        start=(float(start_point[0]), float(start_point[1])),
        window=window,
        landscape_params=values,
        momentum=momentum,
        dtype=dt.name,
        clip_options=options,
        optimizer_options=opt_options,
        noise=noise,
        **cells,
    )


# ---------------------------------------------------------------------------
# Sensitivity: how fragile single pixels are.

#: The default relative nudge of every start in ``sweep_sensitivity``.
NUDGE = 1e-12


@dataclass(frozen=True)
class Sensitivity:
    """What a tiny nudge of every start does to a start map.

    Attributes:
      clip: the clipping mode of the sweep.
      nudge: the relative size of the nudge.
      outcome: (ny, nx) the class of each nudged run (codes as ``Sweep.outcome``).
      changed: (ny, nx) whether the nudge changed the cell's class.
      speckled: (ny, nx) whether the cell, before the nudge, had a neighbour
        in another class (see ``speckled``).
      shares_before, shares_after: the share of cells in each class, by name.
    """

    clip: str
    nudge: float
    outcome: np.ndarray
    changed: np.ndarray
    speckled: np.ndarray
    shares_before: Mapping[str, float]
    shares_after: Mapping[str, float]

    @property
    def changed_share(self) -> float:
        """The fraction of cells whose class the nudge changed."""
        return float(np.mean(self.changed))

    @property
    def speckled_share(self) -> float:
        """The fraction of the changed cells that had a neighbour in another class (0 if none changed)."""
        n = int(self.changed.sum())
        return float((self.changed & self.speckled).sum() / n) if n else 0.0

    @property
    def share_shift(self) -> float:
        """The largest change of any class's share, as a fraction (0.01 = one percentage point)."""
        return max(abs(self.shares_after[k] - self.shares_before[k]) for k in OUTCOMES)


def nudge_points(points: np.ndarray, nudge: float, window: Window) -> np.ndarray:
    """Each coordinate moved by ``nudge`` times its own size, towards the window's centre.

    Towards the centre, so a start on the window's edge stays inside it (a
    start pushed out would count as thrown at step 0); a coordinate that is
    0 moves by ``nudge`` times the window's width.
    """
    points = np.asarray(points, dtype=float)
    (x0, x1), (y0, y1) = window
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    span = np.array([x1 - x0, y1 - y0])
    direction = np.where(points > centre, -1.0, 1.0)
    return points + direction * nudge * np.where(points != 0, np.abs(points), span)


def speckled(outcome: np.ndarray) -> np.ndarray:
    """(ny, nx) whether a cell has a neighbour (of its 8) in another class."""
    outcome = np.asarray(outcome)
    ny, nx = outcome.shape
    padded = np.pad(outcome, 1, mode="edge")
    out = np.zeros(outcome.shape, dtype=bool)
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            if dj or di:
                out |= padded[1 + dj : 1 + dj + ny, 1 + di : 1 + di + nx] != outcome
    return out


def sweep_sensitivity(sweep: Sweep, nudge: float = NUDGE, *, fast: bool = True) -> Sensitivity:
    """Runs a start map again with every start nudged by ``nudge`` (relative), and compares.

    One more batched call of the same compiled program (the same number of
    cells), with the sweep's own tolerance. Near a cliff a long run can end
    in another class after a nudge of 1e-12: the pixel is chaotic. The
    shares of the classes hardly move: they are what a map can be trusted for.

    Args:
      sweep: a start sweep (``sweep_starts``).
      nudge: the relative nudge, finite and positive (see ``nudge_points``).
      fast: as for ``sweep_starts`` (the same numbers either way).

    Returns:
      A Sensitivity.

    Raises:
      ValueError: for a sweep that is not a start sweep, or a bad nudge.
    """
    if sweep.kind != "starts":
        raise ValueError("sweep_sensitivity nudges the starts of a start sweep (sweep_starts)")
    nudge = positive_number("nudge", nudge)
    scape = get_landscape(sweep.landscape)
    xx, yy = np.meshgrid(sweep.x, sweep.y)
    starts = nudge_points(np.column_stack([xx.ravel(), yy.ravel()]), nudge, sweep.window)
    n = starts.shape[0]
    dt = np.dtype(sweep.dtype)
    out = _run(
        scape,
        starts,
        np.full(n, sweep.lr),
        np.full(n, sweep.threshold),
        sweep.steps,
        sweep.landscape_params,
        sweep.momentum,
        sweep.window,
        dt,
        sweep.optimizer,
        sweep.clip,
        PASCANU_UNROLL if fast else 0,
        sweep.clip_options,
        sweep.optimizer_options,
        sweep.noise,
    )
    cells = {key: value.reshape(sweep.shape) for key, value in out.items()}
    outcome = classify(cells["final_loss"], cells["diverged_at"], cells["left_at"], sweep.tolerance)

    def shares(codes: np.ndarray) -> dict[str, float]:
        return {name: float(np.mean(codes == code)) for code, name in enumerate(OUTCOMES)}

    return Sensitivity(
        clip=sweep.clip,
        nudge=nudge,
        outcome=outcome,
        changed=outcome != sweep.outcome,
        speckled=speckled(sweep.outcome),
        shares_before=shares(sweep.outcome),
        shares_after=shares(outcome),
    )


__all__ = [
    "MAX_RESOLUTION",
    "NUDGE",
    "Sensitivity",
    "Sweep",
    "sweep_hparams",
    "sweep_sensitivity",
    "sweep_starts",
]
