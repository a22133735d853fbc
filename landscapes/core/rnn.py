"""The Pascanu RNN taken apart: states, Jacobian factors and per-step gradient terms.

The flagship landscape is one recurrent unit, ``x_t = w * sigmoid(x_{t-1}) + b``
from ``x_0 = 0.5``, scored by ``E = (sigmoid(x_T) - 0.7)^2``. Backpropagation
through time writes its gradient as a sum over time steps::

    dE/dw = sum_t dE/dx_T * (dx_T/dx_t) * sigmoid(x_{t-1})
    dE/db = sum_t dE/dx_T * (dx_T/dx_t)

where ``dx_T/dx_t`` is a product of ``T - t`` one-step Jacobians
``w * sigmoid'(x_{k-1})``. When those factors exceed 1 the early steps'
terms are multiplied up exponentially: that is the exploding gradient, and
the cliff of the landscape is where it happens.

``unroll_rnn`` returns every piece of that sum; ``peak_gradient_vs_T``
measures how tall the cliff is for each length T. Both are JAX programs
compiled once: T is a traced value, and the states live in a fixed buffer of
``MAX_T + 1`` entries whose tail is masked off.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _jaxsetup  # noqa: F401  (float64 on)
from .objectives import PASCANU_TARGET, PASCANU_X0, pascanu_wall_b
from .registry import get_landscape

#: The longest unroll (the pascanu landscape's largest T).
MAX_T = int(get_landscape("pascanu").param("T").high)

_SIG_X0 = 1.0 / (1.0 + math.exp(-PASCANU_X0))
#: The one-step Jacobian at the fixed point on the wall: w * FIXED_POINT_SLOPE.
FIXED_POINT_SLOPE = _SIG_X0 * (1.0 - _SIG_X0)  # sigmoid'(0.5) = 0.2350


@dataclass(frozen=True)
class RnnUnroll:
    """One forward and backward pass of the Pascanu RNN, step by step.

    Time steps are numbered t = 1..T (step t computes x_t from x_{t-1}).

    Attributes:
      w, b, T: the weight, the bias and the number of steps.
      states: (T+1,) the hidden states x_0 .. x_T.
      factors: (T,) the one-step Jacobians dx_t/dx_{t-1} = w * sigmoid'(x_{t-1}).
      running_product: (T,) their running product dx_t/dx_0, the product of
        the first t Jacobians.
      to_output: (T,) dx_T/dx_t, the product of the Jacobians after step t
        (1 for t = T): how strongly step t still reaches the loss.
      dloss_dstate: dE/dx_T.
      contrib_w, contrib_b: (T,) step t's term of dE/dw and of dE/db; they
        sum to the gradient.
      loss: E(w, b).
    """

    w: float
    b: float
    T: int
    states: np.ndarray
    factors: np.ndarray
    running_product: np.ndarray
    to_output: np.ndarray
    dloss_dstate: float
    contrib_w: np.ndarray
    contrib_b: np.ndarray
    loss: float

    @property
    def steps(self) -> np.ndarray:
        """(T,) the step numbers 1..T."""
        return np.arange(1, self.T + 1)

    @property
    def grad(self) -> np.ndarray:
        """(2,) the gradient (dE/dw, dE/db): the sum of the per-step terms."""
        return np.array([self.contrib_w.sum(), self.contrib_b.sum()])

    @property
    def grad_norm(self) -> float:
        return float(np.hypot(*self.grad))


def _check_T(T: object) -> int:
    return int(get_landscape("pascanu").param("T").validate(T))


def _check_finite(name: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


@jax.jit
def _unroll(w, b, T):
    x0 = jnp.asarray(PASCANU_X0, dtype=w.dtype)

    def forward(x, _):
        return w * jax.nn.sigmoid(x) + b, x

    # xs[t] = x_t for t = 0..MAX_T; only the first T + 1 are used. The same
    # expression as objectives.rnn_states, so x_T agrees with the engine.
    _, xs = lax.scan(forward, x0, None, length=MAX_T + 1)
    s = jax.nn.sigmoid(xs)
    # factors[j] = dx_{j+1}/dx_j; past step T they are replaced by 1 so the
    # products below stop at T.
    live = jnp.arange(MAX_T + 1) < T
    factors = jnp.where(live, w * s * (1.0 - s), 1.0)
    running = jnp.cumprod(factors)  # running[j] = dx_{j+1}/dx_0
    # tail[j] = prod_{i >= j} factors[i] = dx_T/dx_j (1 for j >= T).
    tail = jnp.cumprod(factors[::-1])[::-1]
    s_last = s[T]
    loss = (s_last - PASCANU_TARGET) ** 2
    dloss_dstate = 2.0 * (s_last - PASCANU_TARGET) * s_last * (1.0 - s_last)
    # Step t (1-based) reads x_{t-1} = xs[t-1] and reaches x_T through tail[t].
    to_output = jnp.append(tail[1:], 1.0)  # to_output[t-1] = dx_T/dx_t
    contrib_b = dloss_dstate * to_output
    contrib_w = contrib_b * s
    return xs, factors, running, to_output, dloss_dstate, contrib_w, contrib_b, loss


def unroll_rnn(w: float, b: float, T: int = 50) -> RnnUnroll:
    """Runs the Pascanu RNN forward and backward, keeping every step.

    Args:
      w: the recurrent weight.
      b: the bias.
      T: the number of steps, 1 to ``MAX_T``.

    Returns:
      An RnnUnroll of numpy arrays; ``contrib_w`` and ``contrib_b`` sum to
      the gradient that ``simulate`` uses at (w, b).

    Raises:
      ValueError: for a non-finite w or b, or a T outside [1, MAX_T].

    >>> run = unroll_rnn(4.7, -2.2, T=50)
    >>> run.states.shape, run.factors.shape
    ((51,), (50,))
    >>> bool(abs(run.grad[1] - run.contrib_b.sum()) < 1e-12)
    True
    """
    w = _check_finite("w", w)
    b = _check_finite("b", b)
    T = _check_T(T)
    xs, factors, running, to_output, dstate, cw, cb, loss = (
        np.asarray(a) for a in _unroll(np.float64(w), np.float64(b), np.int32(T))
    )
    return RnnUnroll(
        w=w,
        b=b,
        T=T,
        states=xs[: T + 1],
        factors=factors[:T],
        running_product=running[:T],
        to_output=to_output[:T],
        dloss_dstate=float(dstate),
        contrib_w=cw[:T],
        contrib_b=cb[:T],
        loss=float(loss),
    )


# ---------------------------------------------------------------------------
# Standing on the wall in float64.

_WALL_DIGITS = 60


def _exact_wall(w: float) -> decimal.Decimal:
    """0.5 - w * sigmoid(0.5) to 60 digits, for the float64 number w exactly."""
    with decimal.localcontext() as ctx:
        ctx.prec = _WALL_DIGITS
        half = decimal.Decimal(PASCANU_X0)
        sig = 1 / (1 + (-half).exp())
        return half - decimal.Decimal(w) * sig


def nearest_wall_b(w: float) -> float:
    """The float64 number closest to the wall b = 0.5 - w * sigmoid(0.5).

    The wall's b is irrational, so no float64 lies exactly on it; this is the
    correctly rounded value (one rounding of the exact expression, not the
    two of ``0.5 - w * sigmoid(0.5)`` in floating point), within half a unit
    in the last place of the line: about 2e-16 for |b| in [2, 4).

    >>> nearest_wall_b(5.0)
    -2.612296656009273
    """
    return float(_exact_wall(_check_finite("w", w)))


def wall_offset(w: float, b: float) -> float:
    """b minus the exact wall at w, computed without cancellation (b - b_wall)."""
    w, b = _check_finite("w", w), _check_finite("b", b)
    with decimal.localcontext() as ctx:
        ctx.prec = _WALL_DIGITS
        return float(decimal.Decimal(b) - _exact_wall(w))


@dataclass(frozen=True)
class StateDrift:
    """How far the hidden state of one unroll strays from the fixed point 0.5.

    Attributes:
      max_deviation: the largest |x_t - 0.5| over t = 0..T.
      final_deviation: x_T - 0.5 (signed).
      level: the distance that counts as having left 0.5 (see ``left_at``).
      left_at: the first step t with |x_t - 0.5| > level, or None.
    """

    max_deviation: float
    final_deviation: float
    level: float
    left_at: int | None

    @property
    def exact(self) -> bool:
        """Whether every state is exactly 0.5."""
        return self.max_deviation == 0.0


def state_drift(unroll: RnnUnroll, level: float = 1e-3) -> StateDrift:
    """Measures how far an unroll's state moves away from 0.5 (the wall's fixed point)."""
    level = _check_finite("level", level)
    deviation = np.abs(unroll.states - PASCANU_X0)
    beyond = np.flatnonzero(deviation > level)
    return StateDrift(
        max_deviation=float(deviation.max()),
        final_deviation=float(unroll.states[-1] - PASCANU_X0),
        level=level,
        left_at=int(beyond[0]) if beyond.size else None,
    )


@jax.jit
def _unroll_from_wall(w, offset, T):
    # The recurrence written in u_t = x_t - 0.5 (see _wall_gradient): at
    # offset 0 every u_t is exactly 0, so the state sits on the fixed point.
    def forward(u, _):
        return w * _sigmoid_step(u) + offset, u

    _, us = lax.scan(forward, jnp.zeros_like(offset), None, length=MAX_T + 1)
    s = _SIG_X0 + _sigmoid_step(us)
    slope = s * jax.nn.sigmoid(-(PASCANU_X0 + us))
    live = jnp.arange(MAX_T + 1) < T
    factors = jnp.where(live, w * slope, 1.0)
    running = jnp.cumprod(factors)
    tail = jnp.cumprod(factors[::-1])[::-1]
    s_last = s[T]
    loss = (s_last - PASCANU_TARGET) ** 2
    dloss_dstate = 2.0 * (s_last - PASCANU_TARGET) * slope[T]
    to_output = jnp.append(tail[1:], 1.0)
    contrib_b = dloss_dstate * to_output
    contrib_w = contrib_b * s
    return PASCANU_X0 + us, factors, running, to_output, dloss_dstate, contrib_w, contrib_b, loss


def unroll_on_wall(w: float, T: int = 50, offset: float = 0.0) -> RnnUnroll:
    """The RNN unrolled at b = b_wall(w) + offset, with the wall itself exact.

    A float64 b cannot lie on the wall (see ``nearest_wall_b``), and the
    unstable fixed point multiplies the leftover ~1e-16 by w sigmoid'(0.5)
    every step. Written in the distance from the fixed point, the recurrence
    at offset 0 keeps the state at exactly 0.5 for every T: this is the
    mathematical wall, not its nearest float. The ``b`` of the result is the
    nearest float64 to b_wall + offset, for display.

    >>> run = unroll_on_wall(5.0, T=200)
    >>> bool((run.states == 0.5).all()), bool(np.ptp(run.factors) == 0)
    (True, True)
    """
    w = _check_finite("w", w)
    offset = _check_finite("offset", offset)
    T = _check_T(T)
    xs, factors, running, to_output, dstate, cw, cb, loss = (
        np.asarray(a) for a in _unroll_from_wall(np.float64(w), np.float64(offset), np.int32(T))
    )
    with decimal.localcontext() as ctx:
        ctx.prec = _WALL_DIGITS
        b = float(_exact_wall(w) + decimal.Decimal(offset))
    return RnnUnroll(
        w=w,
        b=b,
        T=T,
        states=xs[: T + 1],
        factors=factors[:T],
        running_product=running[:T],
        to_output=to_output[:T],
        dloss_dstate=float(dstate),
        contrib_w=cw[:T],
        contrib_b=cb[:T],
        loss=float(loss),
    )


# ---------------------------------------------------------------------------
# The cliff's height: the gradient across the wall.


def _sigmoid_step(u):
    """sigmoid(0.5 + u) - sigmoid(0.5), accurate even for |u| near 1e-300."""
    # sigma(a + u) - sigma(a) = sigma(a) * (1 - sigma(a + u)) * (e^u - 1)
    return _SIG_X0 * jax.nn.sigmoid(-(PASCANU_X0 + u)) * jnp.expm1(u)


def _wall_gradient(w, offset, T):
    """The gradient (dE/dw, dE/db) at b = wall_b(w) + offset, for one offset.

    Written in the distance from the fixed point, u_t = x_t - 0.5, which
    obeys u_t = w * (sigmoid(0.5 + u_{t-1}) - sigmoid(0.5)) + offset from
    u_0 = 0. At large T the band where the cliff stands is far narrower than
    the spacing of float64 numbers near b ~ -2.6 (at w = 5, T = 200 it is
    ~1e-15 wide), so b itself cannot resolve it; the offset can.
    """

    def forward(u, _):
        return w * _sigmoid_step(u) + offset, u

    _, us = lax.scan(forward, jnp.zeros_like(offset), None, length=MAX_T + 1)
    s = _SIG_X0 + _sigmoid_step(us)  # sigmoid(x_t)
    slope = s * jax.nn.sigmoid(-(PASCANU_X0 + us))  # sigmoid'(x_t)
    s_last = s[T]
    dstate = 2.0 * (s_last - PASCANU_TARGET) * slope[T]

    def backward(carry, t):
        g, dw, db = carry  # g = dE/dx_t once t <= T
        g = jnp.where(t == T, dstate, g)
        live = t <= T
        dw = dw + jnp.where(live, g * s[t - 1], 0.0)
        db = db + jnp.where(live, g, 0.0)
        g = jnp.where(live, g * w * slope[t - 1], g)
        return (g, dw, db), None

    zero = jnp.zeros_like(offset)
    (_, dw, db), _ = lax.scan(backward, (zero, zero, zero), jnp.arange(MAX_T, 0, -1))
    return jnp.stack([dw, db])


_CHUNK = 256
_wall_gradient_chunk = jax.jit(jax.vmap(_wall_gradient, in_axes=(None, 0, None), out_axes=0))


def gradient_across_wall(w: float, offsets: Sequence[float] | np.ndarray, T: int = 50) -> np.ndarray:
    """The gradient at b = pascanu_wall_b(w) + offset for each offset.

    The offsets are exact distances from the wall (not rounded through b),
    so offsets as small as 1e-300 are meaningful.

    Args:
      w: the recurrent weight.
      offsets: (n,) distances in b from the wall line.
      T: the number of steps, 1 to ``MAX_T``.

    Returns:
      (n, 2) the gradient (dE/dw, dE/db) at each point.
    """
    w = _check_finite("w", w)
    T = _check_T(T)
    flat = np.asarray(offsets, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("offsets must be finite")
    n = flat.size
    # Fixed-size chunks: one compiled program serves every number of offsets.
    padded = np.zeros(-(-n // _CHUNK) * _CHUNK if n else 0)
    padded[:n] = flat
    parts = [
        np.asarray(_wall_gradient_chunk(np.float64(w), padded[i : i + _CHUNK], np.int32(T)))
        for i in range(0, padded.size, _CHUNK)
    ]
    return np.concatenate(parts)[:n] if parts else np.zeros((0, 2))


@dataclass(frozen=True)
class PeakGradients:
    """How tall the cliff is for each unrolled length T, at a fixed w.

    Attributes:
      w: the recurrent weight.
      T: (n,) the lengths.
      peak_norm: (n,) the largest gradient norm found across the wall.
      peak_offset: (n,) where it is, as b - wall_b (negative: left of the wall).
      peak_b: (n,) the same position in b (rounded to float64).
      band_width: (n,) the width in b of the band around the peak where the
        gradient norm is at least ``band_level`` times the peak.
      band_level: that fraction (0.9 by default: "within 10 % of the peak").
      wall_b: the wall's b at this w.
      fixed_point_factor: w * sigmoid'(0.5), the one-step Jacobian on the
        wall; the peak grows roughly like its T-th power when it exceeds 1.
      growth_per_step: the factor by which the peak grows per extra step, from
        a least-squares line through log(peak_norm) vs T (NaN for fewer than
        two lengths).
    """

    w: float
    T: np.ndarray
    peak_norm: np.ndarray
    peak_offset: np.ndarray
    peak_b: np.ndarray
    band_width: np.ndarray
    band_level: float
    wall_b: float
    fixed_point_factor: float
    growth_per_step: float


_DECADES_PER_POINT = 0.1
_REFINE_POINTS = 101
_REFINE_ROUNDS = 5


def _norms(w: float, offsets: np.ndarray, T: int) -> np.ndarray:
    g = gradient_across_wall(w, offsets, T)
    return np.hypot(g[:, 0], g[:, 1])


def _peak_for_length(w: float, T: int, span: float, band_level: float) -> tuple[float, float, float]:
    # 1. A scan symmetric about the wall, log-spaced in the distance: the band
    #    is ~G^-T wide (G = w sigmoid'(0.5)) and sits ~that far from the wall,
    #    so its scale is known only roughly. Go 20 decades below it.
    growth = max(abs(w) * FIXED_POINT_SLOPE, 1.0)
    lowest = max(-300.0, -T * math.log10(growth) - 20.0)
    highest = math.log10(span)
    count = max(int((highest - lowest) / _DECADES_PER_POINT), 2)
    side = np.logspace(lowest, highest, count)
    offsets = np.concatenate([-side[::-1], [0.0], side])
    norms = _norms(w, offsets, T)

    # 2. Zoom in on the best point: a linear grid between its neighbours, repeated.
    seen_x, seen_y = [offsets], [norms]
    i = int(np.argmax(norms))
    lo, hi = offsets[max(i - 1, 0)], offsets[min(i + 1, offsets.size - 1)]
    for _ in range(_REFINE_ROUNDS):
        grid = np.linspace(lo, hi, _REFINE_POINTS)
        values = _norms(w, grid, T)
        seen_x.append(grid)
        seen_y.append(values)
        j = int(np.argmax(values))
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    xs = np.concatenate(seen_x)
    ys = np.concatenate(seen_y)
    best = int(np.argmax(ys))
    peak, where = float(ys[best]), float(xs[best])

    # 3. The band's edges: between the last point inside (>= band_level * peak)
    #    and the first outside, on each side, narrowed by linear grids.
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    level = band_level * peak
    edges = []
    for side_sign in (-1, 1):
        beyond = (xs - where) * side_sign > 0
        outside = np.flatnonzero(beyond & (ys < level))
        if outside.size == 0:
            edges.append(where + side_sign * span)
            continue
        k = outside[0] if side_sign > 0 else outside[-1]
        out_x, in_x = xs[k], xs[k - side_sign]
        for _ in range(3):
            grid = np.linspace(in_x, out_x, _REFINE_POINTS)
            inside = _norms(w, grid, T) >= level
            last_in = int(np.flatnonzero(inside)[-1]) if inside.any() else 0
            in_x, out_x = grid[last_in], grid[min(last_in + 1, grid.size - 1)]
        edges.append(0.5 * (in_x + out_x))
    return peak, where, edges[1] - edges[0]


def peak_gradient_vs_T(
    w: float, Ts: Sequence[int], span: float = 1.0, band_level: float = 0.9
) -> PeakGradients:
    """The tallest gradient across the wall, for each unrolled length T.

    At a fixed w the cliff stands on the line b = 0.5 - w sigmoid(0.5). For
    each T this scans b = wall + offset for |offset| <= span on a log-spaced
    grid that reaches far below the band's expected width, then zooms in on
    the largest gradient norm. Above w = PASCANU_CRITICAL_W the peak grows
    exponentially with T, roughly like (w sigmoid'(0.5))^T.

    Args:
      w: the recurrent weight.
      Ts: the lengths, each in [1, MAX_T].
      span: how far from the wall to look, in b.
      band_level: the fraction of the peak that defines ``band_width``
        (at w = 5, T = 50 the 90 % band is ~1.9e-5 wide, the 10 % band ~1.1e-4).

    Returns:
      A PeakGradients of numpy arrays, in the order of ``Ts``.

    Raises:
      ValueError: for a non-finite w, a bad T, or a span that is not positive.
    """
    w = _check_finite("w", w)
    lengths = [_check_T(T) for T in Ts]
    if not lengths:
        raise ValueError("Ts must hold at least one length")
    span = _check_finite("span", span)
    if span <= 0:
        raise ValueError(f"span must be positive, got {span!r}")
    band_level = _check_finite("band_level", band_level)
    if not 0 < band_level < 1:
        raise ValueError(f"band_level must lie in (0, 1), got {band_level!r}")
    found = [_peak_for_length(w, T, span, band_level) for T in lengths]
    peaks = np.array([f[0] for f in found])
    offsets = np.array([f[1] for f in found])
    T_arr = np.array(lengths)
    growth = float("nan")
    if len(set(lengths)) >= 2 and np.all(peaks > 0):
        slope = np.polyfit(T_arr.astype(float), np.log(peaks), 1)[0]
        growth = float(np.exp(slope))
    wall = float(pascanu_wall_b(w))
    return PeakGradients(
        w=w,
        T=T_arr,
        peak_norm=peaks,
        peak_offset=offsets,
        peak_b=wall + offsets,
        band_width=np.array([f[2] for f in found]),
        band_level=band_level,
        wall_b=wall,
        fixed_point_factor=w * FIXED_POINT_SLOPE,
        growth_per_step=growth,
    )
