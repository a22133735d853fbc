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

import collections
import dataclasses
import functools
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from . import _jaxsetup  # noqa: F401  (float64 on)
from .clipping import CLIP_RULES, CLIP_SPECS, check_clip, positive_number, scaled_norm
from .engine import (
    _BAD_GRAD,
    _BAD_LOSS,
    _BAD_PARAMS,
    _OK,
    OPTIMIZERS,
    ClipMode,
    OptimizerName,
    _check_start,
    _check_steps,
    check_optimizer_settings,
    value_and_grad_fn,
)
from .mesh import loss_surface
from .objectives import PASCANU_TARGET, PASCANU_X0
from .registry import Landscape, Window, get_landscape

# ---------------------------------------------------------------------------
# Outcome classes.

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

#: Most cells per side a sweep accepts.
MAX_RESOLUTION = 1024

# ---------------------------------------------------------------------------
# The jitted core.

#: How many times each sweep program was traced, keyed by
#: (landscape, optimizer, clip, dtype, number of cells, path), path being
#: "generic" or "unroll k" (a landscape's fast path). Tests read it
#: to prove that new values do not recompile.
SWEEP_TRACE_COUNTS: collections.Counter[tuple[str, str, str, str, int, str]] = collections.Counter()

#: Inner steps of the RNN recurrence per rolled loop iteration in the
#: ``pascanu`` fast path (the benchmark compares choices).
PASCANU_UNROLL = 10


def pascanu_loss_unrolled(theta: jax.Array, p: jax.Array, unroll: int = PASCANU_UNROLL) -> jax.Array:
    """The Pascanu RNN loss of ``objectives``, its loop unrolled in chunks.

    The same operations in the same order as the registered loss, so forward
    mode gives bit-for-bit the same loss and gradient (the tests check it),
    and a cell of a sweep is exactly the run ``simulate`` shows. Only the
    loop is reshaped: ``unroll`` steps per rolled iteration plus a rolled
    remainder, so the length T stays a traced value (one compile for every
    T) while XLA can work on several steps per pass over the cells.
    """
    w, b = theta[0], theta[1]
    length = p[0].astype(jnp.int32)

    def step(_, x):
        return w * jax.nn.sigmoid(x) + b

    def chunk(i, x):
        for _ in range(unroll):
            x = step(i, x)
        return x

    x = jnp.asarray(PASCANU_X0, dtype=jnp.result_type(w, b))
    x = lax.fori_loop(0, length // unroll, chunk, x)
    x = lax.fori_loop(0, length % unroll, step, x)
    return (jax.nn.sigmoid(x) - PASCANU_TARGET) ** 2


#: Faster formulations of registered losses for sweeps, by landscape name:
#: ``loss(theta, p, unroll)``, the same function of (theta, p) for every
#: ``unroll`` >= 1, checked against the registered loss in the tests.
FAST_LOSSES: dict[str, Callable[[jax.Array, jax.Array, int], jax.Array]] = {
    "pascanu": pascanu_loss_unrolled,
}


def _cell_value_and_grad(landscape: str, unroll: int):
    """``(theta, p) -> (loss, grad)`` for one cell; ``unroll`` 0 is the generic path."""
    scape = get_landscape(landscape)
    if unroll and landscape in FAST_LOSSES:
        scape = dataclasses.replace(scape, loss=partial(FAST_LOSSES[landscape], unroll=unroll))
    return value_and_grad_fn(scape)


def _path(landscape: str, unroll: int) -> str:
    return f"unroll {unroll}" if unroll and landscape in FAST_LOSSES else "generic"


def _clip_cells(clip: str, grad: jax.Array, threshold: jax.Array) -> jax.Array:
    """The clipping rule ``clip`` applied to each row of ``grad`` (n, 2) with its own threshold (n,).

    A rule's registered batched form where it has one (the built-in rules'
    are bit for bit their one-cell rule, see ``clipping._clip_norm_batched``),
    else ``jax.vmap`` of the rule, within the tolerance the registry states.
    """
    batched = CLIP_SPECS[clip].batched
    if batched is not None:
        return batched(grad, threshold)
    return jax.vmap(CLIP_RULES[clip])(grad, threshold)


def _where_cells(ok: jax.Array, new: jax.Array, old: jax.Array) -> jax.Array:
    """Per cell (leading axis): ``new`` where ok, else ``old``."""
    return jnp.where(ok.reshape(ok.shape + (1,) * (new.ndim - 1)), new, old)


def _sweep_cells(theta0, lr, threshold, steps, p, momentum, bounds, *, landscape, optimizer, clip, unroll):
    """Runs every cell's descent; the per-cell logic mirrors ``engine._descend``.

    theta0: (n, 2) starts; lr, threshold: (n,) per cell; bounds: (4,) the
    window (x0, x1, y0, y1) for the "left the window" test; unroll: the
    fast path's chunk size (0 for the generic path).
    """
    n_cells = theta0.shape[0]
    value_and_grad = jax.vmap(_cell_value_and_grad(landscape, unroll), in_axes=(0, None))

    def init_opt(theta, rate):
        return OPTIMIZERS[optimizer](rate, momentum).init(theta)

    def advance(clipped, opt_state, theta, rate):
        return OPTIMIZERS[optimizer](rate, momentum).update(clipped, opt_state, theta)

    def outside(theta):
        x, y = theta[:, 0], theta[:, 1]
        return (x < bounds[0]) | (x > bounds[1]) | (y < bounds[2]) | (y > bounds[3])

    loss0, grad0 = value_and_grad(theta0, p)
    int_zeros = jnp.zeros(n_cells, jnp.int32)
    init = dict(
        n=jnp.int32(0),
        theta=theta0,
        opt_state=jax.vmap(init_opt)(theta0, lr),
        loss=loss0,
        grad=grad0,
        status=jnp.where(jnp.isfinite(loss0), _OK, _BAD_LOSS).astype(jnp.int32),
        taken=int_zeros,
        left_at=jnp.where(outside(theta0), 0, -1).astype(jnp.int32),
        n_clipped=int_zeros,
        longest=jnp.zeros(n_cells, theta0.dtype),
    )

    def running(state):
        return (state["n"] < steps) & jnp.any(state["status"] == _OK)

    def step(state):
        active = state["status"] == _OK
        theta, grad = state["theta"], state["grad"]
        clipped = _clip_cells(clip, grad, threshold)
        fired = jnp.any(clipped != grad, axis=1)
        update, new_opt_state = jax.vmap(advance)(clipped, state["opt_state"], theta, lr)
        new_theta = theta + update
        new_loss, new_grad = value_and_grad(new_theta, p)
        verdict = jnp.where(
            ~jnp.all(jnp.isfinite(grad), axis=1),
            _BAD_GRAD,
            jnp.where(
                ~jnp.all(jnp.isfinite(new_theta), axis=1),
                _BAD_PARAMS,
                jnp.where(~jnp.isfinite(new_loss), _BAD_LOSS, _OK),
            ),
        )
        # A cell that stopped earlier keeps everything; a cell whose step
        # fails keeps its last finite values and records why it stopped.
        ok = active & (verdict == _OK)
        n = state["n"]
        length, _, _ = scaled_norm(update[:, 0], update[:, 1])  # no overflow for huge steps
        return dict(
            n=n + 1,
            theta=_where_cells(ok, new_theta, theta),
            opt_state=jax.tree.map(partial(_where_cells, ok), new_opt_state, state["opt_state"]),
            loss=jnp.where(ok, new_loss, state["loss"]),
            grad=_where_cells(ok, new_grad, grad),
            status=jnp.where(active, verdict, state["status"]).astype(jnp.int32),
            taken=state["taken"] + ok.astype(jnp.int32),
            left_at=jnp.where(ok & (state["left_at"] < 0) & outside(new_theta), n + 1, state["left_at"]),
            n_clipped=state["n_clipped"] + (ok & fired).astype(jnp.int32),
            longest=jnp.where(ok, jnp.maximum(state["longest"], length), state["longest"]),
        )

    final = lax.while_loop(running, step, init)
    floats = jnp.stack([final["theta"][:, 0], final["theta"][:, 1], final["loss"], loss0, final["longest"]])
    ints = jnp.stack([final["taken"], final["status"], final["left_at"], final["n_clipped"]])
    return floats, ints


def _sweep_blocks(theta0, lr, threshold, steps, p, momentum, bounds, *, landscape, optimizer, clip, unroll):
    """``_sweep_cells`` over blocks of cells, one block after the other.

    theta0: (blocks, cells, 2); lr, threshold: (blocks, cells). A block of
    about 2000 cells keeps the RNN's intermediate states in the core's cache,
    which a single pass over 16 384 cells does not: a quarter to a third less work
    for the same numbers (blocks are independent; the tests compare them).
    """
    blocks, cells = theta0.shape[:2]
    key = (landscape, optimizer, clip, str(theta0.dtype), blocks * cells, _path(landscape, unroll))
    SWEEP_TRACE_COUNTS[key] += 1

    def one_block(block):
        return _sweep_cells(
            *block,
            steps,
            p,
            momentum,
            bounds,
            landscape=landscape,
            optimizer=optimizer,
            clip=clip,
            unroll=unroll,
        )

    return lax.map(one_block, (theta0, lr, threshold))


_STATIC = ("landscape", "optimizer", "clip", "unroll")

#: XLA options for the CPU build of the sweep. Vectors of 512 bits (where the
#: CPU has AVX-512; ignored elsewhere) cut the time of a 128 x 128 map by
#: about a quarter and change no result: the same operations run on more
#: lanes at once (the tests compare cells with simulate bit for bit).
CPU_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}

_sweep_generic = jax.jit(_sweep_blocks, static_argnames=_STATIC)
_sweep_cpu = jax.jit(_sweep_blocks, static_argnames=_STATIC, compiler_options=CPU_COMPILER_OPTIONS)

#: Most cells per block on the CPU (see ``_sweep_blocks``).
BLOCK_CELLS = 2048


def _cpu_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Shards of a sweep run at once, one per core, each in its own thread (JAX
#: releases the GIL while XLA runs). Coarse pieces of work that never wait
#: for each other: with other processes on the machine this degrades far
#: more gently than splitting every small array operation across threads.
WORKERS = min(_cpu_workers(), 8)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_compiled: set[tuple] = set()


def _layout(n: int, workers: int, on_cpu: bool) -> tuple[int, int, int]:
    """(shards, blocks per shard, cells per block) covering ``n`` cells, with little padding."""
    if not on_cpu:
        return 1, 1, n
    shards = max(1, min(workers, math.ceil(n / BLOCK_CELLS)))
    blocks = math.ceil(n / (shards * BLOCK_CELLS))
    return shards, blocks, math.ceil(n / (shards * blocks))


def _execute(arrays: tuple[np.ndarray, ...], shared: tuple, static: dict) -> tuple[np.ndarray, np.ndarray]:
    """Runs the jitted sweep over cells split into shards and blocks; returns (floats, ints) per cell."""
    global _pool
    on_cpu = jax.default_backend() == "cpu"
    fn = _sweep_cpu if on_cpu else _sweep_generic
    n = arrays[0].shape[0]
    shards, blocks, cells = _layout(n, WORKERS, on_cpu)
    padded = shards * blocks * cells
    # Padding repeats the last cell: real values, so nothing non-finite runs.
    parts = [
        np.concatenate([a, np.repeat(a[-1:], padded - n, axis=0)]).reshape(
            shards, blocks, cells, *a.shape[1:]
        )
        for a in arrays
    ]

    def run(k: int):
        return fn(*(part[k] for part in parts), *shared, **static)

    signature = (on_cpu, blocks, cells, str(arrays[0].dtype), *sorted(static.items()))
    if shards == 1 or signature not in _compiled:
        # The first call of a signature compiles: do it once, in this thread,
        # before the other shards run (two threads would trace it twice).
        results = [run(0)]
        _compiled.add(signature)
        first = 1
    else:
        results, first = [], 0
    if shards > first:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sweep")
        results += list(_pool.map(lambda k: jax.block_until_ready(run(k)), range(first, shards)))
    floats = np.concatenate(
        [np.asarray(r[0]).transpose(1, 0, 2).reshape(-1, blocks * cells) for r in results], 1
    )
    ints = np.concatenate(
        [np.asarray(r[1]).transpose(1, 0, 2).reshape(-1, blocks * cells) for r in results], 1
    )
    return floats[:, :n], ints[:, :n]


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
        landscape_params, momentum, dtype: the configuration. ``lr`` and
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

    >>> outcome_legend("pascanu")[0][:80]
    "trains: the final loss is at most 10 % of the landscape's typical loss (0.084 h"
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


# ---------------------------------------------------------------------------
# Public entry points.


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
    sides = (resolution, resolution) if np.isscalar(resolution) else tuple(resolution)  # type: ignore[arg-type]
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
) -> dict[str, np.ndarray]:
    (x0, x1), (y0, y1) = window
    floats, ints = _execute(
        (starts.astype(dt), lr.astype(dt), threshold.astype(dt)),
        (
            np.int32(steps),
            scape.param_vector(values, dt),
            dt.type(momentum),
            np.array([x0, x1, y0, y1], dtype=dt),
        ),
        dict(landscape=scape.name, optimizer=optimizer, clip=clip, unroll=int(unroll)),
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
        diverged_at=np.where(status != _OK, taken, -1).astype(np.int32),
        left_at=ints[2],
        n_clipped=ints[3],
    )


def sweep_starts(
    landscape: str | Landscape,
    lr: float,
    steps: int,
    clip: ClipMode = "none",
    threshold: float = 1.0,
    optimizer: OptimizerName = "sgd",
    resolution: int | tuple[int, int] = 128,
    window: Window | None = None,
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    tolerance: float | None = None,
    fast: bool = True,
    **params: float,
) -> Sweep:
    """Runs the same descent from every start on a grid over a window.

    Each cell is the run ``simulate(landscape, (x[i], y[j]), lr, steps, clip,
    threshold, optimizer, ...)`` would make, summarised (see ``Sweep``).

    Args:
      landscape: a registered name or a Landscape.
      lr: learning rate, finite and positive.
      steps: number of steps, 0 to ``MAX_STEPS``.
      clip: ``"none"``, ``"value"`` or ``"norm"``.
      threshold: the clipping threshold c, finite and positive.
      optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
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
    threshold = check_clip(clip, threshold)
    steps = _check_steps(steps)
    momentum, dt = _check_common(optimizer, momentum, dtype)
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
        **cells,
    )


def _check_axis(name: str, values: ArrayLike, check: Callable[[object], float]) -> np.ndarray:
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
    start_point = _check_start(scape.default_start if start is None else start)
    lr_axis = _check_axis("learning rates", lrs, lambda v: positive_number("learning rate", v))
    check_clip(clip, 1.0)
    c_axis = _check_axis("thresholds", thresholds, lambda v: check_clip(clip, v))
    steps = _check_steps(steps)
    momentum, dt = _check_common(optimizer, momentum, dtype)
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
    "OUTCOMES",
    "OUTCOME_DEFINITIONS",
    "OUTCOME_LABELS",
    "TRAIN_FRACTION",
    "Sensitivity",
    "Sweep",
    "classify",
    "outcome_legend",
    "sweep_hparams",
    "sweep_sensitivity",
    "sweep_starts",
    "train_tolerance",
]
