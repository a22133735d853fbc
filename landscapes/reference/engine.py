"""Slow, independent reference implementations for tests and benchmarks.

Nothing here is jitted or vectorized: each step is a plain Python loop over
NumPy floats, with the clipping rules written from their documentation and
the optimizers from torch's documented update rules. The fast engine is
checked against these, and the benchmark reports its speed as a ratio to them.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.objectives import PASCANU_TARGET, PASCANU_X0


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def pascanu_loss_and_grad(w: float, b: float, steps: int = 50) -> tuple[float, np.ndarray]:
    """The RNN loss and its gradient by backpropagation through time, by hand."""
    xs = [PASCANU_X0]
    for _ in range(steps):
        xs.append(w * _sigmoid(xs[-1]) + b)
    s_last = _sigmoid(xs[-1])
    loss = (s_last - PASCANU_TARGET) ** 2
    dx = 2.0 * (s_last - PASCANU_TARGET) * s_last * (1.0 - s_last)  # dE/dx_T
    dw = db = 0.0
    for t in range(steps, 0, -1):
        s_prev = _sigmoid(xs[t - 1])
        dw += dx * s_prev
        db += dx
        dx = dx * w * s_prev * (1.0 - s_prev)  # through x_t = w sigma(x_{t-1}) + b
    return loss, np.array([dw, db])


def clip_value(g: np.ndarray, c: float) -> np.ndarray:
    """torch.nn.utils.clip_grad_value_: clamp each component to [-c, c]."""
    return np.minimum(np.maximum(g, -c), c)


def clip_norm(g: np.ndarray, c: float) -> np.ndarray:
    """Goodfellow et al. eq. 10.48: if ||g|| > c, g <- g c / ||g||.

    The norm by ``math.hypot``, which neither overflows nor underflows.
    """
    norm = math.hypot(*(float(x) for x in np.ravel(g)))
    return g * (c / norm) if norm > c else g


def clip_norm_torch(g: np.ndarray, c: float, eps: float = 1e-6) -> np.ndarray:
    """torch.nn.utils.clip_grad_norm_ as documented: g * min(1, c / (||g|| + eps))."""
    norm = math.hypot(*(float(x) for x in np.ravel(g)))
    return g * min(1.0, c / (norm + eps))


REFERENCE_CLIPS = {"none": lambda g, c: g, "value": clip_value, "norm": clip_norm}


def descend(
    loss_and_grad,
    start,
    lr: float,
    steps: int,
    clip: str = "none",
    threshold: float = 1.0,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> dict[str, np.ndarray]:
    """Gradient descent in a Python loop, with torch's documented optimizer rules.

    Returns the visited points, losses, raw gradients and applied updates.
    Stops early (like the engine) when a value stops being finite.
    """
    theta = np.asarray(start, dtype=float)
    loss, grad = loss_and_grad(*theta)
    points, losses, grads, updates = [theta], [loss], [], []
    velocity = np.zeros(2)
    m, v = np.zeros(2), np.zeros(2)
    for t in range(1, steps + 1):
        if not np.all(np.isfinite(grad)):
            break
        g = REFERENCE_CLIPS[clip](grad, threshold)
        if optimizer == "sgd":
            update = -lr * g
        elif optimizer == "momentum":
            velocity = momentum * velocity + g
            update = -lr * velocity
        elif optimizer == "adam":
            m = betas[0] * m + (1 - betas[0]) * g
            v = betas[1] * v + (1 - betas[1]) * g * g
            m_hat = m / (1 - betas[0] ** t)
            v_hat = v / (1 - betas[1] ** t)
            update = -lr * m_hat / (np.sqrt(v_hat) + eps)
        else:
            raise ValueError(optimizer)
        new_theta = theta + update
        if not np.all(np.isfinite(new_theta)):
            break
        new_loss, new_grad = loss_and_grad(*new_theta)
        if not math.isfinite(new_loss):
            break
        grads.append(grad)
        updates.append(update)
        theta, loss, grad = new_theta, new_loss, new_grad
        points.append(theta)
        losses.append(loss)
    return {
        "params": np.array(points),
        "loss": np.array(losses),
        "grad": np.array(grads).reshape(-1, 2),
        "update": np.array(updates).reshape(-1, 2),
    }
