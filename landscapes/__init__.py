"""Cliffs in loss landscapes: objectives, clipping rules and descent trajectories.

A pure-JAX package (no Streamlit) that the app and notebooks share::

    import landscapes as ls
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=50, clip="norm", threshold=1.0)
    run.params, run.loss, run.grad_norm, run.clipped, run.reason

float64 is switched on at import (``jax_enable_x64``).
"""

from ._jaxsetup import enable_compilation_cache
from .clipping import CLIP_RULES, check_clip, clip_gradient, clip_modes, clip_rule
from .engine import (
    MAX_STEPS,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    Trajectory,
    simulate,
    value_and_grad_fn,
)
from .mesh import Surface, evaluate_points, loss_surface
from .objectives import PASCANU_CRITICAL_W, pascanu_wall_b, rnn_states
from .registry import Landscape, ParamSpec, Window, get_landscape, list_landscapes, register
from .rnn import PeakGradients, RnnUnroll, gradient_across_wall, peak_gradient_vs_T, unroll_rnn

__all__ = [
    "CLIP_RULES",
    "MAX_STEPS",
    "OPTIMIZERS",
    "OPTIMIZER_LABELS",
    "PASCANU_CRITICAL_W",
    "Landscape",
    "ParamSpec",
    "PeakGradients",
    "RnnUnroll",
    "Surface",
    "Trajectory",
    "Window",
    "check_clip",
    "clip_gradient",
    "clip_modes",
    "clip_rule",
    "enable_compilation_cache",
    "evaluate_points",
    "get_landscape",
    "gradient_across_wall",
    "list_landscapes",
    "loss_surface",
    "pascanu_wall_b",
    "peak_gradient_vs_T",
    "register",
    "rnn_states",
    "simulate",
    "unroll_rnn",
    "value_and_grad_fn",
]
