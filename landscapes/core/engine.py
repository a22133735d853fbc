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
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ._jaxsetup import QUICK_COMPILE  # importing _jaxsetup turns float64 on
from .clipping import CLIP_RULES, CLIP_SPECS, check_clip, check_clip_options, vector_norms
from .optimizers import OptimizerName, check_optimizer_options, optimizer_transform
from .registry import Landscape, Window, get_landscape
from .status import OK, describe_end, start_status, step_status
from .stepper import (
    add_noise,
    check_noise,
    check_placement,
    make_stepper,
    noise_as_traced,
    noise_draw,
    options_as_traced,
)
from .validation import MAX_STEPS, check_optimizer_settings, check_start, check_steps, positive_number

ClipMode = Literal[
    "none",
    "value",
    "norm",
    "norm_torch",
    "per_variable",
    "normalize",
    "agc",
    "autoclip",
    "zclip",
    "clip_update",
    "skip",
]
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


def _descend_core(
    theta0,
    lr,
    threshold,
    steps,
    p,
    momentum,
    clip_opts,
    opt_opts,
    noise,
    *,
    landscape,
    optimizer,
    clip,
    rule_index=None,
):
    value_and_grad = value_and_grad_fn(get_landscape(landscape))
    dtype = theta0.dtype
    if rule_index is None:
        opt_init, advance = make_stepper(clip, optimizer, lr, momentum, threshold, clip_opts, opt_opts)
    else:
        # Several stateless modes in one program: `clip` is a tuple of mode
        # names, the traced index picks the rule and `threshold` and
        # `clip_opts` hold each mode's (under vmap every rule is evaluated
        # and the right one selected, which costs next to nothing for 2 numbers).
        opt = optimizer_transform(optimizer, lr, momentum, opt_opts)
        rules = [
            partial(lambda g, c, mode, opts: CLIP_RULES[mode](g, c, **opts), mode=mode, opts=opts)
            for mode, opts in zip(clip, clip_opts, strict=True)
        ]
        uses = jnp.array([CLIP_SPECS[mode].uses_threshold for mode in clip])
        opt_init = opt.init

        def advance(g, state, theta):
            clipped = lax.switch(rule_index, rules, g, threshold)
            update, new_state = opt.update(clipped, state, theta)
            level = jnp.where(uses[rule_index], threshold, jnp.inf).astype(dtype)
            # theta is one array leaf, so optax's update tree is that one array
            return cast(jax.Array, update), new_state, jnp.any(clipped != g), level

    loss0, grad0 = value_and_grad(theta0, p)
    # One packed (MAX_STEPS + 2, 10) buffer, so the host fetches a single array:
    # columns are params (2), loss, grad (2), update (2), clipped, the rule's
    # threshold, spiked; the last row carries the number of steps taken and the status code.
    history = jnp.zeros((MAX_STEPS + 2, COLUMNS), dtype).at[0, :3].set(jnp.append(theta0, loss0))

    def running(state):
        i, _, _, _, status, _ = state
        return (i < steps) & (status == OK)

    def step(state):
        i, theta, opt_state, grad, _, hist = state
        if noise:
            z, spiked = noise_draw(noise, i, grad.shape[0], dtype)
            grad = add_noise(grad, z, spiked, noise)
        else:
            spiked = jnp.zeros((), bool)
        update, new_opt_state, fired, level = advance(grad, opt_state, theta)
        new_theta = theta + update
        new_loss, new_grad = value_and_grad(new_theta, p)
        status = step_status(grad, new_theta, new_loss)
        # Rows past the last good step are sliced off on the host; row i of
        # grad/update is kept even for a failed step so the reason can quote it.
        extra = jnp.stack([fired.astype(dtype), level, spiked.astype(dtype)])
        hist = hist.at[i + 1, :3].set(jnp.append(new_theta, new_loss))
        hist = hist.at[i, 3:].set(jnp.concatenate([grad, update, extra]))
        ok = status == OK
        return (
            jnp.where(ok, i + 1, i),
            jnp.where(ok, new_theta, theta),
            new_opt_state,
            new_grad,
            status,
            hist,
        )

    init = (jnp.int32(0), theta0, opt_init(theta0), grad0, start_status(loss0), history)
    taken, _, _, _, status, history = lax.while_loop(running, step, init)
    return history.at[MAX_STEPS + 1, :2].set(jnp.stack([taken, status]).astype(dtype))


#: Columns of the packed history buffer.
COLUMNS = 10


def _key(*parts, noise) -> tuple:
    return (*parts, "noise") if noise else parts


_STATIC = ("landscape", "optimizer", "clip")


@partial(jax.jit, static_argnames=_STATIC)
def _descend(
    theta0, lr, threshold, steps, p, momentum, clip_opts, opt_opts, noise, *, landscape, optimizer, clip
):
    TRACE_COUNTS[_key(landscape, optimizer, clip, str(theta0.dtype), noise=noise)] += 1
    return _descend_core(
        theta0,
        lr,
        threshold,
        steps,
        p,
        momentum,
        clip_opts,
        opt_opts,
        noise,
        landscape=landscape,
        optimizer=optimizer,
        clip=clip,
    )


@partial(jax.jit, static_argnames=("landscape", "optimizer", "modes"))
def _descend_modes(
    theta0, lr, thresholds, steps, p, momentum, clip_opts, opt_opts, noise, *, landscape, optimizer, modes
):
    TRACE_COUNTS[_key(landscape, optimizer, modes, str(theta0.dtype), noise=noise)] += 1

    def one(index, threshold):
        return _descend_core(
            theta0,
            lr,
            threshold,
            steps,
            p,
            momentum,
            clip_opts,
            opt_opts,
            noise,
            landscape=landscape,
            optimizer=optimizer,
            clip=modes,
            rule_index=index,
        )

    return jax.vmap(one)(jnp.arange(len(modes)), thresholds)


@partial(jax.jit, static_argnames=_STATIC)
def _descend_many(
    theta0, lrs, thresholds, steps, p, momentum, clip_opts, opt_opts, noise, *, landscape, optimizer, clip
):
    TRACE_COUNTS[_key(landscape, optimizer, clip, str(theta0.dtype), "batch", noise=noise)] += 1
    run = partial(_descend_core, landscape=landscape, optimizer=optimizer, clip=clip)
    return jax.vmap(run, in_axes=(None, 0, 0, None, None, None, None, None, None))(
        theta0, lrs, thresholds, steps, p, momentum, clip_opts, opt_opts, noise
    )


@partial(jax.jit, static_argnames=("landscape", "optimizer", "modes"), compiler_options=QUICK_COMPILE)
def _descend_rule_batch(
    theta0,
    lrs,
    thresholds,
    rule_index,
    steps,
    p,
    momentum,
    clip_opts,
    opt_opts,
    noise,
    *,
    landscape,
    optimizer,
    modes,
):
    """Many runs of one stateless rule (``modes[rule_index]``, the index traced but shared by every
    run, so the rule switch stays a branch): one compiled program serves every stateless rule."""
    TRACE_COUNTS[_key(landscape, optimizer, modes, str(theta0.dtype), "batch", noise=noise)] += 1
    run = partial(_descend_core, landscape=landscape, optimizer=optimizer, clip=modes, rule_index=rule_index)
    return jax.vmap(run, in_axes=(None, 0, 0, None, None, None, None, None, None))(
        theta0, lrs, thresholds, steps, p, momentum, clip_opts, opt_opts, noise
    )


def stateless_modes() -> tuple[str, ...]:
    """Every registered rule without state, in registration order: the rules one batched program
    switches between (``simulate_many``)."""
    return tuple(mode for mode, spec in CLIP_SPECS.items() if not spec.stateful and mode in CLIP_RULES)


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
        dtype, clip_options, optimizer_options, noise: the configuration that produced it
        (``clip_options`` with the rule's defaults filled in; ``noise`` None
        for exact gradients).
      clip_threshold: (k,) the rule's effective threshold at each step: the
        fixed c for a fixed rule, AutoClip's percentile, ZClip's
        ``mu + z (sigma + 1e-6)`` (its ``max_norm``, ``inf`` without one,
        during the warm-up), AGC's ``c max(||theta||, eps)``; ``inf`` for no
        clipping. Filled with ``threshold`` when not given.
      spiked: (k,) whether the gradient noise spiked at that step (all False
        without noise).
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
    clip_options: Mapping[str, float] = field(default_factory=dict)
    optimizer_options: Mapping[str, float] = field(default_factory=dict)
    noise: Mapping[str, float] | None = None
    clip_threshold: np.ndarray | None = None
    # None only as an argument: __post_init__ fills in all False.
    spiked: np.ndarray = None  # pyright: ignore[reportAssignmentType]

    def __post_init__(self):
        k = len(self.update)
        if self.clip_threshold is None:
            uses = CLIP_SPECS[self.clip].uses_threshold if self.clip in CLIP_SPECS else True
            fill = self.threshold if uses else np.inf
            object.__setattr__(self, "clip_threshold", np.full(k, fill, dtype=np.asarray(self.update).dtype))
        if self.spiked is None:
            object.__setattr__(self, "spiked", np.zeros(k, dtype=bool))

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

    def prefix(self, steps: int) -> Trajectory:
        """The run as a run of ``steps`` steps would be: the steps are a prefix of a longer run
        (the same program, start and settings), so its first ``steps`` steps are cut out of
        this one. ``steps`` may not exceed ``steps_requested``.

        A run that diverged before step ``steps`` is kept whole; one that diverged at or after
        it completed the shorter run (the failing step is never taken)."""
        steps = int(steps)
        if not 0 <= steps <= self.steps_requested:
            raise ValueError(f"a prefix needs 0 to {self.steps_requested} steps, got {steps}")
        if self.diverged_at is not None and self.diverged_at < steps:
            return replace(self, steps_requested=steps)
        k = min(steps, self.steps_taken)
        return replace(
            self,
            params=self.params[: k + 1],
            loss=self.loss[: k + 1],
            grad=self.grad[:k],
            update=self.update[:k],
            grad_norm=self.grad_norm[:k],
            clipped=self.clipped[:k],
            clip_threshold=None if self.clip_threshold is None else self.clip_threshold[:k],
            spiked=self.spiked[:k],
            diverged_at=None,
            reason=describe_end(OK, k, np.zeros(2), np.zeros(2), steps),
            steps_requested=steps,
        )

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
        clip_threshold=hist[:k, 8],
        spiked=hist[:k, 9] != 0,
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
    optimizer_options: dict[str, float]
    noise: dict[str, float] | None

    def traced(self, lr, threshold, clip_options) -> tuple:
        """The traced arguments of _descend* (numpy values: no device round trip)."""
        dt = self.dtype
        return (
            self.start.astype(dt),
            np.asarray(lr, dt),
            np.asarray(threshold, dt),
            np.int32(self.steps),
            self.scape.param_vector(self.values, dt),
            dt.type(self.momentum),
            options_as_traced(clip_options, dt),
            options_as_traced(self.optimizer_options, dt),
            noise_as_traced(self.noise, dt),
        )

    def trajectory(
        self, packed: np.ndarray, lr: float, clip: str, threshold: float, clip_options
    ) -> Trajectory:
        settings = dict(
            landscape=self.scape.name,
            lr=lr,
            clip=clip,
            threshold=threshold,
            optimizer=self.optimizer,
            landscape_params=self.values,
            dtype=self.dtype.name,
            clip_options=dict(clip_options),
            optimizer_options=dict(self.optimizer_options),
            noise=None if self.noise is None else dict(self.noise),
        )
        return _unpack(packed, self.steps, settings)


def _prepare(
    landscape, start, steps, clip, optimizer, momentum, dtype, params, optimizer_options=None, noise=None
) -> _Call:
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    start_point = check_start(scape.default_start if start is None else start)
    if clip not in CLIP_RULES:
        check_clip(clip, 1.0)
    steps = check_steps(steps)
    momentum, dt = check_optimizer_settings(optimizer, momentum, dtype)
    opt_options = check_optimizer_options(optimizer, optimizer_options)
    return _Call(scape, values, start_point, steps, momentum, dt, optimizer, opt_options, check_noise(noise))


def simulate(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lr: float,
    steps: int,
    clip: ClipMode = "none",
    threshold: float | None = None,
    optimizer: OptimizerName = "sgd",
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    clip_options: Mapping[str, object] | None = None,
    optimizer_options: Mapping[str, object] | None = None,
    noise: Mapping[str, object] | None = None,
    **params: float,
) -> Trajectory:
    """Runs gradient descent with optional clipping on a landscape.

    Clipping acts on the raw gradient before the optimizer, as in torch and
    optax (a rule with ``placement="direction"`` acts on the optimizer's
    direction instead, one with ``"gate"`` decides whether the step happens).
    A run that meets a non-finite gradient, parameter or loss stops there
    and says so in ``reason``; the arrays hold only the steps taken.

    Args:
      landscape: a registered name (see ``list_landscapes``) or a Landscape.
      start: the starting point (p1, p2); None for the landscape's default.
      lr: learning rate, finite and positive.
      steps: number of steps, 0 to ``MAX_STEPS``.
      clip: any registered rule (``clip_modes()``): ``"none"``, ``"value"``,
        ``"norm"``, ``"norm_torch"``, ``"per_variable"``, ``"normalize"``,
        ``"agc"``, ``"autoclip"``, ``"zclip"``, ``"clip_update"``, ``"skip"``.
      threshold: the rule's main knob (``ClipRuleSpec.threshold_meaning``),
        finite and positive; None for the rule's ``default_threshold`` (1.0
        for the fixed-norm rules).
      optimizer: ``"sgd"`` (plain), ``"momentum"`` (heavy ball), ``"adam"``
        or ``"adamw"``.
      momentum: the heavy-ball coefficient, in [0, 1).
      dtype: ``"float64"`` (default) or ``"float32"``.
      clip_options: the rule's other options (``ClipRuleSpec.options``), e.g.
        ``{"beta": 1e-6}`` for normalize; numbers are traced (no recompile).
      optimizer_options: the optimizer's options, e.g. ``{"weight_decay": 0.01}``
        for adamw.
      noise: None for exact gradients, or ``{"sigma", "spike_prob",
        "spike_scale", "seed"}``: Gaussian noise of scale sigma added to each
        gradient, and with probability spike_prob the result multiplied by
        spike_scale, reproducible from the seed (``check_noise``).
      **params: the landscape's own parameters (e.g. ``T=50`` for pascanu).

    Returns:
      A Trajectory of numpy arrays.

    Raises:
      ValueError: for any invalid argument, with a message naming it.

    >>> run = simulate("pascanu", (4.7, -2.2), lr=0.5, steps=4)
    >>> run.params[4].round(2).tolist()
    [39.04, 53.44]
    """
    call = _prepare(
        landscape, start, steps, clip, optimizer, momentum, dtype, params, optimizer_options, noise
    )
    lr = positive_number("learning rate", lr)
    threshold = check_clip(clip, threshold, default=True)
    options = check_clip_options(clip, clip_options)
    check_placement(clip, optimizer)
    packed = _descend(
        *call.traced(lr, threshold, options), landscape=call.scape.name, optimizer=optimizer, clip=clip
    )
    return call.trajectory(np.asarray(packed), lr, clip, threshold, options)


def _per_mode(value, modes, name):
    """A per-mode mapping from one value (or from a mapping by mode, the rest left to None)."""
    if isinstance(value, Mapping):
        unknown = [mode for mode in value if mode not in modes]
        if unknown:
            raise ValueError(f"{name} names {unknown[0]!r}, which is not among the modes {', '.join(modes)}")
        return {mode: value.get(mode) for mode in modes}
    return {mode: value for mode in modes}


def simulate_modes(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lr: float,
    steps: int,
    threshold: float | Mapping[str, float] | None = None,
    optimizer: OptimizerName = "sgd",
    modes: tuple[str, ...] = ("none", "value", "norm"),
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    clip_options: Mapping[str, Mapping[str, object]] | None = None,
    optimizer_options: Mapping[str, object] | None = None,
    noise: Mapping[str, object] | None = None,
    **params: float,
) -> dict[str, Trajectory]:
    """The same run once per clipping mode; the stateless modes in one compiled, batched call.

    The numbers ``simulate`` gives for each mode (equal up to rounding in the
    last bit, tested), but one compile and one dispatch serve every stateless
    mode: what the Explorer uses. Rules with state run through ``simulate``'s
    own program, one each.

    ``threshold`` is one value for every mode, or a mapping by mode (a mode
    it leaves out, or None, gets its rule's ``default_threshold``);
    ``clip_options`` maps a mode to its options, e.g. ``{"zclip": {"alpha":
    0.9}}``.
    """
    modes = tuple(modes)
    thresholds = _per_mode(threshold, modes, "threshold")
    options_by_mode = _per_mode(clip_options or {}, modes, "clip_options")
    checked = {}
    for mode in modes:
        c = check_clip(mode, thresholds[mode], default=True)
        checked[mode] = (c, check_clip_options(mode, options_by_mode[mode]))
        check_placement(mode, optimizer)
    call = _prepare(
        landscape, start, steps, "none", optimizer, momentum, dtype, params, optimizer_options, noise
    )
    lr = positive_number("learning rate", lr)
    if not modes:
        return {}
    batched = tuple(mode for mode in modes if not CLIP_SPECS[mode].stateful)
    runs: dict[str, Trajectory] = {}
    if batched:
        dt = call.dtype
        traced = list(call.traced(lr, 0.0, {}))
        traced[2] = np.array([checked[mode][0] for mode in batched], dt)
        traced[6] = tuple(options_as_traced(checked[mode][1], dt) for mode in batched)
        packed = np.asarray(
            _descend_modes(*traced, landscape=call.scape.name, optimizer=optimizer, modes=batched)
        )
        for i, mode in enumerate(batched):
            runs[mode] = call.trajectory(packed[i], lr, mode, *checked[mode])
    for mode in modes:
        if mode not in runs:
            c, options = checked[mode]
            packed = _descend(
                *call.traced(lr, c, options), landscape=call.scape.name, optimizer=optimizer, clip=mode
            )
            runs[mode] = call.trajectory(np.asarray(packed), lr, mode, c, options)
    return {mode: runs[mode] for mode in modes}


def simulate_many(
    landscape: str | Landscape,
    start: ArrayLike | None,
    lrs: ArrayLike,
    thresholds: ArrayLike | None,
    steps: int,
    clip: ClipMode = "none",
    optimizer: OptimizerName = "sgd",
    *,
    momentum: float = 0.9,
    dtype: str | np.dtype = "float64",
    clip_options: Mapping[str, object] | None = None,
    optimizer_options: Mapping[str, object] | None = None,
    noise: Mapping[str, object] | None = None,
    **params: float,
) -> list[Trajectory]:
    """Many runs from one start in one batched call, one per (lrs[i], thresholds[i]).

    ``lrs`` and ``thresholds`` are broadcast against each other (None: the
    rule's default threshold). One compile serves each batch size; the values
    never recompile. Otherwise exactly as ``simulate`` (same validation, same
    divergence handling, the same options for every run).
    """
    call = _prepare(
        landscape, start, steps, clip, optimizer, momentum, dtype, params, optimizer_options, noise
    )
    if thresholds is None:
        thresholds = check_clip(clip, None, default=True)
    lr_arr, c_arr = np.broadcast_arrays(np.atleast_1d(lrs), np.atleast_1d(thresholds))
    lr_list = [positive_number("learning rate", v) for v in lr_arr.tolist()]
    c_list = [check_clip(clip, v) for v in c_arr.tolist()]
    options = check_clip_options(clip, clip_options)
    check_placement(clip, optimizer)
    traced = call.traced(lr_list, c_list, options)
    if CLIP_SPECS[clip].stateful:
        packed = _descend_many(*traced, landscape=call.scape.name, optimizer=optimizer, clip=clip)
    else:
        # Every stateless rule shares one program (the rule is a traced index): the map's cross
        # of runs for three rules compiles once, not three times.
        modes = stateless_modes()
        dt = call.dtype
        opts = tuple(
            options_as_traced(options if mode == clip else check_clip_options(mode, None), dt)
            for mode in modes
        )
        index = np.int32(modes.index(clip))
        args = (*traced[:3], index, *traced[3:6], opts, *traced[7:])
        packed = _descend_rule_batch(*args, landscape=call.scape.name, optimizer=optimizer, modes=modes)
    packed = np.asarray(packed)
    return [
        call.trajectory(packed[i], lr, clip, c, options)
        for i, (lr, c) in enumerate(zip(lr_list, c_list, strict=True))
    ]
