"""How a step can fail, decided once for the engine and the sweeps alike.

A step fails when the gradient it used is not finite, when the point it
reached is not finite, or when the loss there is not finite; the run stops
at that step with the matching code, and ``describe_end`` says why.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: Why a run stopped early; the codes come out of the jitted loops.
OK, BAD_GRAD, BAD_PARAMS, BAD_LOSS = 0, 1, 2, 3


def step_status(
    grad: jax.Array, new_theta: jax.Array, new_loss: jax.Array, axis: int | None = None
) -> jax.Array:
    """The status code of one step (or of each cell's step, with ``axis=1`` over (n, 2) arrays)."""
    return jnp.where(
        ~jnp.all(jnp.isfinite(grad), axis=axis),
        BAD_GRAD,
        jnp.where(
            ~jnp.all(jnp.isfinite(new_theta), axis=axis),
            BAD_PARAMS,
            jnp.where(~jnp.isfinite(new_loss), BAD_LOSS, OK),
        ),
    )


def start_status(loss0: jax.Array) -> jax.Array:
    """OK where the loss at the start is finite, else BAD_LOSS."""
    return jnp.where(jnp.isfinite(loss0), OK, BAD_LOSS)


def describe_end(status: int, k: int, grad: np.ndarray, update: np.ndarray, steps: int) -> str:
    if status == OK:
        return f"completed all {steps} steps" if k == steps else f"completed {k} steps"
    if status == BAD_GRAD:
        return (
            f"diverged at step {k}: the gradient there is not finite "
            f"({grad[0]:.3g}, {grad[1]:.3g}); the cliff overflowed the number format"
        )
    if status == BAD_PARAMS:
        return (
            f"diverged at step {k}: the update ({update[0]:.3g}, {update[1]:.3g}) "
            "sent the parameters to infinity"
        )
    return f"diverged at step {k}: the loss at the point the step reached is not finite"
