"""The hand-written clipping rules the take-home snippets carry, as real code.

``snippets.py`` pastes the source of these functions and classes into the
code a learner copies (``inspect.getsource``), so the text on screen is the
code the tests execute (``tests/test_snippets.py`` runs it on the Pascanu
cliff and compares it with ``simulate``). Two families:

- framework-free helpers (plain Python and NumPy) for PyTorch, Keras and
  TensorFlow: each takes the global gradient norm of this step as a Python
  float and returns the factor to multiply every gradient by (or whether to
  skip the step);
- optax transformations for the rules optax does not ship, with their state
  explicit, as optax's own are written.

Each follows the formulas of issue 12 (and of ``landscapes.core.clipping``
and ``stateful_rules``) so that it reproduces the app's rule.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

# ---------------------------------------------------------------------------
# Framework-free helpers (PyTorch, Keras, TensorFlow)


def clip_factor(norm, c):
    """Exact norm clipping: the factor that shortens a gradient of length norm to c (1 if not longer)."""
    return c / norm if norm > c else 1.0


def torch_clip_factor(norm, c):
    """torch's clip_grad_norm_ rule: min(1, c / (norm + 1e-6)), applied at every step."""
    return min(1.0, c / (norm + 1e-6))


def normalize_factor(norm, c, beta=1e-6):
    """Normalized gradient descent (Zhang et al. 2020): every gradient rescaled to length about c."""
    return c / (norm + beta)


def agc_factor(grad_norm, param_norm, clipping, eps=1e-3):
    """Adaptive gradient clipping (Brock et al. 2021): clip to clipping * max(||params||, eps).

    The parameters' norm is taken before the step. Same formulas as
    optax.adaptive_grad_clip, with all parameters as one unit.
    """
    max_norm = clipping * max(param_norm, eps)
    return max_norm / max(grad_norm, 1e-6) if grad_norm >= max_norm else 1.0


def skip_step(norm, c):
    """Whether to skip this step: the gradient is longer than c, or not finite."""
    return not math.isfinite(norm) or norm > c


class AutoClip:
    """AutoClip (Seetharaman et al. 2020): clip to the p-th percentile of every norm so far.

    The history includes this step's norm; numpy's default (linear)
    percentile; then exact norm clipping to that threshold.
    """

    def __init__(self, percentile=10.0):
        self.percentile = percentile
        self.norms = []
        self.threshold = math.inf  # the threshold of the last step, worth logging

    def factor(self, norm):
        self.norms.append(norm)
        self.threshold = float(np.percentile(self.norms, self.percentile))
        return clip_factor(norm, self.threshold)


class ZClip:
    """ZClip (Kumar et al. 2025): clip norms that are more than z standard deviations above their mean.

    The first ``warmup`` norms only set the statistics (clipped to max_norm
    if given); then mean and variance are moving averages of the clipped norms.
    """

    def __init__(self, z=2.5, alpha=0.97, warmup=25, max_norm=None):
        self.z, self.alpha, self.warmup = z, alpha, warmup
        self.cap = math.inf if max_norm is None else max_norm
        self.warm = []  # the norms of the warm-up steps
        self.mean = self.var = None

    def factor(self, norm):
        if self.mean is None or self.var is None:  # warming up
            self.warm.append(norm)
            if len(self.warm) == self.warmup:
                self.mean, self.var = float(np.mean(self.warm)), float(np.var(self.warm))
            return clip_factor(norm, self.cap)
        sigma = math.sqrt(self.var)
        score = (norm - self.mean) / (sigma + 1e-6)
        target = self.mean + self.z**2 * sigma / score if score > self.z else norm
        target = min(target, self.cap)
        self.mean = self.alpha * self.mean + (1 - self.alpha) * target
        self.var = self.alpha * self.var + (1 - self.alpha) * (target - self.mean) ** 2
        return clip_factor(norm, target)


# ---------------------------------------------------------------------------
# optax transformations for the rules optax does not ship


def torch_clip_by_global_norm(max_norm):
    """torch's clip_grad_norm_ as an optax transformation: g * min(1, c / (||g|| + 1e-6))."""

    def clip(updates, params=None):
        factor = jnp.minimum(1.0, max_norm / (optax.tree.norm(updates) + 1e-6))
        return jax.tree.map(lambda g: g * factor, updates)

    return optax.stateless(clip)


def clip_each_by_norm(max_norm):
    """Keras' clipnorm: every leaf (variable) clipped to its own norm, g * c / max(||g||, c)."""

    def clip(updates, params=None):
        return jax.tree.map(lambda g: g * max_norm / jnp.maximum(jnp.linalg.norm(g), max_norm), updates)

    return optax.stateless(clip)


def normalize_by_global_norm(length, beta=1e-6):
    """Normalized gradient descent: g * c / (||g|| + beta) at every step."""

    def normalize(updates, params=None):
        factor = length / (optax.tree.norm(updates) + beta)
        return jax.tree.map(lambda g: g * factor, updates)

    return optax.stateless(normalize)


class AutoClipState(NamedTuple):
    norms: jax.Array  # every pre-clip norm so far, NaN beyond
    count: jax.Array


def autoclip(percentile=10.0, max_steps=10_000):
    """AutoClip: clip to the percentile of every norm so far (this one included); max_steps norms kept."""

    def init(params):
        dtype = jax.tree.leaves(params)[0].dtype
        return AutoClipState(jnp.full(max_steps, jnp.nan, dtype), jnp.zeros((), jnp.int32))

    def update(updates, state, params=None):
        norm = optax.tree.norm(updates)
        norms = state.norms.at[state.count].set(norm, mode="drop")
        threshold = jnp.nanpercentile(norms, percentile)
        factor = jnp.where(norm > threshold, threshold / norm, 1.0)
        return jax.tree.map(lambda g: g * factor, updates), AutoClipState(norms, state.count + 1)

    return optax.GradientTransformation(init, update)


class ZClipState(NamedTuple):
    count: jax.Array
    warm: jax.Array  # the warm-up norms
    mean: jax.Array
    var: jax.Array


def zclip(z=2.5, alpha=0.97, warmup=25, max_norm=None):
    """ZClip: after warm-up, clip norms above mean + z sigma back to mean + z^2 sigma / score."""
    cap = jnp.inf if max_norm is None else max_norm

    def init(params):
        dtype = jax.tree.leaves(params)[0].dtype
        zero = jnp.zeros((), dtype)
        return ZClipState(jnp.zeros((), jnp.int32), jnp.zeros(warmup, dtype), zero, zero)

    def update(updates, state, params=None):
        norm = optax.tree.norm(updates)
        warming = state.count < warmup
        warm = state.warm.at[state.count].set(norm, mode="drop")
        done = state.count + 1 == warmup  # the last warm-up step sets the first statistics
        sigma = jnp.sqrt(state.var)
        score = (norm - state.mean) / (sigma + 1e-6)
        target = jnp.where(score > z, state.mean + z * z * sigma / score, norm)
        target = jnp.minimum(target, cap)
        mean = alpha * state.mean + (1 - alpha) * target
        var = alpha * state.var + (1 - alpha) * (target - mean) ** 2
        limit = jnp.where(warming, cap, target)
        factor = jnp.where(norm > limit, limit / norm, 1.0)
        new = ZClipState(
            state.count + 1,
            warm,
            jnp.where(warming, jnp.where(done, jnp.mean(warm), 0.0), mean),
            jnp.where(warming, jnp.where(done, jnp.var(warm), 0.0), var),
        )
        return jax.tree.map(lambda g: g * factor, updates), new

    return optax.GradientTransformation(init, update)


def skip_large_steps(inner, max_norm):
    """Wraps an optimizer: no update, and its state kept, when ||g|| > max_norm or g is not finite."""

    def update(updates, state, params=None):
        norm = optax.tree.norm(updates)
        take = jnp.isfinite(norm) & (norm <= max_norm)
        new_updates, new_state = inner.update(updates, state, params)
        new_state = jax.tree.map(lambda new, old: jnp.where(take, new, old), new_state, state)
        return jax.tree.map(lambda u: jnp.where(take, u, jnp.zeros_like(u)), new_updates), new_state

    return optax.GradientTransformation(inner.init, update)
