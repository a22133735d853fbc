"""A small vanilla RNN trained on Pascanu et al.'s adding problem, with any registered clipping rule.

The model (``h_0 = 0``, ``h_t = tanh(W_in x_t + W_rec h_{t-1} + b)``,
``y = W_out h_T + b_out``), the task batches (``rnn_task_batch``: a pure
function of (seed, step), so any other implementation can replay a run) and
``train_rnn``: one jitted ``lax.while_loop`` over the steps, with several
runs (rules, seeds, learning rates) advanced together inside its body, so
the step counter stays a plain scalar and the held-out evaluation every
``eval_every`` steps is a real branch, not a select.

Clipping: a stateless rule ``rule(g, c)`` acts on the whole parameter
pytree flattened into one vector (``scope="global"``) or on each tensor on
its own (``scope="per_tensor"``, thresholds per tensor allowed). The
norm-based rules with state (AutoClip, ZClip) keep their registered optax
transform and see the norm through a two-component stand-in ``(n, 0)``;
the factor they apply to it scales the real gradient. AGC is unit-wise
(each row of a matrix, each vector or scalar whole), ``skip`` skips the
whole step, ``clip_update`` clips the optimizer's direction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from . import _jaxsetup  # noqa: F401  (float64 on)
from .clipping import CLIP_RULES, CLIP_SPECS, check_clip, check_clip_options, clip_by_norm
from .optimizers import check_optimizer_options, optimizer_direction, optimizer_transform
from .status import BAD_GRAD, BAD_LOSS, BAD_PARAMS, OK
from .validation import check_optimizer_settings, positive_number

#: The parameter tensors, in the order every per-tensor array uses.
PARAM_NAMES: tuple[str, ...] = ("W_in", "W_rec", "b", "W_out", "b_out")
#: The tasks ``rnn_task_batch`` knows.
TASKS = ("adding", "temporal_order")
#: "Solved": the held-out loss below this (predicting the constant 1 scores about 1/6).
SOLVED_LOSS = 0.04
#: The size of the fixed held-out batch.
HELDOUT_SIZE = 1000
#: The seed of the held-out batch (never a training seed's stream: training keys fold in the step).
HELDOUT_SEED = 2_013_004
#: The longest run ``train_rnn`` accepts.
MAX_NETWORK_STEPS = 20_000
SCOPES = ("global", "per_tensor")
#: Time steps per iteration of the compiled recurrence loop (fewer loop trips; same arithmetic).
UNROLL = 5
#: Rules that, for a network, need their own program (they carry state or see the parameters).
_NORM_STATE_RULES = ("autoclip", "zclip")


# ---------------------------------------------------------------------------
# Model


def init_rnn(hidden: int, seed: int = 0, rec_scale: float = 1.0, dtype="float64") -> dict[str, np.ndarray]:
    """The network's starting parameters (NumPy arrays, so any implementation can start from them).

    ``W_in`` ~ N(0, 1/2), ``W_out`` ~ N(0, 1/H), ``W_rec`` a Gaussian matrix
    rescaled so its spectral radius is exactly ``rec_scale``; biases zero.
    Drawn by ``numpy.random.default_rng(seed)``.
    """
    hidden = _whole("hidden", hidden, 1, 1024)
    rec_scale = positive_number("rec_scale", rec_scale)
    rng = np.random.default_rng(int(seed))
    w_in = rng.normal(0.0, math.sqrt(0.5), (hidden, 2))
    w_rec = rng.normal(0.0, 1.0 / math.sqrt(hidden), (hidden, hidden))
    radius = float(np.max(np.abs(np.linalg.eigvals(w_rec))))
    w_rec = w_rec * (rec_scale / radius)
    w_out = rng.normal(0.0, 1.0 / math.sqrt(hidden), hidden)
    dt = np.dtype(dtype)
    params = {"W_in": w_in, "W_rec": w_rec, "b": np.zeros(hidden), "W_out": w_out, "b_out": np.zeros(())}
    return {name: np.asarray(params[name], dt) for name in PARAM_NAMES}


def spectral_radius(w_rec: np.ndarray) -> float:
    """The largest |eigenvalue| of a recurrent matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(w_rec, float)))))


def rnn_predict(params: Mapping[str, jax.Array], x: jax.Array) -> jax.Array:
    """The network's outputs ``y`` (batch,) for inputs ``x`` (batch, T, 2)."""
    w_in, w_rec, b = params["W_in"], params["W_rec"], params["b"]
    h0 = jnp.zeros((x.shape[0], w_rec.shape[0]), w_rec.dtype)
    # The input terms of every step in one product, so the loop holds only the recurrence.
    drive = jnp.einsum("bti,hi->tbh", x, w_in) + b[None, None, :]

    def cell(h, drive_t):
        return jnp.tanh(drive_t + h @ w_rec.T), None

    h_last, _ = lax.scan(cell, h0, drive, unroll=UNROLL)
    return h_last @ params["W_out"] + params["b_out"]


def rnn_loss(params: Mapping[str, jax.Array], x: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared error of the network on a batch."""
    return jnp.mean((rnn_predict(params, x) - target) ** 2)


# ---------------------------------------------------------------------------
# Task


@partial(jax.jit, static_argnames=("T", "batch"))
def _adding(key, *, T, batch):
    k_u, k_i, k_j = jax.random.split(key, 3)
    half = T // 2
    u = jax.random.uniform(k_u, (batch, T), jnp.float64)
    i = jax.random.randint(k_i, (batch,), 0, half)
    j = jax.random.randint(k_j, (batch,), half, T)
    t = jnp.arange(T)[None, :]
    marks = ((t == i[:, None]) | (t == j[:, None])).astype(jnp.float64)
    target = jnp.take_along_axis(u, i[:, None], 1)[:, 0] + jnp.take_along_axis(u, j[:, None], 1)[:, 0]
    return jnp.stack([u, marks], axis=-1), target


def temporal_order_windows(T: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the temporal order task puts its two relevant symbols: ``[lo, hi)`` for each.

    Hochreiter & Schmidhuber's placement (10-20 % and 50-60 % of the
    sequence), each window at least one step wide.
    """
    a = T // 10
    b = T // 2
    return (a, max(2 * T // 10, a + 1)), (b, max(6 * T // 10, b + 1))


@partial(jax.jit, static_argnames=("T", "batch"))
def _temporal_order(key, *, T, batch):
    k_v, k_i, k_j = jax.random.split(key, 3)
    (a0, a1), (b0, b1) = temporal_order_windows(T)
    v = jax.random.bernoulli(k_v, 0.5, (batch, T)).astype(jnp.float64)
    i = jax.random.randint(k_i, (batch,), a0, a1)
    j = jax.random.randint(k_j, (batch,), b0, b1)
    t = jnp.arange(T)[None, :]
    marks = ((t == i[:, None]) | (t == j[:, None])).astype(jnp.float64)
    first = jnp.take_along_axis(v, i[:, None], 1)[:, 0]
    second = jnp.take_along_axis(v, j[:, None], 1)[:, 0]
    return jnp.stack([v, marks], axis=-1), (2.0 * first + second) / 3.0


#: Each task's batch maker ``(key, T=, batch=) -> (x, target)`` (both jitted, float64).
_TASK_MAKERS = {"adding": _adding, "temporal_order": _temporal_order}


def _task_key(seed, step):
    return jax.random.fold_in(jax.random.PRNGKey(seed), step)


def _check_task(task: str, T: object) -> int:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return _whole("T", T, 2, 1000)


def rnn_task_batch(task: str, T: int, batch: int, seed: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch a run with ``seed`` trains on at ``step``: ``(x (batch, T, 2), target (batch,))``, float64.

    ``"adding"`` (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013, §4):
    ``x_t = (u_t, m_t)``, ``u_t ~ U(0, 1)``, exactly two markers ``m_t = 1``,
    one at a step in ``[0, T // 2)`` and one in ``[T // 2, T)``; the target
    is the sum of the two marked ``u``.

    ``"temporal_order"`` (same sources): ``x_t = (v_t, m_t)`` with every
    ``v_t`` a random symbol, X = 0 or Y = 1 (fair coin); the two relevant
    ones are marked ``m_t = 1``, the first in ``temporal_order_windows(T)[0]``
    (10-20 % of the sequence), the second in ``[1]`` (50-60 %); every other
    symbol is a distractor. The target is the class of the ordered pair,
    ``(2 v_first + v_second) / 3``: XX = 0, XY = 1/3, YX = 2/3, YY = 1 (order
    matters: XY and YX differ). Its loss is the same mean squared error and
    "solved" the same held-out loss below ``SOLVED_LOSS``; predicting the
    constant 1/2 scores 5/36, about 0.139.

    The key is ``fold_in(PRNGKey(seed), step)`` (threefry), so the batch
    depends only on (task, T, batch, seed, step).
    """
    T = _check_task(task, T)
    batch = _whole("batch", batch, 1, 100_000)
    x, y = _TASK_MAKERS[task](_task_key(int(seed), int(step)), T=T, batch=batch)
    return np.asarray(x), np.asarray(y)


def rnn_heldout_batch(task: str, T: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out batch of ``HELDOUT_SIZE`` sequences ("solved": its loss below ``SOLVED_LOSS``)."""
    T = _check_task(task, T)
    x, y = _TASK_MAKERS[task](jax.random.PRNGKey(HELDOUT_SEED), T=T, batch=HELDOUT_SIZE)
    return np.asarray(x), np.asarray(y)


# ---------------------------------------------------------------------------
# Clipping a network's gradient


def _squares(leaves) -> jax.Array:
    return jnp.stack([jnp.sum(x * x) for x in leaves])


def _flat_norm(leaves) -> jax.Array:
    """The global norm of some tensors (the same arithmetic as the recorded ``grad_norm``)."""
    return jnp.sqrt(jnp.sum(_squares(leaves)))


def gradient_centralize(grads: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """Gradient centralization (Yong et al. 2020) of the matrices: each row's mean removed.

    A row of ``W_in`` or ``W_rec`` holds one hidden unit's incoming weights;
    its gradient is made to sum to zero. Vectors and scalars are unchanged.
    """
    out = dict(grads)
    for name in ("W_in", "W_rec"):
        g = grads[name]
        out[name] = g - jnp.mean(g, axis=1, keepdims=True)
    return out


def _unit_norms(x: jax.Array) -> jax.Array:
    """AGC's unit-wise norms: each row of a matrix, a vector or scalar whole; shaped to broadcast."""
    if x.ndim == 2:
        return jnp.sqrt(jnp.sum(x * x, axis=1, keepdims=True))
    return jnp.sqrt(jnp.sum(x * x)).reshape((1,) * x.ndim)


def agc_unitwise(grads, params, c, eps):
    """optax.adaptive_grad_clip's formulas, unit-wise by rows (our matrices are (out, in)).

    Returns the clipped gradients and whether any unit was clipped.
    """
    out, fired = {}, jnp.zeros((), bool)
    for name in PARAM_NAMES:
        g, p = grads[name], params[name]
        g_norm = _unit_norms(g)
        max_norm = c * jnp.maximum(_unit_norms(p), eps)
        over = g_norm >= max_norm
        out[name] = jnp.where(over, g * (max_norm / jnp.maximum(g_norm, 1e-6)), g)
        fired = fired | jnp.any(over)
    return out, fired


def _stateless(mode, g, c, opts):
    if mode == "per_variable":
        # Keras' clipnorm clips each variable to its own norm; on a tensor that is norm clipping.
        return clip_by_norm(g, c)
    return CLIP_RULES[mode](g, c, **opts)


def clip_network_gradient(
    grads: Mapping[str, jax.Array],
    mode: str,
    threshold,
    scope: str = "global",
    clip_options: Mapping[str, object] | None = None,
) -> dict[str, jax.Array]:
    """A stateless rule applied to a network's gradient, globally or per tensor.

    ``scope="global"``: ``rule(concat(all tensors), c)`` split back into the
    tensors (so norm clipping is optax's ``clip_by_global_norm`` without its
    epsilon). ``scope="per_tensor"``: ``rule(g_k, c_k)`` for each tensor k,
    with ``threshold`` one number or a mapping by tensor name. The
    ``per_variable`` rule (Keras' clipnorm) is norm clipping of each tensor.
    """
    spec = CLIP_SPECS.get(mode)
    if spec is None or spec.stateful:
        raise ValueError(f"clip_network_gradient takes a stateless rule, got {mode!r}")
    options = check_clip_options(mode, clip_options)
    dtype = grads["W_rec"].dtype
    opts = {k: jnp.asarray(v, dtype) for k, v in options.items()}
    levels = _thresholds(mode, threshold, scope)
    clipped, _ = _apply_stateless(dict(grads), mode, scope, jnp.asarray(levels, dtype), opts)
    return clipped


def _apply_stateless(grads, mode, scope, levels, opts):
    """(clipped grads, fired) for a stateless rule; ``levels`` (5,) per-tensor thresholds."""
    if scope == "global" and mode != "per_variable":
        flat, unravel = ravel_pytree([grads[n] for n in PARAM_NAMES])
        out_flat = _stateless(mode, flat, levels[0], opts)
        out = dict(zip(PARAM_NAMES, unravel(out_flat), strict=True))
        return out, jnp.any(out_flat != flat)
    out, fired = {}, jnp.zeros((), bool)
    for k, name in enumerate(PARAM_NAMES):
        g = grads[name]
        level = levels[0] if (scope == "global") else levels[k]
        out[name] = _stateless(mode, g.reshape(-1), level, opts).reshape(g.shape)
        fired = fired | jnp.any(out[name] != g)
    return out, fired


def _thresholds(mode: str, threshold, scope: str) -> list[float]:
    """Five per-tensor thresholds (the global one repeated), each checked."""
    if isinstance(threshold, Mapping):
        if scope != "per_tensor":
            raise ValueError("per-tensor thresholds (a mapping by tensor name) need scope='per_tensor'")
        unknown = [k for k in threshold if k not in PARAM_NAMES]
        if unknown:
            raise ValueError(f"threshold names {unknown[0]!r}, not a tensor ({', '.join(PARAM_NAMES)})")
        return [check_clip(mode, threshold.get(name), default=True) for name in PARAM_NAMES]
    return [check_clip(mode, threshold, default=True)] * len(PARAM_NAMES)


# ---------------------------------------------------------------------------
# The rule of one run, as (init, apply) on the gradient pytree


def _norm_rule_state(mode, c, opts, dtype, capacity):
    spec = CLIP_SPECS[mode]
    kwargs = dict(opts)
    if spec.history:
        kwargs["capacity"] = capacity
    if spec.transform is None:
        raise ValueError(f"clipping rule {mode!r} has no transform to carry its state")
    return spec.transform(c, **kwargs)


def _placement(mode: str) -> str:
    """Where a rule acts: on the gradient, as a gate on the whole step, or on the optimizer's direction."""
    return {"skip": "gate", "clip_update": "direction"}.get(mode, "gradient")


def _rule(mode, scope, levels, opts, dtype, capacity):
    """(init(params), clip(grads, state, params) -> (grads', state, fired, level), placement).

    ``level`` is the rule's effective global threshold at the step (inf for none).
    """
    spec = CLIP_SPECS[mode]
    inf = jnp.asarray(jnp.inf, dtype)
    if not spec.stateful:

        def init_stateless(params):
            return ()

        def clip_stateless(grads, state, params):
            out, fired = _apply_stateless(grads, mode, scope, levels, opts)
            level = levels[0] if spec.uses_threshold else inf
            return out, state, fired, level

        return init_stateless, clip_stateless, "gradient"
    if mode == "agc":

        def init_agc(params):
            return ()

        def clip_agc(grads, state, params):
            out, fired = agc_unitwise(grads, params, levels[0], opts["eps"])
            return out, state, fired, levels[0]

        return init_agc, clip_agc, "gradient"
    if mode in _NORM_STATE_RULES:
        names = ("all",) if scope == "global" else PARAM_NAMES
        txs = [_norm_rule_state(mode, levels[k], opts, dtype, capacity) for k in range(len(names))]

        def init_norm_state(params):
            return tuple(tx.init(jnp.zeros(2, dtype)) for tx in txs)

        def clip_norm_state(grads, state, params):
            groups = [list(PARAM_NAMES)] if scope == "global" else [[n] for n in PARAM_NAMES]
            out, new_state, fired = dict(grads), [], jnp.zeros((), bool)
            for tx, st, group in zip(txs, state, groups, strict=True):
                n = _flat_norm([grads[g] for g in group])
                stand_in = jnp.stack([n, jnp.zeros((), dtype)])
                clipped, st = tx.update(stand_in, st, None)
                clipped_norm = jnp.asarray(clipped)[0]  # the transform returns the stand-in's array
                factor = jnp.where(n > 0, clipped_norm / jnp.where(n > 0, n, 1.0), 1.0)
                for g in group:
                    out[g] = jnp.where(factor != 1.0, grads[g] * factor, grads[g])
                fired = fired | (factor != 1.0)
                new_state.append(st)
            # The effective threshold is the global one's; per tensor there are five (not recorded).
            level = getattr(new_state[0], "threshold") if scope == "global" else inf  # noqa: B009
            return out, tuple(new_state), fired, level

        return init_norm_state, clip_norm_state, "gradient"
    if mode == "skip":

        def init_skip(params):
            return ()

        def clip_skip(grads, state, params):
            n = _flat_norm([grads[g] for g in PARAM_NAMES])
            skip = ~(n <= levels[0])
            return grads, state, skip, levels[0]

        return init_skip, clip_skip, "gate"
    if mode == "clip_update":

        def init_direction(params):
            return ()

        def clip_direction(direction, state, params):
            out, fired = _apply_stateless(direction, "norm", scope, levels, {})
            return out, state, fired, levels[0]

        return init_direction, clip_direction, "direction"
    raise ValueError(f"clipping rule {mode!r} has no network form")


# ---------------------------------------------------------------------------
# Training


#: Columns of the per-step buffer: loss, global grad norm, 5 tensor norms, clipped, level.
_COLS = 3 + len(PARAM_NAMES) + 1


def _programs(rules, optimizer, centralize, T, batch, capacity, dtype, momentum, opt_opts, task):
    """The groups of runs and each group's (init_one, step_one), vmapped later over its runs.

    ``rules`` (static) is one ``(mode, scope)`` per run. The runs of every
    stateless rule form one group, vmapped together (each run computes every
    member rule and keeps its own, which costs little next to the BPTT);
    each stateful (mode, scope) is a group of its own.
    """
    n_runs = len(rules)
    groups: dict[str, list[int]] = {}
    for r, (mode, scope) in enumerate(rules):
        key = "stateless" if not CLIP_SPECS[mode].stateful else f"{mode}|{scope}"
        groups.setdefault(key, []).append(r)
    # For the stateless group: its member rules, and each run's index among them.
    members = {key: tuple(dict.fromkeys(rules[r] for r in idx)) for key, idx in groups.items()}
    which = np.zeros(n_runs, np.int32)
    for key, idx in groups.items():
        for r in idx:
            which[r] = members[key].index(rules[r])

    def make(group_members):
        """The per-run step of one group: vmapped over that group's runs."""
        placement = _placement(group_members[0][0])

        def rules_of(level, opt):
            return [
                _rule(mode, scope, level, opt[f"{mode}|{scope}"], dtype, capacity)
                for mode, scope in group_members
            ]

        def init_one(params, lr, level, opt):
            init = rules_of(level, opt)[0][0]
            if placement == "direction":
                tx = optimizer_direction(optimizer, momentum, opt_opts)
            else:
                tx = optimizer_transform(optimizer, lr, momentum, opt_opts)
            return (tx.init(params), init(params))

        def clip_any(grads, rule_state, params, level, opt, pick):
            parts = rules_of(level, opt)
            if len(parts) == 1:
                return parts[0][1](grads, rule_state, params)
            outs = [part[1](grads, rule_state, params) for part in parts]
            chosen = [pick == m for m in range(len(outs))]

            def select(*xs):
                out = xs[-1]
                for flag, x in zip(chosen[:-1][::-1], xs[:-1][::-1], strict=True):
                    out = jnp.where(flag, x, out)
                return out

            return jax.tree.map(select, *outs)

        def step_one(params, state, key, lr, level, opt, pick, i):
            opt_state, rule_state = state
            x, y = _TASK_MAKERS[task](jax.random.fold_in(key, i), T=T, batch=batch)
            loss, grads = jax.value_and_grad(rnn_loss)(params, x.astype(dtype), y.astype(dtype))
            leaves = [grads[n] for n in PARAM_NAMES]
            norms = jnp.sqrt(_squares(leaves))
            gnorm = _flat_norm(leaves)
            if centralize:
                grads = gradient_centralize(grads)
            if placement == "direction":
                tx = optimizer_direction(optimizer, momentum, opt_opts)
                direction, new_opt = tx.update(grads, opt_state, params)
                clipped, new_rule, fired, lev = clip_any(direction, rule_state, params, level, opt, pick)
                updates = jax.tree.map(lambda d: -lr * d, clipped)
            else:
                tx = optimizer_transform(optimizer, lr, momentum, opt_opts)
                clipped, new_rule, fired, lev = clip_any(grads, rule_state, params, level, opt, pick)
                updates, new_opt = tx.update(clipped, opt_state, params)
                if placement == "gate":
                    updates = jax.tree.map(lambda u: jnp.where(fired, jnp.zeros_like(u), u), updates)
                    new_opt = jax.tree.map(lambda a, b: jnp.where(fired, b, a), new_opt, opt_state)
            new_params = jax.tree.map(lambda p, u: p + u, params, updates)
            finite_params = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in new_params.values()]))
            status = jnp.where(
                ~jnp.isfinite(loss),
                BAD_LOSS,
                jnp.where(~jnp.isfinite(gnorm), BAD_GRAD, jnp.where(finite_params, OK, BAD_PARAMS)),
            )
            row = jnp.concatenate(
                [jnp.stack([loss, gnorm]), norms, jnp.stack([fired.astype(dtype), lev.astype(dtype)])]
            )
            return new_params, (new_opt, new_rule), status, row

        return init_one, step_one

    programs = {key: make(members[key]) for key in groups}
    return groups, programs, jnp.asarray(which)


def _take(tree, idx):
    return jax.tree.map(lambda a: a[jnp.asarray(idx)], tree)


def _put(tree, idx, values):
    return jax.tree.map(lambda a, v: a.at[jnp.asarray(idx)].set(v), tree, values)


def _heldout_losses(params, heldout):
    hx, hy = heldout
    return jax.vmap(lambda p: rnn_loss(p, hx, hy))(params)


def _init_core(
    params0, lrs, levels, opts, momentum, opt_opts, *, rules, optimizer, centralize, T, batch, capacity,
    eval_every, record_params, task,
):  # fmt: skip
    """The carry of a training that has taken no step: ``params0`` leaves (R, ...), ``lrs`` (R,),
    ``levels`` (R, 5); ``opts`` maps ``"mode|scope"`` to that rule's options, one (R,) array each."""
    dtype = params0["W_rec"].dtype
    n_runs = lrs.shape[0]
    n_evals = capacity // eval_every + 1
    groups, programs, _ = _programs(
        rules, optimizer, centralize, T, batch, capacity, dtype, momentum, opt_opts, task
    )
    states = {}
    for key, idx in groups.items():
        init_one, _ = programs[key]
        ia = idx_arr(idx)
        states[key] = jax.vmap(init_one)(_take(params0, idx), lrs[ia], levels[ia], _take(opts, idx))
    hist = jnp.full((capacity, n_runs, _COLS), jnp.nan, dtype)
    evals = jnp.full((n_evals, n_runs), jnp.nan, dtype)
    recs = jnp.full((n_evals, n_runs, *params0["W_rec"].shape[1:]), jnp.nan, dtype)
    taken = jnp.zeros(n_runs, jnp.int32)
    status = jnp.zeros(n_runs, jnp.int32)
    # With record_params: every run's parameters after each step (row 0: the start).
    path = (
        {n: jnp.zeros((capacity + 1, *v.shape), dtype).at[0].set(v) for n, v in params0.items()}
        if record_params
        else {}
    )
    return (jnp.int32(0), params0, states, status, taken, hist, evals, recs, path)


def _advance_core(
    carry, stop, keys, lrs, levels, opts, momentum, opt_opts, heldout, *, rules, optimizer, centralize,
    T, batch, capacity, eval_every, record_params, task,
):  # fmt: skip
    """The carry after the steps up to ``stop`` (traced: one compile serves every chunk).

    Stepping from ``i`` to ``stop`` in one call or in several gives the same
    carry bit for bit: every call runs the same compiled loop body.
    """
    dtype = carry[1]["W_rec"].dtype
    n_runs = lrs.shape[0]
    groups, programs, picks = _programs(
        rules, optimizer, centralize, T, batch, capacity, dtype, momentum, opt_opts, task
    )

    def running(carry):
        i, _, _, status, *_ = carry
        return (i < stop) & jnp.any(status == OK)

    def body(carry):
        i, params, states, status, taken, hist, evals, recs, path = carry

        def record(ev):
            evals_, recs_ = ev
            return evals_.at[i // eval_every].set(_heldout_losses(params, heldout)), recs_.at[
                i // eval_every
            ].set(params["W_rec"])

        evals, recs = lax.cond(i % eval_every == 0, record, lambda ev: ev, (evals, recs))
        new_params, new_states = params, dict(states)
        new_status = status
        row = jnp.zeros((n_runs, _COLS), dtype)
        for key, idx in groups.items():
            _, step_one = programs[key]
            ia = idx_arr(idx)
            p_new, s_new, st, rows = jax.vmap(step_one, in_axes=(0, 0, 0, 0, 0, 0, 0, None))(
                _take(params, idx), states[key], keys[ia], lrs[ia], levels[ia], _take(opts, idx), picks[ia], i
            )
            ok = status[ia] == OK
            keep = ok & (st == OK)
            p_old = _take(params, idx)
            p_new = jax.tree.map(partial(_keep_where, keep), p_new, p_old)
            s_new = jax.tree.map(partial(_keep_where, keep), s_new, states[key])
            new_params = _put(new_params, idx, p_new)
            new_states[key] = s_new
            new_status = new_status.at[ia].set(jnp.where(ok, st, status[ia]))
            row = row.at[ia].set(rows)
        active = status == OK
        hist = hist.at[i].set(jnp.where(active[:, None], row, hist[i]))
        taken = taken + (active & (new_status == OK)).astype(jnp.int32)
        path = {n: v.at[i + 1].set(new_params[n]) for n, v in path.items()}
        return i + 1, new_params, new_states, new_status, taken, hist, evals, recs, path

    return lax.while_loop(running, body, carry)


def idx_arr(idx):
    return jnp.asarray(np.asarray(idx, np.int32))


def _keep_where(mask, new, old):
    """``new`` for the runs where ``mask`` (runs,) holds, else ``old``."""
    return jnp.where(mask.reshape(mask.shape + (1,) * (new.ndim - 1)), new, old)


_STATIC = (
    "rules",
    "optimizer",
    "centralize",
    "T",
    "batch",
    "capacity",
    "eval_every",
    "record_params",
    "task",
)
_init_training = jax.jit(_init_core, static_argnames=_STATIC)
_advance_training = jax.jit(_advance_core, static_argnames=_STATIC, donate_argnums=())
_heldout_all = jax.jit(_heldout_losses)


@dataclass(frozen=True)
class NetworkRun:
    """One training run of the RNN and everything measured along it.

    With ``k`` the number of steps completed:

    Attributes:
      loss: (k,) the training batch's loss at each step (before its update).
      grad_norm: (k,) the global norm of the raw gradient (before centralization and clipping).
      tensor_norms: each tensor's raw gradient norm, (k,) by name.
      clipped: (k,) whether the rule changed the gradient (``skip``: skipped the step).
      clip_threshold: (k,) the rule's effective (global) threshold at each step; inf for none.
      diverged_at: the step whose loss, gradient or update was not finite; None if none.
      reason: a sentence saying how the run ended.
      init_params, params: the parameters at the start and at the end (NumPy).
      heldout_steps, heldout_loss: the held-out batch's loss before those steps, and at the end.
      rec_radius: the spectral radius of ``W_rec`` at ``heldout_steps``.
      param_history: with ``record_params=True``, each tensor's values at the start and after
        each completed step, (k+1, ...) by name (row k: ``params``); else None.
      config fields: what produced it.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    tensor_norms: dict[str, np.ndarray]
    clipped: np.ndarray
    clip_threshold: np.ndarray
    diverged_at: int | None
    reason: str
    init_params: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    heldout_steps: np.ndarray
    heldout_loss: np.ndarray
    rec_radius: np.ndarray
    param_history: dict[str, np.ndarray] | None = None
    task: str = "adding"
    T: int = 50
    hidden: int = 32
    batch: int = 32
    steps_requested: int = 0
    lr: float = 0.0
    clip: str = "none"
    threshold: float | Mapping[str, float] = 1.0
    clip_options: Mapping[str, float] = field(default_factory=dict)
    scope: str = "global"
    optimizer: str = "sgd"
    rec_scale: float = 1.0
    seed: int = 0
    dtype: str = "float32"
    centralize: bool = False

    @property
    def steps_taken(self) -> int:
        return len(self.loss)

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_heldout(self) -> float:
        return float(self.heldout_loss[-1]) if len(self.heldout_loss) else math.nan

    @property
    def solved(self) -> bool:
        """The held-out loss at the end is below ``SOLVED_LOSS`` (and the run did not diverge)."""
        return (not self.diverged) and self.final_heldout < SOLVED_LOSS

    @property
    def n_clipped(self) -> int:
        return int(self.clipped.sum())


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}")
    return int(number)


def _describe(status: int, k: int, steps: int, gnorm: float) -> str:
    if status == OK:
        return f"completed all {steps} steps"
    if status == BAD_LOSS:
        return f"diverged at step {k}: the training loss there is not finite"
    if status == BAD_GRAD:
        return f"diverged at step {k}: the gradient there is not finite (norm {gnorm:.3g}); it overflowed"
    return f"diverged at step {k}: its update sent the parameters to infinity (gradient norm {gnorm:.3g})"


@dataclass(frozen=True)
class RuleSetting:
    """One run of a batched call: a rule, its threshold(s), options and scope, a seed and a learning rate."""

    clip: str = "none"
    threshold: float | Mapping[str, float] | None = None
    clip_options: Mapping[str, object] | None = None
    scope: str = "global"
    seed: int = 0
    lr: float | None = None


class NetworkTraining:
    """A batched training in progress: advance it chunk by chunk, read its runs at any point.

    ``start_training`` makes one; ``advance(n)`` takes up to ``n`` more steps
    (one compiled program serves every chunk size), ``runs()`` gives each
    run's ``NetworkRun`` so far. However the steps are split into chunks, the
    runs equal those of one ``train_rnn_many`` call bit for bit (that call is
    ``start_training`` and one ``advance`` of every step).
    """

    def __init__(self, checked, inits, static, consts, carry, steps, shared):
        self._checked = checked
        self._inits = inits
        self._static = static
        self._consts = consts
        self._carry = carry
        self._shared = shared
        self.steps = steps

    @property
    def step(self) -> int:
        """How many steps the loop has run (runs that diverged stopped earlier)."""
        return int(self._carry[0])

    @property
    def done(self) -> bool:
        """Every step taken, or every run stopped (diverged)."""
        return self.step >= self.steps or not bool(np.any(np.asarray(self._carry[3]) == OK))

    def advance(self, n: int) -> NetworkTraining:
        """Takes up to ``n`` more steps (fewer at the end, none once done); returns self."""
        n = _whole("n", n, 0, MAX_NETWORK_STEPS)
        if n and not self.done:
            stop = jnp.int32(min(self.step + n, self.steps))
            self._carry = _advance_training(self._carry, stop, *self._consts, **self._static)
        return self

    def runs(self) -> list[NetworkRun]:
        """Each run as measured so far (a finished run also has its final held-out loss)."""
        _, params, _, status, taken, hist, evals, recs, path = (
            jax.tree.map(np.asarray, v) for v in self._carry
        )
        done = self.done
        final = np.asarray(_heldout_all(self._carry[1], self._consts[-1])) if done else None
        eval_every, record_params = self._static["eval_every"], self._static["record_params"]
        capacity, steps, dt = self._static["capacity"], self.steps, self._shared["dtype"]
        out = []
        for r, (s, lv, op, run_lr) in enumerate(self._checked):
            k, st = int(taken[r]), int(status[r])
            h = hist[:k, r]
            n_ev = (k - 1) // eval_every + 1 if k else 0
            ev_steps = np.arange(n_ev) * eval_every
            ev_loss = evals[:n_ev, r]
            radius = np.array([spectral_radius(w) for w in recs[:n_ev, r]])
            if st == OK and final is not None:
                ev_steps = np.append(ev_steps, k)
                ev_loss = np.append(ev_loss, final[r])
                radius = np.append(radius, spectral_radius(params["W_rec"][r]))
            gnorm_at = float(hist[k, r, 1]) if (st != OK and k < capacity) else math.nan
            threshold = dict(zip(PARAM_NAMES, lv, strict=True)) if isinstance(s.threshold, Mapping) else lv[0]
            reason = (
                _describe(st, k, steps, gnorm_at) if (st != OK or done) else f"{k} of {steps} steps so far"
            )
            out.append(
                NetworkRun(
                    loss=h[:, 0],
                    grad_norm=h[:, 1],
                    tensor_norms={n: h[:, 2 + j] for j, n in enumerate(PARAM_NAMES)},
                    clipped=h[:, 2 + len(PARAM_NAMES)] != 0,
                    clip_threshold=h[:, 3 + len(PARAM_NAMES)],
                    diverged_at=None if st == OK else k,
                    reason=reason,
                    init_params={n: np.asarray(self._inits[r][n], dt) for n in PARAM_NAMES},
                    params={n: params[n][r] for n in PARAM_NAMES},
                    heldout_steps=ev_steps,
                    heldout_loss=ev_loss,
                    rec_radius=radius,
                    param_history={n: path[n][: k + 1, r] for n in PARAM_NAMES} if record_params else None,
                    steps_requested=steps,
                    lr=run_lr,
                    clip=s.clip,
                    threshold=threshold,
                    clip_options=dict(op),
                    scope=s.scope,
                    seed=int(s.seed),
                    **{key: v for key, v in self._shared.items() if key != "dtype"},
                    dtype=dt.name,
                )
            )
        return out


def start_training(
    settings: list[RuleSetting] | tuple[RuleSetting, ...],
    *,
    task: str = "adding",
    T: int = 50,
    hidden: int = 32,
    batch: int = 32,
    steps: int = 1000,
    lr: float = 0.05,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    optimizer_options: Mapping[str, object] | None = None,
    rec_scale: float = 1.0,
    centralize: bool = False,
    dtype: str = "float32",
    eval_every: int = 50,
    record_params: bool = False,
) -> NetworkTraining:
    """A ``NetworkTraining`` of these runs that has taken no step yet (arguments as ``train_rnn_many``)."""
    T = _check_task(task, T)
    hidden = _whole("hidden", hidden, 1, 1024)
    batch = _whole("batch", batch, 1, 4096)
    steps = _whole("steps", steps, 0, MAX_NETWORK_STEPS)
    eval_every = _whole("eval_every", eval_every, 1, MAX_NETWORK_STEPS)
    momentum, dt = check_optimizer_settings(optimizer, momentum, dtype)
    opt_opts = check_optimizer_options(optimizer, optimizer_options)
    settings = list(settings)
    if not settings:
        raise ValueError("start_training needs at least one RuleSetting")
    checked = []
    for s in settings:
        if s.scope not in SCOPES:
            raise ValueError(f"scope must be 'global' or 'per_tensor', got {s.scope!r}")
        check_clip(s.clip, None, default=True)
        levels = _thresholds(s.clip, s.threshold, s.scope)
        rule_opts = check_clip_options(s.clip, s.clip_options)
        run_lr = positive_number("learning rate", lr if s.lr is None else s.lr)
        checked.append((s, levels, rule_opts, run_lr))
    capacity = max(16, 1 << max(0, steps - 1).bit_length())
    inits = [init_rnn(hidden, s.seed, rec_scale, "float64") for s, *_ in checked]
    params0 = {n: jnp.asarray(np.stack([p[n] for p in inits]), dt) for n in PARAM_NAMES}
    keys = jnp.stack([jax.random.PRNGKey(int(s.seed)) for s, *_ in checked])
    lrs = jnp.asarray([c[3] for c in checked], dt)
    levels = jnp.asarray([c[1] for c in checked], dt)
    rules = tuple((s.clip, s.scope) for s, *_ in checked)
    # Each rule's options as (R,) arrays: a run of another rule carries that rule's defaults.
    opts: dict[str, dict[str, jax.Array]] = {}
    for mode, scope in dict.fromkeys(rules):
        defaults = check_clip_options(mode, None)
        opts[f"{mode}|{scope}"] = {
            n: jnp.asarray([c[2][n] if (c[0].clip, c[0].scope) == (mode, scope) else v for c in checked], dt)
            for n, v in defaults.items()
        }
    hx, hy = rnn_heldout_batch(task, T)
    mom = dt.type(momentum)
    oo = {k: dt.type(v) for k, v in opt_opts.items()}
    static = {
        "rules": rules,
        "optimizer": optimizer,
        "centralize": bool(centralize),
        "T": T,
        "batch": batch,
        "capacity": capacity,
        "eval_every": eval_every,
        "record_params": bool(record_params),
        "task": task,
    }
    carry = _init_training(params0, lrs, levels, opts, mom, oo, **static)
    consts = (keys, lrs, levels, opts, mom, oo, (jnp.asarray(hx, dt), jnp.asarray(hy, dt)))
    shared = {
        "task": task,
        "T": T,
        "hidden": hidden,
        "batch": batch,
        "optimizer": optimizer,
        "rec_scale": float(rec_scale),
        "centralize": bool(centralize),
        "dtype": dt,
    }
    return NetworkTraining(checked, inits, static, consts, carry, steps, shared)


def train_rnn_many(
    settings: list[RuleSetting] | tuple[RuleSetting, ...],
    *,
    task: str = "adding",
    T: int = 50,
    hidden: int = 32,
    batch: int = 32,
    steps: int = 1000,
    lr: float = 0.05,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    optimizer_options: Mapping[str, object] | None = None,
    rec_scale: float = 1.0,
    centralize: bool = False,
    dtype: str = "float32",
    eval_every: int = 50,
    record_params: bool = False,
) -> list[NetworkRun]:
    """Several runs (rules, seeds, learning rates) trained together in one compiled call.

    Each run is exactly the one ``train_rnn`` makes with its settings (the
    same arithmetic, vmapped); the shared settings are the keyword arguments.
    ``start_training`` gives the same runs chunk by chunk.
    """
    if not list(settings):
        return []
    training = start_training(
        settings, task=task, T=T, hidden=hidden, batch=batch, steps=steps, lr=lr, optimizer=optimizer,
        momentum=momentum, optimizer_options=optimizer_options, rec_scale=rec_scale,
        centralize=centralize, dtype=dtype, eval_every=eval_every, record_params=record_params,
    )  # fmt: skip
    return training.advance(training.steps).runs()


def train_rnn(
    task: str = "adding",
    T: int = 50,
    hidden: int = 32,
    batch: int = 32,
    steps: int = 1000,
    lr: float = 0.05,
    clip: str = "none",
    threshold: float | Mapping[str, float] | None = None,
    clip_options: Mapping[str, object] | None = None,
    scope: str = "global",
    optimizer: str = "sgd",
    rec_scale: float = 1.0,
    seed: int = 0,
    dtype: str = "float32",
    *,
    momentum: float = 0.9,
    optimizer_options: Mapping[str, object] | None = None,
    centralize: bool = False,
    eval_every: int = 50,
    record_params: bool = False,
) -> NetworkRun:
    """Trains the RNN on ``task`` with clipping rule ``clip``; one jitted while loop.

    At step i the run draws ``rnn_task_batch(task, T, batch, seed, i)``,
    takes the gradient of the mean squared error, optionally centralizes the
    matrices' gradients, clips (``scope`` global or per tensor; ``threshold``
    a number, or with ``per_tensor`` a mapping by tensor name) and applies
    the optimizer. The run stops at the first step whose loss, gradient or
    new parameters are not finite (``diverged_at``, ``reason``). The held-out
    loss is measured every ``eval_every`` steps and at the end. With
    ``record_params`` the parameters after every step are kept
    (``param_history``: what a loss-landscape slice along the path needs).

    >>> run = train_rnn(T=10, hidden=8, steps=20, clip="norm", threshold=1.0)
    >>> run.steps_taken, run.diverged_at
    (20, None)
    """
    setting = RuleSetting(clip, threshold, clip_options, scope, seed, lr)
    return train_rnn_many(
        [setting],
        task=task,
        T=T,
        hidden=hidden,
        batch=batch,
        steps=steps,
        lr=lr,
        optimizer=optimizer,
        momentum=momentum,
        optimizer_options=optimizer_options,
        rec_scale=rec_scale,
        centralize=centralize,
        dtype=dtype,
        eval_every=eval_every,
        record_params=record_params,
    )[0]
