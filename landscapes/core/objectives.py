"""The built-in cliff landscapes.

Every loss is a pure JAX function ``loss(theta, p)`` of ``theta = (p1, p2)``
and the parameter vector ``p``; gradients are taken by the engine. Parameters
such as the RNN length ``T`` are traced values, so changing them never
triggers a new compile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .registry import Landscape, ParamSpec, Window, register

# ---------------------------------------------------------------------------
# 1. Pascanu, Mikolov & Bengio (2013): a single-unit RNN with no input.

PASCANU_X0 = 0.5
PASCANU_TARGET = 0.7
_SIG_X0 = 1.0 / (1.0 + math.exp(-PASCANU_X0))  # sigmoid(0.5) = 0.6224593
#: Below this w the start state is a stable fixed point and no wall forms.
PASCANU_CRITICAL_W = 1.0 / (_SIG_X0 * (1.0 - _SIG_X0))  # 4.2553


def rnn_states(w: jax.Array, b: jax.Array, steps: jax.Array) -> jax.Array:
    """x_T of the recurrence x_t = w * sigmoid(x_{t-1}) + b from x_0 = 0.5.

    ``steps`` may be a traced integer: the loop length is a run-time value,
    and forward-mode differentiation (what the engine uses) goes through it.
    """
    x0 = jnp.asarray(PASCANU_X0, dtype=jnp.result_type(w, b))
    return lax.fori_loop(0, steps, lambda _, x: w * jax.nn.sigmoid(x) + b, x0)


def _pascanu_loss(theta: jax.Array, p: jax.Array) -> jax.Array:
    x_last = rnn_states(theta[0], theta[1], p[0].astype(jnp.int32))
    return (jax.nn.sigmoid(x_last) - PASCANU_TARGET) ** 2


def pascanu_wall_b(w: np.ndarray | float) -> np.ndarray:
    """The analytic wall: b = x0 - w * sigmoid(x0), where x0 = 0.5 is a fixed point.

    For w above ``PASCANU_CRITICAL_W`` that fixed point is unstable, so the
    line splits the (w, b) plane into two basins and the cliff stands on it.
    """
    return PASCANU_X0 - np.asarray(w, dtype=float) * _SIG_X0


def _pascanu_walls(params: Mapping[str, float], window: Window) -> list[np.ndarray]:
    (w_lo, w_hi), _ = window
    start = max(w_lo, PASCANU_CRITICAL_W)
    if start >= w_hi:
        return []
    w = np.linspace(start, w_hi, 200)
    return [np.column_stack([w, pascanu_wall_b(w)])]


register(
    Landscape(
        name="pascanu",
        title="Single-unit RNN (Pascanu et al. 2013)",
        formula=(
            r"x_t = w\,\sigma(x_{t-1}) + b,\quad x_0 = 0.5,\quad "
            r"E(w, b) = \left(\sigma(x_T) - 0.7\right)^2"
        ),
        description=(
            "One recurrent unit, no input, unrolled for T steps; only the last state is "
            "scored. Where the start state 0.5 is an unstable fixed point (the line "
            "b = 0.5 - 0.622 w, for w > 4.26) a tiny change in (w, b) decides which of two "
            "attractors the state runs to, so the loss drops from about 0.35 on the left to "
            "almost nothing on the right within a hair's width: a cliff whose gradient grows "
            "roughly like (0.235 w)^T. The best weights sit in a narrow ravine just right of "
            "the wall."
        ),
        source="Pascanu, Mikolov & Bengio, ICML 2013, section 2.3 and Fig. 6; "
        "Goodfellow et al., Deep Learning, Fig. 10.17",
        param_names=("w", "b"),
        axis_labels=("recurrent weight w", "bias b"),
        window=((3.5, 6.5), (-4.0, -1.0)),
        default_start=(4.7, -2.2),
        loss=_pascanu_loss,
        params=(
            ParamSpec(
                "T",
                "unrolled steps T",
                50,
                1,
                200,
                integer=True,
                help="How many times the recurrence is applied; the cliff sharpens exponentially with T.",
            ),
        ),
        walls=_pascanu_walls,
        minimum="zero loss along a curve just right of the wall line, where sigma(x_T) = 0.7 exactly; "
        "at T = 50 it runs about 3e-3 right of the wall (in b) at w = 4.5, 3e-5 at w = 5 and 6e-9 at w = 6",
    )
)

# ---------------------------------------------------------------------------
# 2. A ravine at the foot of a steep wall (Deep Learning, Fig. 10.17 in spirit).

RAVINE_FOOT = 0.5  # where the floor's lowest point lies, right of the wall
RAVINE_WALL = 0.0  # where the wall rises


def _ravine_loss(theta: jax.Array, p: jax.Array) -> jax.Array:
    u, v = theta[0], theta[1]
    steepness = p[0]
    floor = 0.5 * (u - RAVINE_FOOT) ** 2 + 0.05 * v**2
    # softplus(s z) has slope s for z > 0 and is flat for z < 0: a wall face
    # whose steepness is the parameter, with a smooth bend of width 1/s.
    wall = jax.nn.softplus(steepness * (RAVINE_WALL - u))
    return floor + wall


def _ravine_walls(params: Mapping[str, float], window: Window) -> list[np.ndarray]:
    _, (v_lo, v_hi) = window
    return [np.array([[RAVINE_WALL, v_lo], [RAVINE_WALL, v_hi]])]


register(
    Landscape(
        name="ravine",
        title="Ravine under a cliff",
        formula=(
            r"L(u, v) = \tfrac12 (u - 0.5)^2 + 0.05\, v^2 + "
            r"\operatorname{softplus}\!\big(s\,(0 - u)\big)"
        ),
        description=(
            "A long, gently sloping valley whose left side is a sheer wall at u = 0. The "
            "lowest point sits at the foot of the wall, so a step that is a little too "
            "long lands on the wall face, where the slope is s, and the next step flings "
            "the parameters far to the right. The steepness s sets how hard the wall "
            "throws."
        ),
        source="In the spirit of Goodfellow, Bengio & Courville, Deep Learning, Fig. 10.17 (section 10.11.1)",
        param_names=("u", "v"),
        axis_labels=("u (across the ravine)", "v (along the ravine)"),
        window=((-1.5, 3.5), (-3.0, 3.0)),
        default_start=(3.0, 2.5),
        loss=_ravine_loss,
        params=(
            ParamSpec(
                "steepness",
                "wall steepness s",
                100.0,
                1.0,
                1e4,
                log=True,
                help="Slope of the wall face: the gradient there is about s.",
            ),
        ),
        walls=_ravine_walls,
        minimum="at the foot of the wall: (0.5, 0) for a steep wall (s >= 100); "
        "a gentle wall pushes it a little to the right",
    )
)

# ---------------------------------------------------------------------------
# 3. A deep product: the cliff comes from multiplying many weights.

DEEP_TARGET = 0.5


def _deep_loss(theta: jax.Array, p: jax.Array) -> jax.Array:
    w, a = theta[0], theta[1]
    depth = p[0]
    # A chain of `depth` linear layers that share the weight w, fed the input a
    # and read through tanh. w**depth is what makes the wall: on it the
    # gradient with respect to a is about w**depth.
    return (jnp.tanh(a * w**depth) - DEEP_TARGET) ** 2


_DEEP_WALL_LEVEL = 1.0  # |a w^n| = 1: where tanh turns from linear to saturated


def _deep_walls(params: Mapping[str, float], window: Window) -> list[np.ndarray]:
    (w_lo, w_hi), (a_lo, a_hi) = window
    depth = params["depth"]
    w = np.linspace(max(w_lo, 1e-3), w_hi, 400)
    curves = []
    for sign in (1.0, -1.0):
        a = sign * _DEEP_WALL_LEVEL / w**depth
        inside = (a >= a_lo) & (a <= a_hi)
        if inside.sum() >= 2:
            curves.append(np.column_stack([w[inside], a[inside]]))
    return curves


register(
    Landscape(
        name="deep_product",
        title="Deep product of weights",
        formula=r"L(w, a) = \left(\tanh(a\, w^{n}) - 0.5\right)^2",
        description=(
            "A stack of n linear layers sharing one weight w, fed the input a, read "
            "through tanh. For w < 1 the product w^n shrinks towards zero and the surface "
            "goes flat (vanishing gradients); for w > 1 it blows up, and the whole change "
            "of the output is squeezed into a thin band around a = 0, where the gradient "
            "is about w^n. Each extra layer multiplies the steepness of that wall."
        ),
        source="After Goodfellow, Bengio & Courville, Deep Learning, section 8.2.4 and Fig. 8.3",
        param_names=("w", "a"),
        axis_labels=("shared layer weight w", "input weight a"),
        window=((0.5, 1.5), (-1.5, 1.5)),
        default_start=(0.85, 1.0),
        loss=_deep_loss,
        params=(
            ParamSpec(
                "depth",
                "depth n",
                12,
                1,
                30,
                integer=True,
                help="Number of multiplied layers; the wall steepens like w^n.",
            ),
        ),
        walls=_deep_walls,
        minimum="zero loss along the curve a = artanh(0.5) / w^n, which hugs a = 0 "
        "for w > 1 (the wall) and climbs out of view for w < 1",
    )
)

# ---------------------------------------------------------------------------
# 4. A staircase: several cliffs in a row.

STAIRS_FOOT = -1.0  # the lowest point, below the last step
STAIRS_TILT = 0.4  # the edges run along u + 0.4 v = const, so a fall also pushes v
STAIRS_SPACING = 1.2
STAIRS_HEIGHT = 0.5


def _stairs_edges(count: jax.Array) -> tuple[jax.Array, jax.Array]:
    # Up to 6 edges at 0, 1.2, 2.4, ...; the ones beyond `count` are switched off.
    return jnp.arange(6) * STAIRS_SPACING, jnp.arange(6) < count


def _stairs_loss(theta: jax.Array, p: jax.Array) -> jax.Array:
    u, v = theta[0], theta[1]
    count, steepness = p[0], p[1]
    edges, active = _stairs_edges(count)
    position = u + STAIRS_TILT * v
    drops = STAIRS_HEIGHT * jax.nn.sigmoid(steepness * (position - edges))
    floor = 0.05 * (u - STAIRS_FOOT) ** 2 + 0.1 * v**2
    return floor + jnp.sum(jnp.where(active, drops, 0.0))


def _stairs_walls(params: Mapping[str, float], window: Window) -> list[np.ndarray]:
    _, (v_lo, v_hi) = window
    v = np.array([v_lo, v_hi])
    return [np.column_stack([k * STAIRS_SPACING - STAIRS_TILT * v, v]) for k in range(int(params["cliffs"]))]


register(
    Landscape(
        name="staircase",
        title="Staircase of cliffs",
        formula=(
            r"L(u, v) = 0.05\,(u + 1)^2 + 0.1\, v^2 + \sum_{k=0}^{K-1} 0.5\,"
            r"\sigma\big(s\,(u + 0.4 v - 1.2 k)\big)"
        ),
        description=(
            "Flat terraces separated by K slanted drops, with the lowest point at the "
            "bottom of the last one. A path walking down meets one cliff after another; "
            "each edge hands it a gradient of about s/8 that points partly sideways, so "
            "an unclipped step can be hurled past several terraces at once."
        ),
        source="A multi-cliff variant of the cliffs of Deep Learning, Fig. 8.3",
        param_names=("u", "v"),
        axis_labels=("u (down the stairs ←)", "v (across)"),
        window=((-2.5, 6.0), (-3.0, 3.0)),
        default_start=(5.0, 1.0),
        loss=_stairs_loss,
        params=(
            ParamSpec(
                "cliffs",
                "number of cliffs K",
                3,
                1,
                6,
                integer=True,
                help="How many drops stand between the start and the bottom.",
            ),
            ParamSpec(
                "steepness",
                "edge steepness s",
                40.0,
                1.0,
                1e3,
                log=True,
                help="How sharp each drop is: the gradient on an edge is about s/8.",
            ),
        ),
        walls=_stairs_walls,
        minimum="below the last cliff, at (-1, 0)",
    )
)
