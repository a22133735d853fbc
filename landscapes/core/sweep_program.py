"""The sweeps' jitted program: every cell's descent in one loop, in cache-sized blocks, one
shard per core in its own thread.

The per-cell logic mirrors ``engine._descend_core`` (the same clipping rule
through the registry's batched form, the same optimizer, the same step
status), so each cell is bit for bit the run ``simulate`` makes.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Protocol, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _jaxsetup  # noqa: F401  (float64 on)
from .clipping import CLIP_RULES, CLIP_SPECS, scaled_norm
from .engine import value_and_grad_fn
from .objectives import PASCANU_TARGET, PASCANU_X0
from .optimizers import optimizer_transform
from .registry import get_landscape
from .status import OK, start_status, step_status
from .stepper import add_noise, make_stepper, noise_draw

#: How many times each sweep program was traced, keyed by
#: (landscape, optimizer, clip, dtype, number of cells, path), path being
#: "generic" or "unroll k" (a landscape's fast path), then "noise" and
#: "history k" where they apply. Tests read it to prove that new values do not recompile.
SWEEP_TRACE_COUNTS: collections.Counter[tuple[str | int, ...]] = collections.Counter()

#: Inner steps of the RNN recurrence per rolled loop iteration in the
#: ``pascanu`` fast path (the benchmark compares choices).
PASCANU_UNROLL = 10


def pascanu_loss_unrolled(theta: jax.Array, p: jax.Array, unroll: int = PASCANU_UNROLL) -> jax.Array:
    """The Pascanu RNN loss of ``objectives``, its loop unrolled in chunks.

    The same operations in the same order as the registered loss, so forward
    mode gives bit-for-bit the same loss and gradient (the tests check it),
    and a cell of a sweep is exactly the run ``simulate`` shows. Only the
    loop is reshaped: ``unroll`` steps per rolled iteration plus a rolled
    remainder, so the length T stays a traced value (one compile for every
    T) while XLA can work on several steps per pass over the cells.
    """
    w, b = theta[0], theta[1]
    length = p[0].astype(jnp.int32)

    def step(_, x):
        return w * jax.nn.sigmoid(x) + b

    def chunk(i, x):
        for _ in range(unroll):
            x = step(i, x)
        return x

    x = jnp.asarray(PASCANU_X0, dtype=jnp.result_type(w, b))
    x = lax.fori_loop(0, length // unroll, chunk, x)
    x = lax.fori_loop(0, length % unroll, step, x)
    return (jax.nn.sigmoid(x) - PASCANU_TARGET) ** 2


class FastLoss(Protocol):
    """``loss(theta, p, unroll)``: a registered loss with its loop unrolled ``unroll`` steps at a time."""

    def __call__(self, theta: jax.Array, p: jax.Array, unroll: int) -> jax.Array: ...


#: Faster formulations of registered losses for sweeps, by landscape name:
#: ``loss(theta, p, unroll)``, the same function of (theta, p) for every
#: ``unroll`` >= 1, checked against the registered loss in the tests.
FAST_LOSSES: dict[str, FastLoss] = {
    "pascanu": pascanu_loss_unrolled,
}


def _cell_value_and_grad(landscape: str, unroll: int):
    """``(theta, p) -> (loss, grad)`` for one cell; ``unroll`` 0 is the generic path."""
    scape = get_landscape(landscape)
    if unroll and landscape in FAST_LOSSES:
        scape = dataclasses.replace(scape, loss=partial(FAST_LOSSES[landscape], unroll=unroll))
    return value_and_grad_fn(scape)


def _path(landscape: str, unroll: int) -> str:
    return f"unroll {unroll}" if unroll and landscape in FAST_LOSSES else "generic"


def _clip_cells(clip: str, grad: jax.Array, threshold: jax.Array, options=None) -> jax.Array:
    """The clipping rule ``clip`` applied to each row of ``grad`` (n, 2) with its own threshold (n,).

    A rule's registered batched form where it has one (the built-in rules'
    are bit for bit their one-cell rule, see ``clipping._clip_norm_batched``),
    else ``jax.vmap`` of the rule, within the tolerance the registry states.
    """
    options = options or {}
    batched = CLIP_SPECS[clip].batched
    if batched is not None:
        return batched(grad, threshold, **options)
    return jax.vmap(lambda g, c: CLIP_RULES[clip](g, c, **options))(grad, threshold)


def _where_cells(ok: jax.Array, new: jax.Array, old: jax.Array) -> jax.Array:
    """Per cell (leading axis): ``new`` where ok, else ``old``."""
    return jnp.where(ok.reshape(ok.shape + (1,) * (new.ndim - 1)), new, old)


def _sweep_cells(
    theta0,
    lr,
    threshold,
    steps,
    p,
    momentum,
    bounds,
    clip_opts,
    opt_opts,
    noise,
    *,
    landscape,
    optimizer,
    clip,
    unroll,
    capacity=0,
):
    """Runs every cell's descent; the per-cell logic mirrors ``engine._descend``.

    theta0: (n, 2) starts; lr, threshold: (n,) per cell; bounds: (4,) the
    window (x0, x1, y0, y1) for the "left the window" test; clip_opts,
    opt_opts, noise: the rule's and the optimizer's options and the noise
    settings (the same for every cell); unroll: the fast path's chunk size
    (0 for the generic path); capacity: the history length of a rule that
    keeps one (``stateful_rules.history_capacity``; 0 otherwise).

    A stateless rule runs through its batched form (bit for bit the one-cell
    rule); a rule with state through ``jax.vmap`` of the engine's own step
    (``stepper.make_stepper``), within the tolerance the registry states.
    """
    n_cells = theta0.shape[0]
    dtype = theta0.dtype
    value_and_grad = jax.vmap(_cell_value_and_grad(landscape, unroll), in_axes=(0, None))
    stateful = CLIP_SPECS[clip].stateful

    def stepper(rate, c):
        return make_stepper(clip, optimizer, rate, momentum, c, clip_opts, opt_opts, capacity)

    def init_opt(theta, rate, c):
        if stateful:
            return stepper(rate, c)[0](theta)
        return optimizer_transform(optimizer, rate, momentum, opt_opts).init(theta)

    def advance(clipped, opt_state, theta, rate):
        update, new_state = optimizer_transform(optimizer, rate, momentum, opt_opts).update(
            clipped, opt_state, theta
        )
        return cast(jax.Array, update), new_state  # one array leaf per cell in, one out

    def advance_stateful(g, state, theta, rate, c):
        return stepper(rate, c)[1](g, state, theta)

    def outside(theta):
        x, y = theta[:, 0], theta[:, 1]
        return (x < bounds[0]) | (x > bounds[1]) | (y < bounds[2]) | (y > bounds[3])

    loss0, grad0 = value_and_grad(theta0, p)
    int_zeros = jnp.zeros(n_cells, jnp.int32)
    init = dict(
        n=jnp.int32(0),
        theta=theta0,
        opt_state=jax.vmap(init_opt)(theta0, lr, threshold),
        loss=loss0,
        grad=grad0,
        status=start_status(loss0).astype(jnp.int32),
        taken=int_zeros,
        left_at=jnp.where(outside(theta0), 0, -1).astype(jnp.int32),
        n_clipped=int_zeros,
        longest=jnp.zeros(n_cells, theta0.dtype),
    )

    def running(state):
        return (state["n"] < steps) & jnp.any(state["status"] == OK)

    def step(state):
        active = state["status"] == OK
        theta, grad = state["theta"], state["grad"]
        if noise:  # the same draw for every cell: each cell's run is at step n
            z, spike = noise_draw(noise, state["n"], grad.shape[1], dtype)
            grad = add_noise(grad, z[None, :], spike, noise)
        if stateful:
            update, new_opt_state, fired, _ = jax.vmap(advance_stateful)(
                grad, state["opt_state"], theta, lr, threshold
            )
        else:
            clipped = _clip_cells(clip, grad, threshold, clip_opts)
            fired = jnp.any(clipped != grad, axis=1)
            update, new_opt_state = jax.vmap(advance)(clipped, state["opt_state"], theta, lr)
        new_theta = theta + update
        new_loss, new_grad = value_and_grad(new_theta, p)
        verdict = step_status(grad, new_theta, new_loss, axis=1)
        # A cell that stopped earlier keeps everything; a cell whose step
        # fails keeps its last finite values and records why it stopped.
        ok = active & (verdict == OK)
        n = state["n"]
        length, _, _ = scaled_norm(update[:, 0], update[:, 1])  # no overflow for huge steps
        return dict(
            n=n + 1,
            theta=_where_cells(ok, new_theta, theta),
            opt_state=jax.tree.map(partial(_where_cells, ok), new_opt_state, state["opt_state"]),
            loss=jnp.where(ok, new_loss, state["loss"]),
            grad=_where_cells(ok, new_grad, state["grad"]),
            status=jnp.where(active, verdict, state["status"]).astype(jnp.int32),
            taken=state["taken"] + ok.astype(jnp.int32),
            left_at=jnp.where(ok & (state["left_at"] < 0) & outside(new_theta), n + 1, state["left_at"]),
            n_clipped=state["n_clipped"] + (ok & fired).astype(jnp.int32),
            longest=jnp.where(ok, jnp.maximum(state["longest"], length), state["longest"]),
        )

    final = lax.while_loop(running, step, init)
    floats = jnp.stack([final["theta"][:, 0], final["theta"][:, 1], final["loss"], loss0, final["longest"]])
    ints = jnp.stack([final["taken"], final["status"], final["left_at"], final["n_clipped"]])
    return floats, ints


def _sweep_blocks(
    theta0,
    lr,
    threshold,
    steps,
    p,
    momentum,
    bounds,
    clip_opts,
    opt_opts,
    noise,
    *,
    landscape,
    optimizer,
    clip,
    unroll,
    capacity=0,
):
    """``_sweep_cells`` over blocks of cells, one block after the other.

    theta0: (blocks, cells, 2); lr, threshold: (blocks, cells). A block of
    about 2000 cells keeps the RNN's intermediate states in the core's cache,
    which a single pass over 16 384 cells does not: a quarter to a third less work
    for the same numbers (blocks are independent; the tests compare them).
    """
    blocks, cells = theta0.shape[:2]
    key = (landscape, optimizer, clip, str(theta0.dtype), blocks * cells, _path(landscape, unroll))
    if noise:
        key = (*key, "noise")
    if capacity:
        key = (*key, f"history {capacity}")
    SWEEP_TRACE_COUNTS[key] += 1

    def one_block(block):
        block_theta0, block_lr, block_threshold = block
        return _sweep_cells(
            block_theta0,
            block_lr,
            block_threshold,
            steps,
            p,
            momentum,
            bounds,
            clip_opts,
            opt_opts,
            noise,
            landscape=landscape,
            optimizer=optimizer,
            clip=clip,
            unroll=unroll,
            capacity=capacity,
        )

    return lax.map(one_block, (theta0, lr, threshold))


_STATIC = ("landscape", "optimizer", "clip", "unroll", "capacity")

#: XLA options for the CPU build of the sweep. Vectors of 512 bits (where the
#: CPU has AVX-512; ignored elsewhere) cut the time of a 128 x 128 map by
#: about a quarter and change no result: the same operations run on more
#: lanes at once (the tests compare cells with simulate bit for bit).
CPU_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}

_sweep_generic = jax.jit(_sweep_blocks, static_argnames=_STATIC)
_sweep_cpu = jax.jit(_sweep_blocks, static_argnames=_STATIC, compiler_options=CPU_COMPILER_OPTIONS)

#: Most cells per block on the CPU (see ``_sweep_blocks``).
BLOCK_CELLS = 2048


def _cpu_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Shards of a sweep run at once, one per core, each in its own thread (JAX
#: releases the GIL while XLA runs). Coarse pieces of work that never wait
#: for each other: with other processes on the machine this degrades far
#: more gently than splitting every small array operation across threads.
WORKERS = min(_cpu_workers(), 8)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_compiled: set[tuple] = set()


def _layout(n: int, workers: int, on_cpu: bool) -> tuple[int, int, int]:
    """(shards, blocks per shard, cells per block) covering ``n`` cells, with little padding."""
    if not on_cpu:
        return 1, 1, n
    shards = max(1, min(workers, math.ceil(n / BLOCK_CELLS)))
    blocks = math.ceil(n / (shards * BLOCK_CELLS))
    return shards, blocks, math.ceil(n / (shards * blocks))


def _execute(arrays: tuple[np.ndarray, ...], shared: tuple, static: dict) -> tuple[np.ndarray, np.ndarray]:
    """Runs the jitted sweep over cells split into shards and blocks; returns (floats, ints) per cell."""
    global _pool
    on_cpu = jax.default_backend() == "cpu"
    fn = _sweep_cpu if on_cpu else _sweep_generic
    n = arrays[0].shape[0]
    shards, blocks, cells = _layout(n, WORKERS, on_cpu)
    padded = shards * blocks * cells
    # Padding repeats the last cell: real values, so nothing non-finite runs.
    parts = [
        np.concatenate([a, np.repeat(a[-1:], padded - n, axis=0)]).reshape(
            shards, blocks, cells, *a.shape[1:]
        )
        for a in arrays
    ]

    def run(k: int):
        return fn(*(part[k] for part in parts), *shared, **static)

    structure = tuple(tuple(sorted(part)) if isinstance(part, dict) else () for part in shared)
    signature = (on_cpu, blocks, cells, str(arrays[0].dtype), structure, *sorted(static.items()))
    if shards == 1 or signature not in _compiled:
        # The first call of a signature compiles: do it once, in this thread,
        # before the other shards run (two threads would trace it twice).
        results = [run(0)]
        _compiled.add(signature)
        first = 1
    else:
        results, first = [], 0
    if shards > first:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sweep")
        results += list(_pool.map(lambda k: jax.block_until_ready(run(k)), range(first, shards)))
    floats = np.concatenate(
        [np.asarray(r[0]).transpose(1, 0, 2).reshape(-1, blocks * cells) for r in results], 1
    )
    ints = np.concatenate(
        [np.asarray(r[1]).transpose(1, 0, 2).reshape(-1, blocks * cells) for r in results], 1
    )
    return floats[:, :n], ints[:, :n]
