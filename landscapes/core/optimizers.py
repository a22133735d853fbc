"""The optimizer registry: each optimizer is an optax transformation factory ``(lr, momentum)``.

Clipping acts on the raw gradient before the optimizer, as in torch and optax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import jax
import optax

OptimizerName = Literal["sgd", "momentum", "adam"]

OPTIMIZERS: dict[str, Callable[[jax.Array, jax.Array], optax.GradientTransformation]] = {
    # Plain gradient descent: theta <- theta - lr * g.
    "sgd": lambda lr, momentum: optax.sgd(lr),
    # Heavy ball: v <- momentum * v + g; theta <- theta - lr * v (torch's SGD momentum).
    "momentum": lambda lr, momentum: optax.sgd(lr, momentum=momentum),
    "adam": lambda lr, momentum: optax.adam(lr),
}

OPTIMIZER_LABELS = {"sgd": "plain gradient descent", "momentum": "heavy-ball momentum", "adam": "Adam"}


def register_optimizer(
    name: str, factory: Callable[[jax.Array, jax.Array], optax.GradientTransformation], *, label: str
) -> None:
    """Registers ``factory(lr, momentum) -> optax.GradientTransformation`` as optimizer ``name``."""
    if name in OPTIMIZERS:
        raise ValueError(f"an optimizer named {name!r} is already registered")
    OPTIMIZERS[name] = factory
    OPTIMIZER_LABELS[name] = label
