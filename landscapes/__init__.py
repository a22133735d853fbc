"""Cliffs in loss landscapes: objectives, clipping rules and descent trajectories.

A pure-JAX package (no Streamlit) that the app and notebooks share::

    import landscapes as ls
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=50, clip="norm", threshold=1.0)
    run.params, run.loss, run.grad_norm, run.clipped, run.reason

float64 is switched on at import (``jax_enable_x64``).
"""

from .core._jaxsetup import enable_compilation_cache
from .core.clipping import (
    CLIP_RULES,
    CLIP_SPECS,
    ClipOption,
    ClipRuleSpec,
    check_clip,
    check_clip_options,
    clip_gradient,
    clip_modes,
    clip_rule,
    register_clip_rule,
    unregister_clip_rule,
)
from .core.engine import (
    Trajectory,
    simulate,
    simulate_many,
    simulate_modes,
    value_and_grad_fn,
)
from .core.mesh import Surface, evaluate_points, loss_surface
from .core.objectives import PASCANU_CRITICAL_W, pascanu_wall_b, rnn_states
from .core.optimizers import (
    OPTIMIZER_DIRECTIONS,
    OPTIMIZER_LABELS,
    OPTIMIZER_OPTIONS,
    OPTIMIZERS,
    check_optimizer_options,
    register_optimizer,
)
from .core.outcomes import OUTCOMES, classify, train_tolerance
from .core.registry import Landscape, ParamSpec, Window, get_landscape, list_landscapes, register
from .core.rnn import PeakGradients, RnnUnroll, gradient_across_wall, peak_gradient_vs_T, unroll_rnn
from .core.stepper import check_noise
from .core.sweeps import Sweep, sweep_hparams, sweep_starts
from .core.validation import MAX_STEPS
from .figures.lessons import (
    clip_vector_figure,
    grad_norm_histogram,
    peak_gradient_figure,
    placement_figure,
    rnn_contributions_figure,
    rnn_jacobians_figure,
    rnn_states_figure,
)
from .figures.sweeps import (
    hparams_caption,
    hparams_figure,
    pick_traces,
    start_maps_caption,
    start_maps_figure,
)
from .lessons.demos import (
    LOOP_ORDERS,
    ClipComparison,
    LoopOrder,
    PlacementDemo,
    ThresholdAdvice,
    angle_between,
    clip_comparison,
    placement_demos,
    threshold_advice,
)
from .lessons.learn_text import LEARN_REFERENCES, LEARN_SECTIONS, LearnSection, learn_section
from .lessons.snippets import (
    FRAMEWORK_LABELS,
    FRAMEWORKS,
    SNIPPET_MODES,
    Snippet,
    code_snippet,
    code_snippets,
)
from .views.export import ExportedRuns, PathTable, runs_from_csv, runs_from_json, runs_to_csv, runs_to_json

__all__ = [
    "CLIP_RULES",
    "CLIP_SPECS",
    "FRAMEWORKS",
    "FRAMEWORK_LABELS",
    "LEARN_REFERENCES",
    "LEARN_SECTIONS",
    "LOOP_ORDERS",
    "MAX_STEPS",
    "OPTIMIZERS",
    "OPTIMIZER_LABELS",
    "PASCANU_CRITICAL_W",
    "SNIPPET_MODES",
    "ClipComparison",
    "ClipRuleSpec",
    "ExportedRuns",
    "Landscape",
    "LearnSection",
    "LoopOrder",
    "ParamSpec",
    "PathTable",
    "PeakGradients",
    "PlacementDemo",
    "RnnUnroll",
    "Snippet",
    "Surface",
    "ThresholdAdvice",
    "Trajectory",
    "Window",
    "angle_between",
    "check_clip",
    "clip_comparison",
    "clip_gradient",
    "clip_modes",
    "clip_rule",
    "clip_vector_figure",
    "code_snippet",
    "code_snippets",
    "enable_compilation_cache",
    "evaluate_points",
    "get_landscape",
    "grad_norm_histogram",
    "gradient_across_wall",
    "learn_section",
    "list_landscapes",
    "loss_surface",
    "pascanu_wall_b",
    "peak_gradient_figure",
    "peak_gradient_vs_T",
    "placement_demos",
    "placement_figure",
    "register",
    "register_clip_rule",
    "register_optimizer",
    "rnn_contributions_figure",
    "rnn_jacobians_figure",
    "rnn_states",
    "rnn_states_figure",
    "runs_from_csv",
    "runs_from_json",
    "runs_to_csv",
    "runs_to_json",
    "simulate",
    "simulate_many",
    "simulate_modes",
    "threshold_advice",
    "unregister_clip_rule",
    "unroll_rnn",
    "value_and_grad_fn",
]
__all__ += [  # every clipping rule the field uses (issue 12): options, optimizers' options, noise
    "OPTIMIZER_DIRECTIONS",
    "OPTIMIZER_OPTIONS",
    "ClipOption",
    "check_clip_options",
    "check_noise",
    "check_optimizer_options",
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

# A real (small) network (issue 13): the RNN on the adding problem, trained with any clipping rule.
# One block at the end of the file, so merges with other work stay simple.
from .core.network import (  # noqa: E402
    SOLVED_LOSS,
    NetworkRun,
    RuleSetting,
    clip_network_gradient,
    init_rnn,
    rnn_heldout_batch,
    rnn_loss,
    rnn_predict,
    rnn_task_batch,
    train_rnn,
    train_rnn_many,
)

__all__ += [
    "SOLVED_LOSS",
    "NetworkRun",
    "RuleSetting",
    "clip_network_gradient",
    "init_rnn",
    "rnn_heldout_batch",
    "rnn_loss",
    "rnn_predict",
    "rnn_task_batch",
    "train_rnn",
    "train_rnn_many",
]

# The page side of issue 13: resumable training, the second task, the loss slice at a spike.
from .core.network import TASKS as NETWORK_TASKS  # noqa: E402
from .core.network import NetworkTraining, start_training, temporal_order_windows  # noqa: E402
from .core.network_slice import (  # noqa: E402
    NetworkSlice,
    filter_normalized_direction,
    gradient_spikes,
    network_loss_slice,
    spike_step,
)

__all__ += [
    "NETWORK_TASKS",
    "NetworkSlice",
    "NetworkTraining",
    "filter_normalized_direction",
    "gradient_spikes",
    "network_loss_slice",
    "spike_step",
    "start_training",
    "temporal_order_windows",
]
