"""The descent engine: jitted gradient-descent trajectories with clipping.

One compiled program serves every learning rate, threshold, start, step
count and landscape parameter: those are traced values. Only the landscape,
the optimizer, the clipping mode and the dtype select a compile. Runs are
written into a fixed buffer of ``MAX_STEPS`` rows by a ``lax.while_loop``
whose trip count is a traced value, so a short run costs only its own steps.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from . import _jaxsetup  # noqa: F401  (float64 on)
from .clipping import CLIP_RULES, check_clip, vector_norms
from .optimizers import OPTIMIZERS, OptimizerName
from .registry import Landscape, Window, get_landscape
from .status import OK, describe_end, start_status, step_status
from .validation import MAX_STEPS, check_optimizer_settings, check_start, check_steps, positive_number

ClipMode = Literal["none", "value", "norm"]
#: How many times each (landscape, optimizer, clip, dtype) program was traced.
#: Tracing happens once per compile, so tests read this to prove that changing
#: values does not recompile.
TRACE_COUNTS: collections.Counter[tuple[str, str, str, str]] = collections.Counter()


def value_and_grad_fn(landscape: Landscape) -> Callable[[jax.Array, jax.Array], tuple]:
    """``(theta, p) -> (loss, grad)`` by forward-mode differentiation.

    With two parameters forward mode costs two tangents, and unlike reverse
    mode it differentiates through loops whose length is a traced value
    (the RNN's T).
    """

    def both(theta: jax.Array, p: jax.Array) -> tuple[jax.Array, jax.Array]:
        loss = landscape.loss(theta, p)
        return loss, loss

    def value_and_grad(theta: jax.Array, p: jax.Array) -> tuple[jax.Array, jax.Array]:
        grad, loss = jax.jacfwd(both, has_aux=True)(theta, p)
        return loss, grad

    return value_and_grad


def _descend_core(theta0, lr, threshold, steps, p, momentum, *, landscape, optimizer, clip, rule_index=None):
    value_and_grad = value_and_grad_fn(get_landscape(landscape))
    if rule_index is None:
        clip_rule = CLIP_RULES[clip]
    else:
        # Several modes in one program: `clip` is a tuple of mode names and the
        # traced index picks the rule (under vmap every rule is evaluated and
        # the right one selected, which costs next to nothing for 2 numbers).
        rules = [CLIP_RULES[mode] for mode in clip]

        def clip_rule(g, c):
            return lax.switch(rule_index, rules, g, c)

    opt = OPTIMIZERS[optimizer](lr, momentum)
    dtype = theta0.dtype

    loss0, grad0 = value_and_grad(theta0, p)
    # One packed (MAX_STEPS + 2, 8) buffer, so the host fetches a single array:
    # columns are params (2), loss, grad (2), update (2), clipped; the last row
    # carries the number of steps taken and the status code.
    history = jnp.zeros((MAX_STEPS + 2, 8), dtype).at[0, :3].set(jnp.append(theta0, loss0))

    def running(state):
        i, _, _, _, status, _ = state
        return (i < steps) & (status == OK)

    def step(state):
        i, theta, opt_state, grad, _, hist = state
        clipped_grad = clip_rule(grad, threshold)
        update, new_opt_state = opt.update(clipped_grad, opt_state, theta)
        new_theta = theta + update
        new_loss, new_grad = value_and_grad(new_theta, p)
        status = step_status(grad, new_theta, new_loss)
        # Rows past the last good step are sliced off on the host; row i of
        # grad/update is kept even for a failed step so the reason can quote it.
        fired = jnp.any(clipped_grad != grad).astype(dtype)
        hist = hist.at[i + 1, :3].set(jnp.append(new_theta, new_loss))
        hist = hist.at[i, 3:].set(jnp.concatenate([grad, update, fired[None]]))
        ok = status == OK
        return (
            jnp.where(ok, i + 1, i),
            jnp.where(ok, new_theta, theta),
            new_opt_state,
            new_grad,
            status,
            hist,
        )

    init = (jnp.int32(0), theta0, opt.init(theta0), grad0, start_status(loss0), history)
    taken, _, _, _, status, history = lax.while_loop(running, step, init)
    return history.at[MAX_STEPS + 1, :2].set(jnp.stack([taken, status]).astype(dtype))


@partial(jax.jit, static_argnames=("landscape", "optimizer", "clip"))
def _descend(theta0, lr, threshold, steps, p, momentum, *, landscape, optimizer, clip):
    TRACE_COUNTS[(landscape, optimizer, clip, str(theta0.dtype))] += 1
    return _descend_core(
        theta0, lr, threshold, steps, p, momentum, landscape=landscape, optimizer=optimizer, clip=clip
    )


@partial(jax.jit, static_argnames=("landscape", "optimizer", "modes"))
def _descend_modes(theta0, lr, threshold, steps, p, momentum, *, landscape, optimizer, modes):
    TRACE_COUNTS[(landscape, optimizer, modes, str(theta0.dtype))] += 1

    def one(index):
        return _descend_core(
            theta0,
            lr,
            threshold,
            steps,
            p,
            momentum,
            landscape=landscape,
            optimizer=optimizer,
            clip=modes,
            rule_index=index,
        )

    return jax.vmap(one)(jnp.arange(len(modes)))


@partial(jax.jit, static_argnames=("landscape", "optimizer", "clip"))
def _descend_many(theta0, lrs, thresholds, steps, p, momentum, *, landscape, optimizer, clip):
    TRACE_COUNTS[(landscape, optimizer, clip, str(theta0.dtype), "batch")] += 1
    run = partial(_descend_core, landscape=landscape, optimizer=optimizer, clip=clip)
    return jax.vmap(run, in_axes=(None, 0, 0, None, None, None))(theta0, lrs, thresholds, steps, p, momentum)


@dataclass(frozen=True)
class Trajectory:
    """A descent path and everything measured along it.

    With ``k`` the number of steps actually taken:

    Attributes:
      params: (k+1, 2) the points visited, the start first.
      loss: (k+1,) the loss at each point.
      grad: (k, 2) the raw gradient at each point a step was taken from.
      update: (k, 2) the step applied (after clipping and the optimizer).
      grad_norm: (k,) the length of each raw gradient.
      clipped: (k,) whether clipping changed the gradient at that step.
      diverged_at: the index of the step that could not be completed because
        a gradient, parameter or loss was not finite; None if none.
      reason: a sentence saying how the run ended.
      landscape, lr, clip, threshold, optimizer, landscape_params, steps_requested,
        dtype: the configuration that produced it.
    """

    params: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    update: np.ndarray
    grad_norm: np.ndarray
    clipped: np.ndarray
    diverged_at: int | None
    reason: str
    landscape: str
    lr: float
    clip: str
    threshold: float
    optimizer: str
    landscape_params: Mapping[str, float] = field(default_factory=dict)
    steps_requested: int = 0
    dtype: str = "float64"

    @property
    def steps_taken(self) -> int:
        return len(self.update)

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def step_length(self) -> np.ndarray:
        """(k,) the length of each applied update."""
        return vector_norms(self.update)

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    @property
    def best_loss(self) -> float:
        return float(self.loss.min())

    @property
    def n_clipped(self) -> int:
        return int(self.clipped.sum())

    @property
    def longest_step(self) -> float:
        return float(self.step_length.max()) if self.steps_taken else 0.0

    def left_window_at(self, window: Window) -> int | None:
        """The first step index whose point lies outside ``window``, or None."""
        (x0, x1), (y0, y1) = window
        x, y = self.params[:, 0], self.params[:, 1]
        outside = np.flatnonzero((x < x0) | (x > x1) | (y < y0) | (y > y1))
        return int(outside[0]) if outside.size else None


def _unpack(hist: np.ndarray, steps: int, settings: dict) -> Trajectory:
    """A Trajectory from the packed buffer one run of ``_descend_core`` returns."""
    k, status = int(hist[-1, 0]), int(hist[-1, 1])
    if not np.isfinite(hist[0, 2]):
        start = tuple(hist[0, :2].tolist())
        raise ValueError(f"the loss is not finite at the start {start}")
    grad = hist[:k, 3:5]
    return Trajectory(
        params=hist[: k + 1, 0:2],
        loss=hist[: k + 1, 2],
        grad=grad,
        update=hist[:k, 5:7],
        grad_norm=vector_norms(grad),  # scaled: finite for a 1e200 gradient
        clipped=hist[:k, 7] != 0,
        diverged_at=None if status == OK else k,
        reason=describe_end(status, k, hist[k, 3:5], hist[k, 5:7], steps),
        steps_requested=steps,
        **settings,
    )


@dataclass(frozen=True)
class _Call:
    """Validated arguments of one engine call, ready for the jitted programs."""

    scape: Landscape
    values: dict[str, float]
    start: np.ndarray
    steps: int
    momentum: float
    dtype: np.dtype
    optimizer: str

    def traced(self, lr, threshold) -> tuple:
        """The traced arguments of _descend* (numpy values: no device round trip)."""
        dt = self.dtype
        return (
            self.start.astype(dt),
            np.asarray(lr, dt),
            np.asarray(threshold, dt),
            np.int32(self.steps),
            self.scape.param_vector(self.values, dt),
            dt.type(self.momentum),
        )

    def trajectory(self, packed: np.ndarray, lr: float, clip: str, threshold: float) -> Trajectory:
        settings = dict(
            landscape=self.scape.name,
            lr=lr,
            clip=clip,
            threshold=threshold,
            optimizer=self.optimizer,
            landscape_params=self.values,
            dtype=self.dtype.name,
        )
        return _unpack(packed, self.steps, settings)


def _prepare(landscape, start, steps, clip, optimizer, momentum, dtype, params) -> _Call:
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    start_point = check_start(scape.default_start if start is None else start)
    if clip not in CLIP_RULES:
        check_clip(clip, 1.0)
    steps = check_steps(steps)
    momentum, dt = check_optimizer_settings(optimizer, momentum, dtype)
    return _Call(scape, values, start_point, steps, momentum, dt, optimizer)


def simulate(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lr: float,
    steps: int,
    clip: ClipMode = "none",
    threshold: float = 1.0,
    optimizer: OptimizerName = "sgd",
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    **params: float,
) -> Trajectory:
    """Runs gradient descent with optional clipping on a landscape.

    Clipping acts on the raw gradient before the optimizer, as in torch and
    optax. A run that meets a non-finite gradient, parameter or loss stops
    there and says so in ``reason``; the arrays hold only the steps taken.

    Args:
      landscape: a registered name (see ``list_landscapes``) or a Landscape.
      start: the starting point (p1, p2); None for the landscape's default.
      lr: learning rate, finite and positive.
      steps: number of steps, 0 to ``MAX_STEPS``.
      clip: ``"none"``, ``"value"`` or ``"norm"``.
      threshold: the clipping threshold c, finite and positive.
      optimizer: ``"sgd"`` (plain), ``"momentum"`` (heavy ball) or ``"adam"``.
      momentum: the heavy-ball coefficient, in [0, 1).
      dtype: ``"float64"`` (default) or ``"float32"``.
      **params: the landscape's own parameters (e.g. ``T=50`` for pascanu).

    Returns:
      A Trajectory of numpy arrays.

    Raises:
      ValueError: for any invalid argument, with a message naming it.

    >>> run = simulate("pascanu", (4.7, -2.2), lr=0.5, steps=4)
    >>> run.params[4].round(2).tolist()
    [39.04, 53.44]
    """
    call = _prepare(landscape, start, steps, clip, optimizer, momentum, dtype, params)
    lr = positive_number("learning rate", lr)
    threshold = check_clip(clip, threshold)
    packed = _descend(*call.traced(lr, threshold), landscape=call.scape.name, optimizer=optimizer, clip=clip)
    return call.trajectory(np.asarray(packed), lr, clip, threshold)


def simulate_modes(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lr: float,
    steps: int,
    threshold: float = 1.0,
    optimizer: OptimizerName = "sgd",
    modes: tuple[str, ...] = ("none", "value", "norm"),
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    **params: float,
) -> dict[str, Trajectory]:
    """The same run once per clipping mode, all in one compiled, batched call.

    The numbers ``simulate`` gives for each mode (equal up to rounding in the
    last bit, tested), but one
    compile and one dispatch serve every mode: what the Explorer uses.
    """
    modes = tuple(modes)
    for mode in modes:
        check_clip(mode, threshold)
    call = _prepare(landscape, start, steps, "none", optimizer, momentum, dtype, params)
    lr = positive_number("learning rate", lr)
    threshold = positive_number("clipping threshold", threshold)
    if not modes:
        return {}
    packed = np.asarray(
        _descend_modes(
            *call.traced(lr, threshold), landscape=call.scape.name, optimizer=optimizer, modes=modes
        )
    )
    return {mode: call.trajectory(packed[i], lr, mode, threshold) for i, mode in enumerate(modes)}


def simulate_many(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lrs: ArrayLike,
    thresholds: ArrayLike,
    steps: int,
    clip: ClipMode = "none",
    optimizer: OptimizerName = "sgd",
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    **params: float,
) -> list[Trajectory]:
    """Many runs from one start in one batched call, one per (lrs[i], thresholds[i]).

    ``lrs`` and ``thresholds`` are broadcast against each other. One compile
    serves each batch size; the values never recompile. Otherwise exactly as
    ``simulate`` (same validation, same divergence handling).
    """
    call = _prepare(landscape, start, steps, clip, optimizer, momentum, dtype, params)
    lr_arr, c_arr = np.broadcast_arrays(np.atleast_1d(lrs), np.atleast_1d(thresholds))
    lr_list = [positive_number("learning rate", v) for v in lr_arr.tolist()]
    c_list = [check_clip(clip, v) for v in c_arr.tolist()]
    packed = np.asarray(
        _descend_many(
            *call.traced(lr_list, c_list), landscape=call.scape.name, optimizer=optimizer, clip=clip
        )
    )
    return [
        call.trajectory(packed[i], lr, clip, c) for i, (lr, c) in enumerate(zip(lr_list, c_list, strict=True))
    ]
