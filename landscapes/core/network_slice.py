"""The cliff in a trained network: a 2-D slice of its loss at the largest gradient spike.

At the step ``k`` whose raw gradient norm is the largest of a run, the
slice is the loss of that step's own training batch on the plane

    theta(alpha, beta) = theta_k + alpha * d1 + beta * d2,

where ``d1 = g_k / ||g_k||`` is the spike's gradient normalised (all
tensors flattened together) and ``d2`` a random direction filter-normalised
as in Li et al. (2018): a Gaussian draw whose every row of a matrix (one
hidden unit's weights, a "filter"), every vector and the scalar is rescaled
to the norm of the same row / tensor of ``theta_k``; ``d2`` is then made
orthogonal to ``d1`` (its ``d1`` component removed), so a point of the
plane has unique coordinates. ``alpha`` is a Euclidean distance; ``beta``
is in units of ``d2`` (``beta = 1``: every row moved by about its own norm).
The grid is computed in one batched call (vmapped over the grid points,
jitted at module level), in float64; the next steps of the run are
projected onto the plane (``alpha = delta . d1``,
``beta = delta . d2 / ||d2||^2``), with what the projection leaves out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import _jaxsetup  # noqa: F401  (float64 on)
from .network import PARAM_NAMES, NetworkRun, rnn_loss, rnn_task_batch

#: The smallest grid side the page uses (at least 64 x 64; an odd side puts theta_k on the grid).
MIN_RESOLUTION = 64

Tensors = dict[str, np.ndarray]


def spike_step(run: NetworkRun) -> int | None:
    """The step with the largest raw gradient norm (None for a run with no step)."""
    norms = np.asarray(run.grad_norm, float)
    finite = np.isfinite(norms)
    if not finite.any():
        return None
    return int(np.argmax(np.where(finite, norms, -np.inf)))


#: A step is a spike when its gradient norm exceeds this many times the run's median norm.
SPIKE_FACTOR = 10.0


def gradient_spikes(grad_norm: np.ndarray, factor: float = SPIKE_FACTOR) -> np.ndarray:
    """The steps whose raw gradient norm exceeds ``factor`` times the median of the run's norms."""
    norms = np.asarray(grad_norm, float)
    finite = norms[np.isfinite(norms)]
    if not len(finite):
        return np.zeros(0, int)
    return np.flatnonzero(np.isfinite(norms) & (norms > factor * float(np.median(finite))))


def _flat(tensors: Tensors) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(tensors[n], np.float64)) for n in PARAM_NAMES])


def _rows(x: np.ndarray) -> np.ndarray:
    """A tensor as its filters: the rows of a matrix; a vector or a scalar is one filter."""
    x = np.asarray(x, np.float64)
    return x if x.ndim == 2 else x.reshape(1, -1)


def filter_normalized_direction(params: Tensors, seed: int = 0) -> Tensors:
    """A Gaussian direction with each filter rescaled to the norm of the same filter of ``params``.

    Filters: each row of ``W_in`` and ``W_rec`` (one hidden unit's incoming
    weights), and ``b``, ``W_out``, ``b_out`` whole. A filter of ``params``
    that is all zeros (the biases at the start) gets a zero direction.
    """
    rng = np.random.default_rng(int(seed))
    out = {}
    for name in PARAM_NAMES:
        p = np.asarray(params[name], np.float64)
        d = rng.standard_normal(p.shape)
        rows_d, rows_p = _rows(d), _rows(p)
        nd = np.linalg.norm(rows_d, axis=1, keepdims=True)
        npar = np.linalg.norm(rows_p, axis=1, keepdims=True)
        scaled = rows_d * np.where(nd > 0, npar / np.where(nd > 0, nd, 1.0), 0.0)
        out[name] = scaled.reshape(p.shape)
    return out


def _unflat(flat: np.ndarray, like: Tensors) -> Tensors:
    out, at = {}, 0
    for name in PARAM_NAMES:
        shape = np.shape(like[name])
        size = int(np.prod(shape))
        out[name] = flat[at : at + size].reshape(shape)
        at += size
    return out


def _grid_losses(params, d1, d2, alphas, betas, x, y):
    """The loss at theta + a d1 + b d2 for every (b, a) of the grid: (len(betas), len(alphas))."""
    aa, bb = jnp.meshgrid(alphas, betas)

    def one(a, b):
        p = {n: params[n] + a * d1[n] + b * d2[n] for n in PARAM_NAMES}
        return rnn_loss(p, x, y)

    return jax.vmap(one)(aa.ravel(), bb.ravel()).reshape(aa.shape)


_grid_losses_jit = jax.jit(_grid_losses)
_loss_and_grad = jax.jit(jax.value_and_grad(rnn_loss))


@dataclass(frozen=True)
class NetworkSlice:
    """A 2-D slice of one step's training loss around the parameters at that step.

    Attributes:
      step: the step k sliced (the largest gradient spike, unless asked otherwise).
      alphas, betas: the grid's coordinates along ``d1`` and ``d2`` (see the module).
      loss: (len(betas), len(alphas)) the loss of step k's batch on the grid (float64).
      centre_loss: the loss at theta_k itself on that batch (the grid's centre point).
      grad_norm: ||g_k||, the raw gradient norm at the spike.
      d1, d2: the two directions, by tensor (``d1`` unit length, ``d2`` orthogonal to it).
      random_direction: ``d2`` before its ``d1`` component was removed (filter-normalised).
      path_steps: the steps k, k+1, ... whose parameters ``path`` holds.
      path: (m, 2) those parameters projected onto the plane (row 0 is (0, 0)).
      path_off_plane: (m,) the distance of each from its projection.
      path_loss: (m,) step k's batch loss at each of those parameters (not projected).
      step_length: the distance from theta_k to theta_{k+1} (nan if the run stopped at k).
    """

    step: int
    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    centre_loss: float
    grad_norm: float
    d1: Tensors
    d2: Tensors
    random_direction: Tensors
    path_steps: np.ndarray
    path: np.ndarray
    path_off_plane: np.ndarray
    path_loss: np.ndarray
    step_length: float

    @property
    def loss_after(self) -> float:
        """Step k's batch loss at the parameters after step k (nan if there are none)."""
        return float(self.path_loss[1]) if len(self.path_loss) > 1 else math.nan


def network_loss_slice(
    run: NetworkRun,
    step: int | None = None,
    *,
    resolution: int = 65,
    ahead: int = 5,
    span: float | None = None,
    seed: int = 0,
) -> NetworkSlice:
    """The loss slice of ``run`` at ``step`` (default: its largest gradient spike).

    Needs ``run.param_history`` (train with ``record_params=True``). ``span``
    is the half-width along ``d1``; by default 1.25 times the farthest of the
    next ``ahead`` steps' projections (at least 1e-3), so the steps taken
    after the spike stay in view. The ``beta`` half-width is
    ``span / ||d2||``: both axes cover the same distance in parameter space.
    """
    if run.param_history is None:
        raise ValueError("the slice needs the parameters along the run: train it with record_params=True")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    k = spike_step(run) if step is None else int(step)
    if k is None or not 0 <= k < run.steps_taken:
        raise ValueError(f"no step {step} to slice: the run took {run.steps_taken} steps")
    history = run.param_history
    theta = {n: np.asarray(history[n][k], np.float64) for n in PARAM_NAMES}
    x, y = rnn_task_batch(run.task, run.T, run.batch, run.seed, k)
    jtheta = {n: jnp.asarray(v) for n, v in theta.items()}
    centre, grads = _loss_and_grad(jtheta, jnp.asarray(x), jnp.asarray(y))
    g = _flat({n: np.asarray(grads[n]) for n in PARAM_NAMES})
    gnorm = float(np.linalg.norm(g))
    if not math.isfinite(gnorm) or gnorm == 0.0:
        raise ValueError(f"the gradient at step {k} is {gnorm:g}: no direction to slice along")
    d1 = g / gnorm
    raw = filter_normalized_direction(theta, seed)
    r = _flat(raw)
    d2 = r - (r @ d1) * d1
    d2_norm = float(np.linalg.norm(d2))
    if d2_norm == 0.0:
        raise ValueError("the random direction is parallel to the gradient; try another seed")

    last = min(k + ahead, len(history["W_rec"]) - 1)
    base = _flat(theta)
    points = np.stack([_flat({n: history[n][j] for n in PARAM_NAMES}) - base for j in range(k, last + 1)])
    coords = np.stack([points @ d1, points @ d2 / d2_norm**2], axis=1)
    residual = points - np.outer(coords[:, 0], d1) - np.outer(coords[:, 1], d2)
    steps_after = np.arange(k, last + 1)
    path_loss = np.array(
        [
            float(
                _loss_and_grad(
                    {n: jnp.asarray(history[n][j], jnp.float64) for n in PARAM_NAMES},
                    jnp.asarray(x),
                    jnp.asarray(y),
                )[0]
            )
            for j in steps_after
        ]
    )
    if span is None:
        reach = float(np.max(np.abs(coords[:, 0]))) if len(coords) > 1 else 0.0
        reach = max(reach, float(np.max(np.abs(coords[:, 1]))) * d2_norm if len(coords) > 1 else 0.0)
        span = max(1.25 * reach, 1e-3)
    alphas = np.linspace(-span, span, resolution)
    betas = np.linspace(-span / d2_norm, span / d2_norm, resolution)
    loss = _grid_losses_jit(
        jtheta,
        {n: jnp.asarray(v) for n, v in _unflat(d1, theta).items()},
        {n: jnp.asarray(v) for n, v in _unflat(d2, theta).items()},
        jnp.asarray(alphas),
        jnp.asarray(betas),
        jnp.asarray(x),
        jnp.asarray(y),
    )
    return NetworkSlice(
        step=k,
        alphas=alphas,
        betas=betas,
        loss=np.asarray(loss),
        centre_loss=float(centre),
        grad_norm=gnorm,
        d1=_unflat(d1, theta),
        d2=_unflat(d2, theta),
        random_direction=raw,
        path_steps=steps_after,
        path=coords,
        path_off_plane=np.linalg.norm(residual, axis=1),
        path_loss=path_loss,
        step_length=float(np.linalg.norm(points[1])) if len(points) > 1 else math.nan,
    )
