"""The optimizer registry: each optimizer is an optax transformation factory ``(lr, momentum, **options)``.

Clipping acts on the raw gradient before the optimizer, as in torch and optax.
Each optimizer also has its *direction*: the same transformation without the
learning rate (``optimizer = chain(direction, scale(-lr))``), which the
``clip_update`` rule clips before the learning rate is applied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

import jax
import optax

OptimizerName = Literal["sgd", "momentum", "adam", "adamw"]

OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    # Plain gradient descent: theta <- theta - lr * g.
    "sgd": lambda lr, momentum: optax.sgd(lr),
    # Heavy ball: v <- momentum * v + g; theta <- theta - lr * v (torch's SGD momentum).
    "momentum": lambda lr, momentum: optax.sgd(lr, momentum=momentum),
    "adam": lambda lr, momentum: optax.adam(lr),
    # Adam with decoupled weight decay: the decay is added to Adam's direction, never clipped.
    "adamw": lambda lr, momentum, weight_decay=0.01: optax.adamw(lr, weight_decay=weight_decay),
}

#: Each optimizer's direction (its scaling, before ``scale(-lr)``): ``direction(momentum, **options)``.
OPTIMIZER_DIRECTIONS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "sgd": lambda momentum: optax.identity(),
    "momentum": lambda momentum: optax.trace(decay=momentum, nesterov=False),
    "adam": lambda momentum: optax.scale_by_adam(),
    "adamw": lambda momentum, weight_decay=0.01: optax.chain(
        optax.scale_by_adam(), optax.add_decayed_weights(weight_decay)
    ),
}

OPTIMIZER_LABELS = {
    "sgd": "plain gradient descent",
    "momentum": "heavy-ball momentum",
    "adam": "Adam",
    "adamw": "AdamW (decoupled weight decay)",
}

#: Each optimizer's options besides lr and momentum, with their defaults (``optimizer_options``).
OPTIMIZER_OPTIONS: dict[str, dict[str, float]] = {
    "sgd": {},
    "momentum": {},
    "adam": {},
    "adamw": {"weight_decay": 0.01},
}


def register_optimizer(
    name: str,
    factory: Callable[..., optax.GradientTransformation],
    *,
    label: str,
    direction: Callable[..., optax.GradientTransformation] | None = None,
    options: Mapping[str, float] | None = None,
) -> None:
    """Registers ``factory(lr, momentum, **options) -> optax.GradientTransformation`` as optimizer ``name``.

    ``direction(momentum, **options)`` is the same without the learning rate
    (needed only by the ``clip_update`` rule); ``options`` the defaults of
    its extra options.
    """
    if name in OPTIMIZERS:
        raise ValueError(f"an optimizer named {name!r} is already registered")
    OPTIMIZERS[name] = factory
    OPTIMIZER_LABELS[name] = label
    OPTIMIZER_OPTIONS[name] = dict(options or {})
    if direction is not None:
        OPTIMIZER_DIRECTIONS[name] = direction


def check_optimizer_options(optimizer: str, options: Mapping[str, object] | None) -> dict[str, float]:
    """An optimizer's options, defaults filled in, as floats; ValueError for unknown names or bad values."""
    defaults = OPTIMIZER_OPTIONS.get(optimizer, {})
    given = {} if options is None else options
    if not isinstance(given, Mapping):
        raise ValueError(f"optimizer_options must be a mapping of option names to values, got {options!r}")
    for name in given:
        if name not in defaults:
            has = ", ".join(defaults) if defaults else "none"
            raise ValueError(f"optimizer {optimizer!r} has no option {name!r} (its options: {has})")
    out = {}
    for name, default in defaults.items():
        value = given.get(name, default)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"option {name!r} of {optimizer!r} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(number) or number < 0:
            raise ValueError(f"option {name!r} of {optimizer!r} must be finite and at least 0, got {value!r}")
        out[name] = number
    return out


def optimizer_transform(
    name: str, lr: jax.Array, momentum: jax.Array, options: Mapping
) -> optax.GradientTransformation:
    return OPTIMIZERS[name](lr, momentum, **options)


def optimizer_direction(name: str, momentum: jax.Array, options: Mapping) -> optax.GradientTransformation:
    if name not in OPTIMIZER_DIRECTIONS:
        raise ValueError(f"optimizer {name!r} has no registered direction, so clip_update cannot split it")
    return OPTIMIZER_DIRECTIONS[name](momentum, **options)
