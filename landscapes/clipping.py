"""Gradient clipping rules.

Each rule is a pure function ``rule(g, c) -> g'`` registered under a mode
name; adding a rule means adding one decorated function. ``clip_gradient``
is jittable with ``mode`` static and the threshold traced.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

ClipRule = Callable[[jax.Array, jax.Array], jax.Array]

CLIP_RULES: dict[str, ClipRule] = {}


def clip_rule(mode: str) -> Callable[[ClipRule], ClipRule]:
    """Registers ``rule(g, c)`` as clipping mode ``mode``."""

    def decorate(rule: ClipRule) -> ClipRule:
        CLIP_RULES[mode] = rule
        return rule

    return decorate


@clip_rule("none")
def _no_clip(g: jax.Array, c: jax.Array) -> jax.Array:
    return g


@clip_rule("value")
def _clip_value(g: jax.Array, c: jax.Array) -> jax.Array:
    """Clamps each component to [-c, c] (torch clip_grad_value_, optax.clip)."""
    return jnp.clip(g, -c, c)


# Norms are taken after scaling g by a power of two when its largest
# component is so large that its square overflows (|g| >= ~1e154 in float64)
# or so small that its square underflows (|g| <= ~1e-154). A power of two
# scales exactly, so in between (every ordinary gradient) the arithmetic is
# the plain sqrt(g0 * g0 + g1 * g1) bit for bit, and outside it the norm is
# still right instead of inf (a zero step) or 0 (never clipping).
# (above, rescale by, below, rescale by) per dtype; the scaled squares stay
# well inside the normal range.
_NORM_SCALES = {
    "float64": (2.0**500, 2.0**-600, 2.0**-500, 2.0**600),
    "float32": (2.0**50, 2.0**-70, 2.0**-50, 2.0**70),
}


def _norm_scale(m: jax.Array, dtype) -> jax.Array:
    """The power of two that brings ``m`` = max |g_i| into the safe range (1 when it is already)."""
    big, down, small, up = _NORM_SCALES.get(str(jnp.dtype(dtype)), _NORM_SCALES["float64"])
    return jnp.where(m > big, down, jnp.where(m < small, up, 1.0)).astype(dtype)


def scaled_norm(g0: jax.Array, g1: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The length of (g0, g1) elementwise, without overflow or underflow.

    Returns:
      (norm, s, scaled_norm): ``s`` is a power of two (1 for ordinary
      values) and ``scaled_norm`` the length of (s g0, s g1), so ``norm =
      scaled_norm / s`` (which overflows only where the length itself is
      beyond the largest float).

    Written per component (``g0 * g0 + g1 * g1``) so that a batch of cells
    and the one-cell program compile to the same arithmetic (see
    ``sweeps._clip_cells``).
    """
    s = _norm_scale(jnp.maximum(jnp.abs(g0), jnp.abs(g1)), jnp.result_type(g0, g1))
    a0, a1 = g0 * s, g1 * s
    inner = jnp.sqrt(a0 * a0 + a1 * a1)
    return inner / s, s, inner


def vector_norms(v: np.ndarray) -> np.ndarray:
    """NumPy: the length of each row of ``v`` (k, 2), scaled like ``scaled_norm``.

    For ordinary values this is ``sqrt(v0**2 + v1**2)`` bit for bit (so the
    reported norms agree with the ones the clipping rule compared with c);
    a 1e200 gradient has length 1e200, not inf.
    """
    v = np.asarray(v, dtype=float).reshape(-1, 2)
    m = np.max(np.abs(v), axis=1) if v.size else np.zeros(0)
    big, down, small, up = _NORM_SCALES["float64"]
    with np.errstate(invalid="ignore"):
        s = np.where(m > big, down, np.where(m < small, up, 1.0))
    a0, a1 = v[:, 0] * s, v[:, 1] * s
    with np.errstate(over="ignore"):
        return np.sqrt(a0 * a0 + a1 * a1) / s


def _clip_scaled(g: jax.Array, c: jax.Array, s: jax.Array, inner: jax.Array, norm: jax.Array) -> jax.Array:
    """g rescaled to length c where norm > c: (s g) (c / ||s g||), exact when s = 1."""
    over = norm > c
    # Both branches are evaluated: guard the division where g = 0 (norm 0).
    ratio = c / jnp.where(over, inner, 1.0)
    return jnp.where(over, (g * s) * ratio, g)


@clip_rule("norm")
def _clip_norm(g: jax.Array, c: jax.Array) -> jax.Array:
    """Rescales g to length c exactly when ||g|| > c; no epsilon (Goodfellow eq. 10.48).

    The norm is computed scaled (``scaled_norm``): a gradient of 1e200 is
    clipped to length c, not to a zero step, and one of 1e-170 is still
    clipped when c is smaller.
    """
    if g.size == 2:
        flat = g.reshape(2)
        norm, s, inner = scaled_norm(flat[0], flat[1])
    else:
        s = _norm_scale(jnp.max(jnp.abs(g)), g.dtype)
        inner = jnp.sqrt(jnp.sum((g * s) * (g * s)))
        norm = inner / s
    return _clip_scaled(g, c, s, inner, norm)


def clip_modes() -> list[str]:
    """The registered clipping modes."""
    return list(CLIP_RULES)


def positive_number(name: str, value: object) -> float:
    """``value`` as a float, or ValueError naming ``name`` and the bad value."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return number


def check_clip(mode: str, threshold: object) -> float:
    """Validates a mode and a threshold; returns the threshold as a float.

    Raises:
      ValueError: for an unknown mode, or a threshold that is not a finite
        positive number (the message names the bad value).
    """
    if mode not in CLIP_RULES:
        raise ValueError(f"unknown clipping mode {mode!r}; choose one of {', '.join(CLIP_RULES)}")
    return positive_number("clipping threshold", threshold)


def clip_gradient(g: ArrayLike, mode: str, threshold: ArrayLike) -> jax.Array:
    """Clips a gradient by the rule ``mode``.

    Args:
      g: the raw gradient (any shape; norms are taken over all of it).
      mode: ``"none"``, ``"value"`` or ``"norm"`` (or any registered rule).
      threshold: c > 0. Under ``jax.jit`` it may be traced; a concrete value
        is checked.

    Returns:
      The clipped gradient, same shape and dtype as ``g``.

    Raises:
      ValueError: unknown mode, or a concrete threshold that is not finite
        and positive.

    >>> import jax.numpy as jnp
    >>> [round(v, 12) for v in clip_gradient(jnp.array([3.0, 4.0]), "norm", 1.0).tolist()]
    [0.6, 0.8]
    >>> [round(v, 12) for v in clip_gradient(jnp.array([3e200, 4e200]), "norm", 1.0).tolist()]
    [0.6, 0.8]
    >>> clip_gradient(jnp.array([3.0, -0.5]), "value", 1.0).tolist()
    [1.0, -0.5]
    """
    if isinstance(threshold, jax.core.Tracer):
        if mode not in CLIP_RULES:
            check_clip(mode, 1.0)
    else:
        threshold = check_clip(mode, threshold)
    g = jnp.asarray(g)
    return CLIP_RULES[mode](g, jnp.asarray(threshold, dtype=g.dtype))
