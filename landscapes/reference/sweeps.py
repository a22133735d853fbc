"""A hand-vectorized NumPy start map of the Pascanu RNN: the sweeps' baseline.

Plain gradient descent from many starts at once, with the RNN's gradient by
backpropagation through time written out by hand over arrays of cells (no
JAX). The benchmark reports the JAX sweep's speed as a ratio to this, and a
test checks that both draw the same map. Written for speed the NumPy way
(in-place ufuncs, preallocated buffers), so the ratio is a fair one.
"""

from __future__ import annotations

import numpy as np

from ..core.objectives import PASCANU_TARGET, PASCANU_X0


def _sigmoid(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-x)); exp overflows to inf for x < -709, giving exactly 0.
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


class PascanuBPTT:
    """Loss and gradient of the Pascanu RNN for n cells, by BPTT over arrays.

    Buffers are allocated once for (T, n), so repeated calls (one per descent
    step) only compute.
    """

    def __init__(self, n: int, T: int):
        self.T = int(T)
        self.s = np.empty((self.T, n))  # sigmoid(x_{t-1}) for t = 1..T
        self.x = np.empty(n)
        self.tmp = np.empty(n)
        self.gain = np.empty(n)
        self.dx = np.empty(n)

    def __call__(self, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s, x, tmp, gain, dx = self.s, self.x, self.tmp, self.gain, self.dx
        x.fill(PASCANU_X0)
        for t in range(self.T):  # forward: x_t = w sigmoid(x_{t-1}) + b
            _sigmoid(x, out=s[t])
            np.multiply(w, s[t], out=x)
            x += b
        s_last = _sigmoid(x, out=np.empty_like(x))
        error = s_last - PASCANU_TARGET
        loss = error * error
        # dE/dx_T, then back through x_t = w s_t + b, s_t = sigmoid(x_{t-1}).
        np.multiply(2.0 * error, s_last * (1.0 - s_last), out=dx)
        dw = np.zeros_like(x)
        db = np.zeros_like(x)
        for t in range(self.T - 1, -1, -1):
            np.multiply(dx, s[t], out=tmp)
            dw += tmp
            db += dx
            np.subtract(1.0, s[t], out=gain)  # d x_t / d x_{t-1} = w s (1 - s)
            gain *= s[t]
            gain *= w
            dx *= gain
        return loss, dw, db


def pascanu_start_map(
    starts: np.ndarray, lr: float, steps: int, clip: str = "none", threshold: float = 1.0, T: int = 50
) -> dict[str, np.ndarray]:
    """Plain gradient descent with clipping from every start (shape (n, 2)).

    Clipping rules as in ``reference``: value clamps each component to
    [-c, c]; norm rescales g to length c when ||g|| > c. A cell whose
    gradient, parameters or loss stop being finite is frozen at its last
    finite point, as the engine does.

    Returns:
      final_x, final_y, final_loss, steps_taken, n_clipped: arrays of shape (n,).
    """
    starts = np.asarray(starts, dtype=float)
    w, b = starts[:, 0].copy(), starts[:, 1].copy()
    n = len(w)
    model = PascanuBPTT(n, T)
    loss, gw, gb = model(w, b)
    active = np.isfinite(loss)
    taken = np.zeros(n, dtype=np.int64)
    n_clipped = np.zeros(n, dtype=np.int64)
    for _ in range(steps):
        if not active.any():
            break
        ok = active & np.isfinite(gw) & np.isfinite(gb)
        if clip == "norm":
            norm = np.hypot(gw, gb)
            fired = norm > threshold
            scale = np.where(fired, threshold / np.where(fired, norm, 1.0), 1.0)
            cw, cb = gw * scale, gb * scale
        elif clip == "value":
            cw, cb = np.clip(gw, -threshold, threshold), np.clip(gb, -threshold, threshold)
            fired = (cw != gw) | (cb != gb)
        else:
            cw, cb, fired = gw, gb, np.zeros(n, dtype=bool)
        new_w, new_b = w - lr * cw, b - lr * cb
        ok &= np.isfinite(new_w) & np.isfinite(new_b)
        with np.errstate(invalid="ignore", over="ignore"):
            new_loss, new_gw, new_gb = model(np.where(ok, new_w, w), np.where(ok, new_b, b))
        ok &= np.isfinite(new_loss)
        w, b = np.where(ok, new_w, w), np.where(ok, new_b, b)
        loss = np.where(ok, new_loss, loss)
        gw, gb = np.where(ok, new_gw, gw), np.where(ok, new_gb, gb)
        taken += ok
        n_clipped += ok & fired
        active = ok
    return dict(final_x=w, final_y=b, final_loss=loss, steps_taken=taken, n_clipped=n_clipped)
