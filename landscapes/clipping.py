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


@clip_rule("norm")
def _clip_norm(g: jax.Array, c: jax.Array) -> jax.Array:
    """Rescales g to length c exactly when ||g|| > c; no epsilon (Goodfellow eq. 10.48)."""
    norm = jnp.linalg.norm(g)
    # The division only runs where norm > c > 0, but both branches are
    # evaluated, so guard it against 0/0 where g = 0.
    scale = c / jnp.where(norm > c, norm, 1.0)
    return jnp.where(norm > c, g * scale, g)


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
    >>> clip_gradient(jnp.array([3.0, 4.0]), "norm", 1.0).tolist()
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
