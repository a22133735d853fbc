"""Loss and gradient norm on a grid of points, for contour and surface plots."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import cast

import jax
import jax.numpy as jnp
import numpy as np

from ._jaxsetup import QUICK_COMPILE
from .engine import value_and_grad_fn
from .registry import Landscape, Window, get_landscape


@dataclass(frozen=True)
class Surface:
    """A landscape sampled on a grid.

    Attributes:
      x, y: (nx,) and (ny,) the grid coordinates.
      loss: (ny, nx) the loss; row j is y[j] (Plotly's ``z`` layout).
      grad_norm: (ny, nx) the length of the gradient.
      landscape: the landscape's name.
      landscape_params: its parameter values.
    """

    x: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    landscape: str
    landscape_params: dict[str, float]


@partial(jax.jit, static_argnames=("landscape",), compiler_options=QUICK_COMPILE)
def _evaluate(points: jax.Array, p: jax.Array, *, landscape: str):
    value_and_grad = value_and_grad_fn(get_landscape(landscape))
    loss, grad = jax.vmap(value_and_grad, in_axes=(0, None))(points, p)
    return loss, jnp.linalg.norm(grad, axis=-1)


#: Points per compiled evaluation: the map's 200 x 200 image. Every grid is evaluated in blocks
#: of this size (the last one padded), so one compiled program per landscape serves the map, the
#: 64 x 64 grid of the "trains" bar and every other resolution: a cold start compiles it once.
EVALUATION_BLOCK = 40_000


def evaluate_points(landscape: str | Landscape, points, **params: float):
    """Loss and gradient norm at each of ``points`` (shape (n, 2)), vectorized.

    The points go in blocks of ``EVALUATION_BLOCK`` (each point's numbers do not depend on the
    block it is in: tested bit for bit)."""
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    blocks = -(-n // EVALUATION_BLOCK)
    padded = np.concatenate([pts, np.repeat(pts[:1], blocks * EVALUATION_BLOCK - n, axis=0)])
    # A NumPy argument: jnp.asarray would compile a conversion program of its own on a cold start.
    p = np.asarray(scape.param_vector(values))
    loss, gnorm = [], []
    for b in range(blocks):
        block = padded[b * EVALUATION_BLOCK : (b + 1) * EVALUATION_BLOCK]
        out = _evaluate(block, p, landscape=scape.name)
        loss.append(np.asarray(out[0]))
        gnorm.append(np.asarray(out[1]))
    return np.concatenate(loss)[:n], np.concatenate(gnorm)[:n]


def loss_surface(
    landscape: str | Landscape,
    resolution: int | tuple[int, int] = 200,
    window: Window | None = None,
    **params: float,
) -> Surface:
    """Samples loss and gradient norm on a regular grid over a window.

    Args:
      landscape: a registered name or a Landscape.
      resolution: points per side, or (nx, ny); 2 to 1000.
      window: ((x0, x1), (y0, y1)); the landscape's default when None.
      **params: the landscape's own parameters.

    Returns:
      A Surface. Steep walls can be narrower than the grid spacing, so draw
      ``landscape.walls`` on top rather than trusting the mesh to show them.
    """
    scape = get_landscape(landscape)
    values = scape.resolve_params(**params)
    # numpy's isscalar guard would retype an int side as any numpy scalar: the sides are as annotated
    nx, ny = cast("tuple[int, int]", (resolution, resolution) if np.isscalar(resolution) else resolution)
    if not (2 <= int(nx) <= 1000 and 2 <= int(ny) <= 1000):
        raise ValueError(f"resolution must lie in [2, 1000] per side, got {resolution!r}")
    (x0, x1), (y0, y1) = window if window is not None else scape.window
    if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
        raise ValueError(f"window must be ((x0, x1), (y0, y1)) with x0 < x1, y0 < y1, got {window!r}")
    x = np.linspace(x0, x1, int(nx))
    y = np.linspace(y0, y1, int(ny))
    xx, yy = np.meshgrid(x, y)
    loss, gnorm = evaluate_points(scape, np.column_stack([xx.ravel(), yy.ravel()]), **values)
    return Surface(
        x=x,
        y=y,
        loss=loss.reshape(yy.shape),
        grad_norm=gnorm.reshape(yy.shape),
        landscape=scape.name,
        landscape_params=values,
    )
