"""Clipping rules with state, as ``optax.GradientTransformation``s with explicit state.

Each is registered in the clip-rule registry (``register_clip_rule`` with a
``transform`` or a ``wrap``), so ``simulate``, the sweeps and the app know it
like any other rule. The engine runs them inside its jitted while loop; the
state has a fixed shape (AutoClip's history is a buffer of ``MAX_STEPS``
norms), so one compile serves every run of a (landscape, optimizer, rule,
dtype). A state's ``threshold`` field is the rule's own effective threshold
at the step just taken (``Trajectory.clip_threshold``).

- ``agc``: ``optax.adaptive_grad_clip(c, eps)``'s formulas with the two
  parameters as one vector leaf (per component, so sweeps are exact).
- ``autoclip``: Seetharaman et al. 2020: the ``p``-th percentile of every
  pre-clip norm so far (this step's included), numpy's default linear
  interpolation, then exact norm clipping to it.
- ``zclip``: Kumar et al. 2025: warm-up statistics, then a z-score test on
  exponential moving averages of the (clipped) norm.
- ``clip_update``: the optimizer's direction (after momentum or Adam's
  scaling, before the learning rate) norm-clipped to c:
  ``optax.chain(<scaling>, clip, scale(-lr))``.
- ``skip``: the whole step skipped when ``||g|| > c`` or g is not finite, the
  optimizer state kept (as ``optax.apply_if_finite`` does for non-finite g).
"""

from __future__ import annotations

import math
from typing import NamedTuple, cast

import jax
import jax.numpy as jnp
import optax

from .clipping import (
    ClipOption,
    ClipRule,
    TransformFactory,
    clip_by_norm,
    clip_scaled_to,
    register_clip_rule,
    scaled_norm,
)
from .validation import MAX_STEPS

#: Length of AutoClip's history and ZClip's warm-up buffer: one norm per step.
HISTORY = MAX_STEPS


def _norm_parts(g: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(norm, s, scaled norm) of a 2-vector, as ``scaled_norm``."""
    flat = g.reshape(-1)
    return scaled_norm(flat[0], flat[1])


# ---------------------------------------------------------------------------
# AGC


class AgcState(NamedTuple):
    threshold: jax.Array  # c * max(||theta||, eps) at the step just taken


def adaptive_grad_clip(threshold, eps=1e-3) -> optax.GradientTransformation:
    """``optax.adaptive_grad_clip(threshold, eps)`` on one vector leaf, recording its level.

    optax's formulas, operation for operation: ``g_norm = ||g||``,
    ``max_norm = threshold * max(||theta||, eps)``, and ``g * (max_norm /
    max(g_norm, 1e-6))`` where ``g_norm >= max_norm`` (else g). Written per
    component (``x0 * x0 + x1 * x1``, where optax calls ``jnp.sum``) so that
    a batch of sweep cells compiles to the arithmetic of one run: with the
    reduction, a 128 x 128 map differed from ``simulate`` in the last digit
    of 3 % of its cells. Checked against optax itself (tests).
    """

    def norm(x):
        flat = x.reshape(-1)
        return jnp.sqrt(flat[0] * flat[0] + flat[1] * flat[1])

    def init(params):
        return AgcState(jnp.asarray(jnp.inf, params.dtype))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("adaptive_grad_clip needs the parameters (params=...)")
        g_norm = norm(updates)
        max_norm = threshold * jnp.maximum(norm(params), eps)
        clipped = updates * (max_norm / jnp.maximum(g_norm, 1e-6))
        out = jnp.where(g_norm < max_norm, updates, clipped)
        return out, AgcState(jnp.asarray(max_norm, params.dtype))

    return optax.GradientTransformation(init, update)


# ---------------------------------------------------------------------------
# AutoClip


class AutoClipState(NamedTuple):
    history: jax.Array  # (HISTORY,) the pre-clip norms so far, sorted, then +inf
    count: jax.Array  # how many norms it holds
    threshold: jax.Array  # the percentile used at the step just taken


def percentile_sorted(sorted_values: jax.Array, count: jax.Array, p: jax.Array) -> jax.Array:
    """``numpy.percentile(values, p)`` (its default linear method) of the first ``count`` sorted values.

    The same operations as numpy: virtual index ``(n - 1) * (p / 100)``, the
    two neighbours, and numpy's two-sided linear interpolation (from below
    under a weight of 0.5, from above from 0.5 on), so the result is numpy's
    to the bit (tested).
    """
    dtype = sorted_values.dtype
    n = count.astype(dtype)
    v = (n - 1) * (p / jnp.asarray(100, dtype))
    lo = jnp.floor(v)
    above = v >= n - 1
    last = count - 1
    lo_i = jnp.where(above, last, lo.astype(jnp.int32))
    hi_i = jnp.where(above, last, lo_i + 1)
    gamma = jnp.where(above, v + 1, v - lo)  # numpy's gamma against index -1 there; the weight meets 0
    a, b = sorted_values[lo_i], sorted_values[hi_i]
    diff = b - a
    return jnp.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def autoclip(threshold, capacity: int = HISTORY) -> optax.GradientTransformation:
    """AutoClip: clip to the ``threshold``-th percentile of the pre-clip norms so far (this one included).

    ``capacity`` (static) is the length of the history buffer: at least the
    number of steps the run can take. The engine keeps ``MAX_STEPS`` (one
    compile for every run); a sweep sizes it to its step count (see
    ``history_capacity``), which only shortens the run of +inf past the
    norms, so the numbers are the same to the bit.
    """

    def init(params):
        dtype = params.dtype
        return AutoClipState(
            jnp.full(capacity, jnp.inf, dtype), jnp.zeros((), jnp.int32), jnp.asarray(jnp.inf, dtype)
        )

    def update(updates, state, params=None):
        del params
        norm, s, inner = _norm_parts(updates)
        history = state.history
        # Insert the norm into the sorted history (an O(n) shift, no sort).
        index = jnp.arange(capacity)
        position = jnp.sum(history < norm)
        shifted = jnp.roll(history, 1)
        history = jnp.where(index < position, history, jnp.where(index == position, norm, shifted))
        count = jnp.minimum(state.count + 1, capacity)
        level = percentile_sorted(history, count, jnp.asarray(threshold, history.dtype))
        return clip_scaled_to(updates, level, s, inner, norm), AutoClipState(history, count, level)

    return optax.GradientTransformation(init, update)


# ---------------------------------------------------------------------------
# ZClip

ZCLIP_EPS = 1e-6


class ZClipState(NamedTuple):
    count: jax.Array  # steps seen
    mean: jax.Array  # mu: during the warm-up the running mean of the norms so far
    var: jax.Array  # sigma^2 (during the warm-up: the running sum of squared deviations, Welford's M2)
    threshold: jax.Array  # the norm above which it clipped: mu + z (sigma + eps); max_norm in warm-up


def zclip(threshold, alpha=0.97, warmup=25, max_norm=math.inf) -> optax.GradientTransformation:
    """ZClip (Kumar et al. 2025) with z limit ``threshold``.

    During the first ``warmup`` steps the raw norms are collected and the
    gradient is only clipped to ``max_norm`` (if finite); then mu is their
    mean and sigma^2 their population variance (accumulated one step at a
    time by Welford's method, so no history is kept and a batch of cells
    does exactly the arithmetic of one). Each later step:
    ``z = (n - mu) / (sigma + 1e-6)``; if ``z > threshold`` the gradient is
    clipped to ``mu + threshold^2 sigma / z``; then capped at ``max_norm``;
    then ``mu <- alpha mu + (1 - alpha) n_eff`` and ``sigma^2 <- alpha
    sigma^2 + (1 - alpha) (n_eff - mu_new)^2`` with the clipped norm n_eff.
    ``max_norm = inf`` is "no cap".
    """

    def init(params):
        dtype = params.dtype
        zero = jnp.zeros((), dtype)
        return ZClipState(jnp.zeros((), jnp.int32), zero, zero, zero + jnp.inf)

    def update(updates, state, params=None):
        del params
        dtype = updates.dtype
        norm, s, inner = _norm_parts(updates)
        cap = jnp.asarray(max_norm, dtype)
        z_limit = jnp.asarray(threshold, dtype)
        a = jnp.asarray(alpha, dtype)
        n_warm = jnp.asarray(warmup, dtype)
        count = state.count
        warming = count.astype(dtype) < n_warm

        # Warm-up: Welford's running mean and M2 of the raw norms; on the
        # last warm-up step M2 becomes the population variance.
        k = (count + 1).astype(dtype)
        delta = norm - state.mean
        mean_w = state.mean + delta / k
        m2_w = state.var + delta * (norm - mean_w)
        last_warm = warming & (k >= n_warm)
        var_w = jnp.where(last_warm, m2_w / n_warm, m2_w)

        # After warm-up: the z test on the statistics so far.
        mu, var = state.mean, state.var
        sigma = jnp.sqrt(jnp.where(warming, 0, var))
        z = (norm - mu) / (sigma + ZCLIP_EPS)
        over = z > z_limit
        clipped_to = mu + z_limit * z_limit * sigma / jnp.where(over, z, 1.0)
        n_eff = jnp.minimum(jnp.where(over, clipped_to, norm), cap)
        mu_new = a * mu + (1 - a) * n_eff
        var_new = a * var + (1 - a) * (n_eff - mu_new) * (n_eff - mu_new)

        level = jnp.where(warming, cap, jnp.minimum(mu + z_limit * (sigma + ZCLIP_EPS), cap))
        target = jnp.where(warming, cap, n_eff)
        out = clip_scaled_to(updates, target, s, inner, norm)
        new_mean = jnp.where(warming, mean_w, mu_new)
        new_var = jnp.where(warming, var_w, var_new)
        return out, ZClipState(count + 1, new_mean, new_var, level)

    return optax.GradientTransformation(init, update)


# ---------------------------------------------------------------------------
# Clipping after the optimizer's direction


def clip_by_norm_exact(threshold) -> optax.GradientTransformation:
    """The engine's exact norm clipping (no change at or below c) as a transformation.

    ``optax.clip_by_global_norm`` clips at ``||g|| == c`` too and divides
    first; this is ``clipping.clip_by_norm``, so for plain descent
    ``clip_update`` is ``norm`` to the bit.
    """

    def update(updates, state, params=None):
        del params
        return clip_by_norm(updates, jnp.asarray(threshold, updates.dtype)), state

    return optax.GradientTransformation(optax.init_empty_state, update)


# ---------------------------------------------------------------------------
# Skipping


class SkipState(NamedTuple):
    inner: optax.OptState  # the optimizer's state, kept unchanged on a skipped step
    skipped: jax.Array  # whether the step just taken was skipped
    n_skipped: jax.Array


def skip_large(inner: optax.GradientTransformation, threshold) -> optax.GradientTransformation:
    """Wraps ``inner``: no update, and ``inner``'s state kept, when ``||g|| > threshold`` or g is not finite.

    As ``optax.apply_if_finite(inner, 0)`` does for a non-finite gradient
    (never giving up), and also for a gradient longer than the threshold.
    """

    def init(params):
        return SkipState(inner.init(params), jnp.zeros((), bool), jnp.zeros((), jnp.int32))

    def update(updates, state, params=None):
        norm, _, _ = _norm_parts(updates)
        take = (norm <= threshold) & jnp.all(jnp.isfinite(updates))
        new_updates, new_inner = inner.update(updates, state.inner, params)
        kept = jax.tree.map(lambda new, old: jnp.where(take, new, old), new_inner, state.inner)
        out = jax.tree.map(lambda u: jnp.where(take, u, jnp.zeros_like(u)), new_updates)
        return out, SkipState(kept, ~take, state.n_skipped + (~take).astype(jnp.int32))

    return optax.GradientTransformation(init, update)


# ---------------------------------------------------------------------------
# One step from a fresh state: what ``clip_gradient`` shows for these rules.


def _first_step(transform: TransformFactory) -> ClipRule:
    def rule(g: jax.Array, c: jax.Array, **options: jax.Array) -> jax.Array:
        tx = transform(c, **options)
        out, _ = tx.update(g, tx.init(jnp.zeros_like(g)), jnp.zeros_like(g))
        return cast(jax.Array, out)  # one array leaf in, one out

    return rule


def _skip_rule(g, c):
    norm, _, _ = _norm_parts(g)
    take = (norm <= c) & jnp.all(jnp.isfinite(g))
    return jnp.where(take, g, jnp.zeros_like(g))


# Colours beyond Okabe & Ito's eight: Paul Tol's colour-blind-safe "muted" set.
register_clip_rule(
    "agc",
    _first_step(adaptive_grad_clip),
    label="adaptive clipping (AGC)",
    color="#882255",
    dash="dot",
    marker="triangle-down",
    transform=adaptive_grad_clip,
    sweep_tolerance=0.0,
    description=(
        "Adaptive gradient clipping: the gradient is clipped to c times the length of the parameters "
        "(at least eps), so the allowed step grows with the weights."
    ),
    source="Brock et al. 2021 (NFNets); optax.adaptive_grad_clip",
    default_threshold=0.01,
    threshold_meaning="the ratio c of gradient norm to parameter norm",
    options=(ClipOption("eps", 1e-3, "the smallest parameter norm used", low=0.0, low_open=True),),
)
register_clip_rule(
    "autoclip",
    _first_step(autoclip),
    label="AutoClip (percentile)",
    color="#44AA99",
    dash="dash",
    marker="hexagon",
    transform=autoclip,
    sweep_tolerance=0.0,
    history=True,
    description=(
        "AutoClip: the threshold is the p-th percentile of every gradient norm seen so far (this one "
        "included); the gradient is norm-clipped to it, so the threshold follows the run."
    ),
    source="Seetharaman, Wichern, Pardo, Le Roux 2020 (AutoClip)",
    default_threshold=10.0,
    threshold_max=100.0,
    threshold_meaning="the percentile p",
)
register_clip_rule(
    "zclip",
    _first_step(zclip),
    label="ZClip (z-score)",
    color="#332288",
    dash="longdash",
    marker="cross",
    transform=zclip,
    sweep_tolerance=0.0,
    description=(
        "ZClip: after a warm-up, a norm more than z standard deviations above its running mean is "
        "clipped back towards the mean; mean and variance are moving averages of the clipped norms."
    ),
    source="Kumar, Owen, Roy Chowdhury, Gura 2025 (ZClip)",
    default_threshold=2.5,
    threshold_meaning="the z limit",
    options=(
        ClipOption(
            "alpha", 0.97, "the moving averages' decay", low=0.0, high=1.0, low_open=True, high_open=True
        ),
        ClipOption(
            "warmup",
            25,
            "steps whose norms only set the first statistics",
            low=1,
            high=MAX_STEPS,
            integer=True,
        ),
        ClipOption(
            "max_norm",
            None,
            "a fixed norm cap on top (None: no cap)",
            low=0.0,
            low_open=True,
            none_means=math.inf,
        ),
    ),
)
register_clip_rule(
    "clip_update",
    clip_by_norm,
    label="clipping after the optimizer",
    color="#999933",
    dash="dashdot",
    marker="pentagon",
    transform=clip_by_norm_exact,
    placement="direction",
    sweep_tolerance=0.0,
    description=(
        "The optimizer's direction (after momentum or Adam's scaling, before the learning rate) is "
        "norm-clipped to c; for plain descent this is norm clipping, with momentum it clips the velocity."
    ),
    source="optax.chain(<optimizer scaling>, optax.clip_by_global_norm(c), optax.scale(-lr))",
)
register_clip_rule(
    "skip",
    _skip_rule,
    label="skip large steps",
    color="#AA4499",
    dash="longdashdot",
    marker="asterisk",
    wrap=lambda inner, threshold: skip_large(inner, threshold),
    sweep_tolerance=0.0,
    description=(
        "The step is skipped (no update, optimizer state kept) when ||g|| > c or g is not finite; "
        "without noise a skipped point stays where it is, so the run parks at the cliff edge."
    ),
    source="optax.apply_if_finite (skips non-finite steps); loss-spike skipping in LLM training",
)


def history_capacity(clip: str, steps: int) -> int:
    """The history buffer a sweep of ``steps`` steps gives rule ``clip``: 0 for a rule without one.

    The next power of two at or above ``steps`` (at least 16, at most
    ``MAX_STEPS``): a handful of compiles in all, and a 200-step AutoClip map
    moves a 256-long buffer per cell instead of a 1000-long one.
    """
    from .clipping import CLIP_SPECS

    if not CLIP_SPECS[clip].history:
        return 0
    return min(HISTORY, max(16, 1 << max(0, int(steps) - 1).bit_length()))
