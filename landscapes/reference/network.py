"""The RNN of ``core.network`` in float64 NumPy, with backpropagation through time written by hand.

Nothing here uses JAX's differentiation: the forward pass keeps every hidden
state, the backward pass walks them in reverse. ``train`` replays a run of
``core.network.train_rnn`` from its initial parameters and the batches
``rnn_task_batch`` gives, with plain or heavy-ball descent and the value or
norm rule applied globally or per tensor, so the two can be compared step
by step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..core.network import PARAM_NAMES, rnn_task_batch

Params = dict[str, np.ndarray]


def forward(params: Mapping[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs (batch,) and the hidden states h_0..h_T, each (batch, H)."""
    w_in, w_rec, b = params["W_in"], params["W_rec"], params["b"]
    hs = [np.zeros((x.shape[0], w_rec.shape[0]))]
    for t in range(x.shape[1]):
        hs.append(np.tanh(x[:, t, :] @ w_in.T + hs[-1] @ w_rec.T + b))
    return hs[-1] @ params["W_out"] + params["b_out"], hs


def loss_and_grad(
    params: Mapping[str, np.ndarray], x: np.ndarray, target: np.ndarray
) -> tuple[float, Params]:
    """Mean squared error and its gradient by BPTT."""
    params = {n: np.asarray(v, np.float64) for n, v in params.items()}
    x, target = np.asarray(x, np.float64), np.asarray(target, np.float64)
    y, hs = forward(params, x)
    n = x.shape[0]
    err = y - target
    loss = float(np.mean(err * err))
    dy = 2.0 * err / n  # dL/dy
    grads = {
        "W_out": hs[-1].T @ dy,
        "b_out": np.asarray(dy.sum()),
        "W_in": np.zeros_like(params["W_in"]),
        "W_rec": np.zeros_like(params["W_rec"]),
        "b": np.zeros_like(params["b"]),
    }
    dh = np.outer(dy, params["W_out"])  # dL/dh_T
    for t in range(x.shape[1], 0, -1):
        da = dh * (1.0 - hs[t] * hs[t])  # through tanh
        grads["W_in"] += da.T @ x[:, t - 1, :]
        grads["W_rec"] += da.T @ hs[t - 1]
        grads["b"] += da.sum(axis=0)
        dh = da @ params["W_rec"]
    return loss, {name: grads[name] for name in PARAM_NAMES}


def _norm(arrays) -> float:
    return math.sqrt(sum(float(np.sum(a * a)) for a in arrays))


def clip(grads: Params, mode: str, threshold: float | Mapping[str, float], scope: str = "global") -> Params:
    """``none``, ``value`` or ``norm`` (rescaled to c only where the norm exceeds c), from the formulas."""
    levels: Mapping[str, float] = (
        threshold if isinstance(threshold, Mapping) else dict.fromkeys(PARAM_NAMES, float(threshold))
    )
    if mode == "none":
        return dict(grads)
    if mode == "value":
        return {n: np.clip(g, -levels[n], levels[n]) for n, g in grads.items()}
    if mode != "norm":
        raise ValueError(f"the reference knows none, value and norm, not {mode!r}")
    if scope == "global":
        norm, c = _norm(grads.values()), levels[PARAM_NAMES[0]]
        return {n: (g * (c / norm) if norm > c else g) for n, g in grads.items()}
    out = {}
    for n, g in grads.items():
        norm = _norm([g])
        out[n] = g * (levels[n] / norm) if norm > levels[n] else g
    return out


def train(
    init_params: Mapping[str, np.ndarray],
    *,
    T: int,
    batch: int,
    seed: int,
    steps: int,
    lr: float,
    clip_mode: str = "none",
    threshold: float | Mapping[str, float] = 1.0,
    scope: str = "global",
    momentum: float | None = None,
    task: str = "adding",
    batches: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, list]:
    """Replays a run: per step the loss, the global gradient norm, and the parameters after it.

    ``momentum``: None for plain descent, else torch's heavy ball (v <- m v + g; theta <- theta - lr v).
    ``batches``: the (x, target) of each step, if already drawn (else ``rnn_task_batch`` gives them).
    """
    params = {n: np.array(v, np.float64) for n, v in init_params.items()}
    velocity = {n: np.zeros_like(v) for n, v in params.items()}
    out: dict[str, list] = {"loss": [], "grad_norm": [], "params": []}
    for step in range(steps):
        x, y = batches[step] if batches is not None else rnn_task_batch(task, T, batch, seed, step)
        loss, grads = loss_and_grad(params, x, y)
        out["loss"].append(loss)
        out["grad_norm"].append(_norm(grads.values()))
        g = clip(grads, clip_mode, threshold, scope)
        for n in PARAM_NAMES:
            if momentum is None:
                params[n] = params[n] - lr * g[n]
            else:
                velocity[n] = momentum * velocity[n] + g[n]
                params[n] = params[n] - lr * velocity[n]
        out["params"].append({n: v.copy() for n, v in params.items()})
    return out
