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
from .sweep_figures import hparams_caption, hparams_figure, pick_traces, start_maps_caption, start_maps_figure
from .sweeps import OUTCOMES, Sweep, classify, sweep_hparams, sweep_starts, train_tolerance

__all__ = [
    "CLIP_RULES",
    "MAX_STEPS",
    "OPTIMIZERS",
    "OPTIMIZER_LABELS",
    "PASCANU_CRITICAL_W",
    "Landscape",
    "ParamSpec",
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
    "list_landscapes",
    "loss_surface",
    "pascanu_wall_b",
    "register",
    "rnn_states",
    "simulate",
    "value_and_grad_fn",
]
__all__ += [  # sweeps (issue 4): many descents at once, their figures and captions
    "OUTCOMES",
    "Sweep",
    "classify",
    "hparams_caption",
    "hparams_figure",
    "pick_traces",
    "start_maps_caption",
    "start_maps_figure",
    "sweep_hparams",
    "sweep_starts",
    "train_tolerance",
]
