"""One descent step for any registered rule and optimizer, and the gradient noise: shared by the
engine (one run) and the sweeps (``jax.vmap`` over cells for the rules with state).

``make_stepper`` returns ``init(theta) -> state`` and ``step(g, state, theta)
-> (update, state, fired, level)``: the rule applied where its placement says
(before the optimizer, after its direction, or around it), ``fired`` whether
it changed anything (a skipped step counts), ``level`` the rule's effective
threshold at that step (the fixed c, or an adaptive rule's own; ``inf`` for
a rule that ignores it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Protocol, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .clipping import CLIP_RULES, CLIP_SPECS
from .optimizers import OPTIMIZER_DIRECTIONS, optimizer_direction, optimizer_transform


class _GateState(Protocol):
    """The state of a ``wrap`` rule: its ``skipped`` field says whether the step was skipped."""

    skipped: jax.Array


def make_stepper(
    clip: str,
    optimizer: str,
    lr: jax.Array,
    momentum: jax.Array,
    threshold: jax.Array,
    clip_options: Mapping[str, jax.Array],
    optimizer_options: Mapping[str, jax.Array],
    capacity: int = 0,
) -> tuple[Callable, Callable]:
    spec = CLIP_SPECS[clip]
    rule_options: Mapping[str, jax.Array | int] = clip_options
    if spec.history and capacity:
        rule_options = {**clip_options, "capacity": capacity}
    dtype_inf = jnp.inf

    def level_of(state, dtype):
        value = getattr(state, "threshold", None)
        if value is None:
            value = threshold if spec.uses_threshold else dtype_inf
        return jnp.asarray(value, dtype)

    if spec.wrap is not None:
        full = spec.wrap(
            optimizer_transform(optimizer, lr, momentum, optimizer_options), threshold, **rule_options
        )

        def gated_step(g, state, theta):
            update, new_state = full.update(g, state, theta)
            return update, new_state, cast(_GateState, new_state).skipped, jnp.asarray(threshold, g.dtype)

        return full.init, gated_step

    if spec.transform is not None and spec.placement == "direction":
        direction = optimizer_direction(optimizer, momentum, optimizer_options)
        direction_rule = spec.transform(threshold, **rule_options)
        scale = optax.scale(-lr)

        def direction_init(theta):
            return (direction.init(theta), direction_rule.init(theta))

        def direction_step(g, state, theta):
            d, d_state = direction.update(g, state[0], theta)
            clipped, r_state = direction_rule.update(d, state[1], theta)
            update, _ = scale.update(clipped, optax.EmptyState())
            return update, (d_state, r_state), jnp.any(clipped != d), level_of(r_state, g.dtype)

        return direction_init, direction_step

    opt = optimizer_transform(optimizer, lr, momentum, optimizer_options)
    if spec.transform is not None:
        rule = spec.transform(threshold, **rule_options)

        def transform_init(theta):
            return (rule.init(theta), opt.init(theta))

        def transform_step(g, state, theta):
            clipped, r_state = rule.update(g, state[0], theta)
            update, o_state = opt.update(clipped, state[1], theta)
            return update, (r_state, o_state), jnp.any(clipped != g), level_of(r_state, g.dtype)

        return transform_init, transform_step

    clip_rule = CLIP_RULES[clip]

    def step(g, state, theta):
        clipped = clip_rule(g, threshold, **rule_options)
        update, o_state = opt.update(clipped, state, theta)
        return update, o_state, jnp.any(clipped != g), level_of(None, g.dtype)

    return opt.init, step


# ---------------------------------------------------------------------------
# Noise

NOISE_KEYS = ("sigma", "spike_prob", "spike_scale", "seed")
NOISE_DEFAULTS = {"sigma": 0.0, "spike_prob": 0.0, "spike_scale": 10.0, "seed": 0}


def check_noise(noise: Mapping[str, object] | None) -> dict[str, float] | None:
    """Validates ``noise``: None, or a mapping with keys among sigma, spike_prob, spike_scale, seed.

    Returns the mapping with defaults filled in (sigma 0, spike_prob 0,
    spike_scale 10, seed 0), or None.
    """
    if noise is None:
        return None
    if not isinstance(noise, Mapping):
        raise ValueError(f"noise must be None or a mapping with keys {', '.join(NOISE_KEYS)}, got {noise!r}")
    unknown = [key for key in noise if key not in NOISE_KEYS]
    if unknown:
        raise ValueError(f"noise has no setting {unknown[0]!r} (its settings: {', '.join(NOISE_KEYS)})")
    out: dict[str, float] = {}
    for key in NOISE_KEYS:
        value = noise.get(key, NOISE_DEFAULTS[key])
        try:
            if isinstance(value, bool):
                raise TypeError
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"noise {key} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"noise {key} must be finite, got {value!r}")
        if key == "sigma" and number < 0:
            raise ValueError(f"noise sigma must be at least 0, got {value!r}")
        if key == "spike_prob" and not 0 <= number <= 1:
            raise ValueError(f"noise spike_prob must lie in [0, 1], got {value!r}")
        if key == "seed" and not (number.is_integer() and 0 <= number < 2**32):
            raise ValueError(f"noise seed must be a whole number in [0, 2**32), got {value!r}")
        out[key] = int(number) if key == "seed" else number
    return out


def noise_draw(
    noise: Mapping[str, jax.Array], step: jax.Array, size: int, dtype
) -> tuple[jax.Array, jax.Array]:
    """(z, spike) for one step: standard normal (size,) and whether this step spikes.

    From ``jax.random`` with the seed's key folded by the step index, so the
    same seed gives the same run, and a run's noise does not depend on how
    many steps it is asked for.
    """
    key = jax.random.fold_in(jax.random.PRNGKey(noise["seed"]), step)
    k_noise, k_spike = jax.random.split(key)
    z = jax.random.normal(k_noise, (size,), dtype)
    spike = jax.random.uniform(k_spike, (), dtype) < noise["spike_prob"]
    return z, spike


def add_noise(grad: jax.Array, z: jax.Array, spike: jax.Array, noise: Mapping[str, jax.Array]) -> jax.Array:
    """``(grad + sigma z)`` times ``spike_scale`` on a spike; with sigma 0 and no spike, ``grad`` itself."""
    sigma = noise["sigma"]
    noisy = jnp.where(sigma > 0, grad + sigma * z, grad)
    return jnp.where(spike, noisy * noise["spike_scale"], noisy)


def options_as_traced(options: Mapping[str, float], dt: np.dtype) -> dict[str, np.ndarray]:
    """Options as arrays of the run's dtype: traced values, so a new value never recompiles."""
    return {name: np.asarray(value, dt) for name, value in options.items()}


def noise_as_traced(noise: Mapping[str, float] | None, dt: np.dtype) -> dict[str, np.ndarray | np.uint32]:
    """The noise settings as traced values: sigma, spike_prob, spike_scale in ``dt``, the seed as uint32."""
    if noise is None:
        return {}
    out: dict[str, np.ndarray | np.uint32] = {
        key: np.asarray(noise[key], dt) for key in ("sigma", "spike_prob", "spike_scale")
    }
    out["seed"] = np.uint32(noise["seed"])
    return out


def check_placement(clip: str, optimizer: str) -> None:
    if CLIP_SPECS[clip].placement == "direction" and optimizer not in OPTIMIZER_DIRECTIONS:
        raise ValueError(
            f"clipping rule {clip!r} needs the direction of optimizer {optimizer!r}, which has none"
        )
