"""Plain-NumPy references for the clipping rules beyond value and norm, written from their formulas.

Nothing here is jitted: each rule is a small Python object whose ``clip(g,
theta)`` returns the clipped gradient and the threshold it used, and
``descend`` runs plain descent (or heavy-ball momentum) with it in a Python
loop. The engine is compared with these step by step on short runs (chaos
makes long runs near the wall incomparable between any two implementations).
Norms are ``math.hypot`` (no overflow), sums are sequential Python sums.
"""

from __future__ import annotations

import math

import numpy as np

from .engine import clip_norm, clip_norm_torch


def _norm(g: np.ndarray) -> float:
    return math.hypot(*(float(x) for x in np.ravel(g)))


def normalize(g: np.ndarray, c: float, beta: float = 1e-6) -> np.ndarray:
    """Normalized GD (Zhang et al. 2020): g * c / (||g|| + beta), at every step."""
    return g * (c / (_norm(g) + beta))


def per_variable(g: np.ndarray, c: float) -> np.ndarray:
    """Keras clipnorm on scalar variables: each g_i * c / max(|g_i|, c) (tf.clip_by_norm per variable)."""
    return np.array([x * c / max(abs(x), c) for x in np.ravel(g)])


def agc(g: np.ndarray, c: float, theta: np.ndarray, eps: float = 1e-3) -> tuple[np.ndarray, float]:
    """Brock et al. 2021, as optax.adaptive_grad_clip: clip to c max(||theta||, eps) where ||g|| >= it."""
    level = c * max(_norm(theta), eps)
    n = _norm(g)
    return (g if n < level else g * (level / max(n, 1e-6))), level


class AutoClip:
    """Seetharaman et al. 2020: clip to the p-th percentile (numpy's default) of all norms so far."""

    def __init__(self, p: float = 10.0):
        self.p = p
        self.history: list[float] = []

    def clip(self, g: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, float]:
        self.history.append(_norm(g))
        level = float(np.percentile(self.history, self.p))
        return clip_norm(g, level), level


class ZClip:
    """Kumar et al. 2025, from the formulas: warm-up statistics, then the z test on moving averages."""

    def __init__(self, z: float = 2.5, alpha: float = 0.97, warmup: int = 25, max_norm: float | None = None):
        self.z, self.alpha, self.warmup, self.max_norm = z, alpha, warmup, max_norm
        self.collected: list[float] = []
        self.mu = self.var = 0.0

    def clip(self, g: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, float]:
        n = _norm(g)
        cap = math.inf if self.max_norm is None else self.max_norm
        if len(self.collected) < self.warmup:
            self.collected.append(n)
            if len(self.collected) == self.warmup:
                self.mu = sum(self.collected) / self.warmup
                self.var = sum((x - self.mu) ** 2 for x in self.collected) / self.warmup
            return clip_norm(g, cap), cap
        sigma = math.sqrt(self.var)
        level = min(self.mu + self.z * (sigma + 1e-6), cap)
        z = (n - self.mu) / (sigma + 1e-6)
        n_eff = self.mu + self.z**2 * sigma / z if z > self.z else n
        n_eff = min(n_eff, cap)
        mu_new = self.alpha * self.mu + (1 - self.alpha) * n_eff
        self.var = self.alpha * self.var + (1 - self.alpha) * (n_eff - mu_new) ** 2
        self.mu = mu_new
        return clip_norm(g, n_eff), level


class Fixed:
    """A stateless rule ``fn(g, c)`` (norm, value, torch's, normalize, per-variable) with its threshold."""

    def __init__(self, fn, c: float, **options):
        self.fn, self.c, self.options = fn, c, options

    def clip(self, g: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, float]:
        return self.fn(g, self.c, **self.options), self.c


class Agc:
    def __init__(self, c: float, eps: float = 1e-3):
        self.c, self.eps = c, eps

    def clip(self, g, theta):
        return agc(g, self.c, theta, self.eps)


def make_rule(name: str, threshold: float, **options):
    """A fresh reference rule object for the engine's rule ``name``."""
    fixed = {
        "norm": clip_norm,
        "norm_torch": clip_norm_torch,
        "normalize": normalize,
        "per_variable": per_variable,
        "clip_update": clip_norm,
    }
    if name in fixed:
        return Fixed(fixed[name], threshold, **options)
    if name == "agc":
        return Agc(threshold, **options)
    if name == "autoclip":
        return AutoClip(threshold)
    if name == "zclip":
        return ZClip(threshold, **options)
    raise ValueError(name)


def descend(
    loss_and_grad,
    start,
    lr: float,
    steps: int,
    rule: str,
    threshold: float,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    **options,
) -> dict[str, np.ndarray]:
    """Descent in a Python loop with a reference rule.

    ``clip_update`` clips the optimizer's direction (the velocity for
    momentum) before the learning rate; ``skip`` leaves the point and the
    velocity unchanged when ``||g|| > c`` or g is not finite. Stops (like the
    engine) at a non-finite gradient, point or loss.

    Returns params, loss, grad, update, clipped (whether the rule changed
    the gradient or skipped) and threshold (the level it used) per step.
    """
    theta = np.asarray(start, dtype=float)
    loss, grad = loss_and_grad(*theta)
    points, losses, grads, updates, fired, levels = [theta], [loss], [], [], [], []
    obj = None if rule == "skip" else make_rule(rule, threshold, **options)
    velocity = np.zeros(2)
    for _ in range(steps):
        if not np.all(np.isfinite(grad)):
            break
        if rule == "skip":
            take = _norm(grad) <= threshold
            if take:
                velocity = momentum * velocity + grad if optimizer == "momentum" else grad
            update = -lr * velocity if take else np.zeros(2)
            changed, level = not take, threshold
        elif rule == "clip_update":
            assert obj is not None  # every rule but skip has one
            velocity = momentum * velocity + grad if optimizer == "momentum" else grad
            direction, level = obj.clip(velocity, theta)
            changed = not np.array_equal(direction, velocity)
            update = -lr * direction
        else:
            assert obj is not None
            g, level = obj.clip(grad, theta)
            changed = not np.array_equal(g, grad)
            velocity = momentum * velocity + g if optimizer == "momentum" else g
            update = -lr * velocity
        new_theta = theta + update
        if not np.all(np.isfinite(new_theta)):
            break
        new_loss, new_grad = loss_and_grad(*new_theta)
        if not math.isfinite(new_loss):
            break
        grads.append(grad)
        updates.append(update)
        fired.append(changed)
        levels.append(level)
        theta, loss, grad = new_theta, new_loss, new_grad
        points.append(theta)
        losses.append(loss)
    return {
        "params": np.array(points),
        "loss": np.array(losses),
        "grad": np.array(grads).reshape(-1, 2),
        "update": np.array(updates).reshape(-1, 2),
        "clipped": np.array(fired, dtype=bool),
        "threshold": np.array(levels, dtype=float),
    }
