"""Copyable code that applies the Explorer's clipping, optimizer and learning rate elsewhere.

For an ExplorerConfig, ``code_snippet`` writes a short training loop for
PyTorch, Keras 3, TensorFlow (a custom ``GradientTape`` loop) or JAX + optax
with the same clipping rule (any of the app's rules), threshold, options,
optimizer and learning rate, and notes where that library's rule differs from
the app's (torch's epsilon, Keras's per-variable ``clipnorm``, what happens
exactly at the threshold, AGC's unit-wise norms, skipping against
``apply_if_finite``). Where a library has the rule, the snippet calls it;
where it has not, the snippet carries a short implementation: the source of
``snippet_rules``, pasted in, so the code on screen is the code the tests run.
Numbers are written with ``repr`` so the code carries the exact values.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..core.clipping import CLIP_SPECS, MODE_LABELS
from ..core.engine import simulate
from ..core.optimizers import OPTIMIZER_LABELS, OPTIMIZER_OPTIONS
from ..views.config import ExplorerConfig, threshold_symbol
from . import snippet_rules as sr

Framework = Literal["pytorch", "keras", "tensorflow", "optax"]
FRAMEWORKS: tuple[str, ...] = ("pytorch", "keras", "tensorflow", "optax")
FRAMEWORK_LABELS = {
    "pytorch": "PyTorch",
    "keras": "Keras 3",
    "tensorflow": "TensorFlow",
    "optax": "JAX + optax",
}
#: Every rule the snippets know (the app's built-in rules, in registry order).
SNIPPET_MODES: tuple[str, ...] = (
    "none",
    "value",
    "norm",
    "norm_torch",
    "per_variable",
    "normalize",
    "agc",
    "autoclip",
    "zclip",
    "clip_update",
    "skip",
)
#: The rules torch, Keras and TensorFlow get as "multiply every gradient by factor(norm)".
_FACTOR_RULES = ("norm_torch", "normalize", "agc", "autoclip", "zclip")

#: The heavy-ball coefficient the engine uses unless told otherwise.
DEFAULT_MOMENTUM: float = inspect.signature(simulate).parameters["momentum"].default
#: AdamW's decoupled weight decay by default (optax's adamw); a snippet passes on its view's own.
DEFAULT_WEIGHT_DECAY: float = OPTIMIZER_OPTIONS["adamw"]["weight_decay"]


@dataclass(frozen=True)
class Snippet:
    """A code example for one framework and one clipping rule.

    Attributes:
      framework: ``"pytorch"``, ``"keras"``, ``"tensorflow"`` or ``"optax"``.
      mode: the clipping rule (one of ``SNIPPET_MODES``).
      title: a label such as "PyTorch · norm clipping".
      code: Python source (``model``, ``loader``, ``loss_fn``, ``params``,
        ... are the reader's own objects).
      notes: sentences on how this library's rule differs from the app's.
      helpers: the names of the hand-written functions and classes the code
        carries (``snippet_rules``), empty where the library has the rule.
      language: for ``st.code``.
    """

    framework: str
    mode: str
    title: str
    code: str
    notes: tuple[str, ...]
    helpers: tuple[str, ...] = ()
    language: str = "python"


def _num(value: float) -> str:
    """The shortest Python literal that reads back as exactly ``value``."""
    return repr(float(value))


def _int(value: float) -> str:
    return str(int(value))


def helper_source(*names: str) -> str:
    """The source of ``snippet_rules``' functions and classes ``names``, as pasted into a snippet."""
    return "\n\n\n".join(inspect.getsource(getattr(sr, name)).rstrip() for name in names)


def _imports(helpers: tuple[str, ...], *framework: str) -> list[str]:
    """The import lines a snippet needs: the framework's, and what its pasted helpers use."""
    source = helper_source(*helpers) if helpers else ""
    first = [line for line, used in (("import math", "math." in source),) if used]
    third: list[str] = sorted({*framework, *(["import numpy as np"] if "np." in source else [])})
    return [*first, *([""] if first else []), *third]


# ---------------------------------------------------------------------------
# The rule's numbers, as the config holds them


@dataclass(frozen=True)
class _Rule:
    mode: str
    c: str  # the rule's threshold as a literal (its own one for AutoClip, ZClip, AGC)
    options: dict[str, float]
    lr: str

    def opt(self, name: str) -> str:
        return _num(self.options[name])


def _rule(config: ExplorerConfig, mode: str) -> _Rule:
    options = config.clip_options_of(mode) if mode != "none" else {}
    return _Rule(mode, _num(config.threshold_of(mode)), options, _num(config.lr))


def _rule_phrase(config: ExplorerConfig, mode: str) -> str:
    if mode == "none":
        return "no clipping"
    phrase = f"{MODE_LABELS[mode]} at {threshold_symbol(mode)} = {_num(config.threshold_of(mode))}"
    options = config.clip_options_of(mode)
    if options:
        phrase += (
            " ("
            + ", ".join(f"{k} = {v:g}" if k == "warmup" else f"{k} = {_num(v)}" for k, v in options.items())
            + ")"
        )
    return phrase


def _header(framework: str, config: ExplorerConfig, mode: str, momentum: float) -> str:
    optimizer = OPTIMIZER_LABELS[config.optimizer]
    if config.optimizer == "momentum":
        optimizer += f" ({_num(momentum)})"
    if config.optimizer == "adamw":
        optimizer += f", weight decay {_num(config.weight_decay)}"
    params = ", ".join(f"{k}={v:g}" for k, v in config.params.items())
    where = config.landscape + (f" ({params})" if params else "")
    start = f"({config.start[0]:g}, {config.start[1]:g})"
    return (
        f"# {FRAMEWORK_LABELS[framework]}: {_rule_phrase(config, mode)}, {optimizer}, "
        f"learning rate {_num(config.lr)}.\n"
        f"# The Explorer's settings: landscape {where}, start {start}, {config.steps} steps."
    )


def _factor_setup(rule: _Rule) -> tuple[tuple[str, ...], list[str], str]:
    """(helpers, setup lines, factor expression in ``norm``) of a rule applied as one factor."""
    mode, c = rule.mode, rule.c
    if mode == "norm_torch":
        return ("torch_clip_factor",), [], f"torch_clip_factor(norm, {c})"
    if mode == "normalize":
        return ("normalize_factor",), [], f"normalize_factor(norm, {c}, beta={rule.opt('beta')})"
    if mode == "agc":
        return ("agc_factor",), [], f"agc_factor(norm, param_norm, {c}, eps={rule.opt('eps')})"
    if mode == "autoclip":
        return ("clip_factor", "AutoClip"), [f"rule = AutoClip(percentile={c})"], "rule.factor(norm)"
    if mode == "zclip":
        cap = f", max_norm={rule.opt('max_norm')}" if "max_norm" in rule.options else ""
        setup = [
            f"rule = ZClip(z={c}, alpha={rule.opt('alpha')}, warmup={_int(rule.options['warmup'])}{cap})"
        ]
        return ("clip_factor", "ZClip"), setup, "rule.factor(norm)"
    raise ValueError(f"rule {mode!r} is not applied as one factor")


# ---------------------------------------------------------------------------
# Notes: where a library differs from the app


_EDGE_NOTE = (
    "Exactly at ||g|| = c the app leaves g untouched, Keras, TensorFlow and optax multiply it by a "
    "factor that is 1 up to rounding, and torch shrinks it by c/(c + 1e-6)."
)
_HAND_NOTE = (
    "{library} has no {label}: the functions above are a short implementation of the rule as the app "
    "runs it (the app's tests execute them against its own engine)."
)
_NONFINITE_NORM = (
    "With an infinite gradient component, norm rules turn it into NaN (torch, optax, and the app); "
    "TensorFlow's clip_by_global_norm makes every gradient NaN. Value clipping stays finite."
)


def _notes(framework: str, mode: str) -> tuple[str, ...]:
    library = FRAMEWORK_LABELS[framework]
    label = MODE_LABELS[mode]
    hand = _HAND_NOTE.format(library=library, label=label)
    table: dict[tuple[str, str], tuple[str, ...]] = {
        ("pytorch", "value"): (
            "clip_grad_value_ clamps each component, exactly like the app's value clipping.",
        ),
        ("pytorch", "norm"): (
            "clip_grad_norm_ clips the global norm over all parameters, like the app, but adds "
            "1e-6 to the norm and always multiplies, so clipped gradients are slightly shorter than c.",
            _EDGE_NOTE,
            _NONFINITE_NORM,
        ),
        ("pytorch", "norm_torch"): (
            "This is the app's torch norm clipping exactly: clip_grad_norm_ multiplies by "
            "min(1, c / (||g|| + 1e-6)) at every call and returns the norm before clipping.",
        ),
        ("keras", "value"): (
            "clipvalue is element-wise clamping, the same rule as the app's value clipping.",
        ),
        ("keras", "norm"): (
            "Use global_clipnorm for the app's norm clipping; clipnorm clips every variable "
            "separately and so changes the direction of the full gradient.",
            _EDGE_NOTE,
        ),
        ("keras", "per_variable"): (
            "clipnorm is this rule: each variable's gradient is rescaled to at most c on its own, so the "
            "direction of the whole gradient can turn. With w and b as two scalar variables (the app's "
            "case) it is value clipping up to the last digit.",
        ),
        ("tensorflow", "value"): ("tf.clip_by_value on each gradient is the app's value clipping.",),
        ("tensorflow", "norm"): (
            "tf.clip_by_global_norm computes t * c / max(||g||, c): the app's rule up to rounding.",
            _EDGE_NOTE,
            _NONFINITE_NORM,
        ),
        ("tensorflow", "per_variable"): (
            "tf.clip_by_norm on each gradient is Keras' clipnorm: every variable clipped on its own.",
        ),
        ("optax", "value"): (
            "optax.clip is element-wise clamping, the same rule as the app's value clipping.",
        ),
        ("optax", "norm"): (
            "optax.clip_by_global_norm is the app's rule, except that it also rescales a "
            "gradient whose norm equals c exactly.",
            _EDGE_NOTE,
            _NONFINITE_NORM,
        ),
        ("optax", "agc"): (
            "optax.adaptive_grad_clip is this rule. It works unit-wise: for a weight matrix each output "
            "unit (row) is clipped against its own norm, as Brock et al. define it; the app's two "
            "parameters are one vector, so they form one unit.",
        ),
        ("optax", "clip_update"): (
            "optax.clip_by_global_norm sits between the optimizer's scaling and the learning rate, so it "
            "clips the optimizer's direction, not the gradient; the optimizer's own state (momentum, "
            "Adam's moments) is not clipped. At exactly c it rescales by 1 up to rounding; the app does not.",
        ),
        ("optax", "skip"): (
            "optax has no rule that skips long gradients: skip_large_steps above is a short one.",
            "optax.apply_if_finite skips only non-finite gradients and gives up after "
            "max_consecutive_errors of them; skip_large_steps above also skips gradients longer than c "
            "and never gives up, as the app does.",
        ),
    }
    if (framework, mode) in table:
        return table[(framework, mode)]
    if mode == "none":
        return ()
    notes = [hand]
    if mode == "per_variable":
        notes.append(
            "Keras' clipnorm is this rule; here each parameter tensor is clipped to c on its own, so with "
            "w and b as two scalar variables (the app's case) it is value clipping up to the last digit."
        )
    if mode == "norm_torch":
        notes.append("torch.nn.utils.clip_grad_norm_ is this rule; the factor above copies it.")
    if mode == "agc":
        notes.append(
            "Here all parameters form one unit, as the app's (w, b) do. Brock et al. clip unit-wise (each "
            "output row of a weight matrix against its own norm), as optax.adaptive_grad_clip and "
            "timm.utils.adaptive_clip_grad do: use those for a real network."
        )
    if mode == "autoclip":
        notes.append(
            "The history holds every norm since the start (this step's included); the threshold is "
            "numpy's linear-interpolation percentile of it."
        )
    if mode == "zclip":
        notes.append(
            "The first warmup steps only collect norms (and clip at max_norm if given); the statistics then "
            "follow the clipped norms, so a spike does not raise the bar it is judged by."
        )
    if mode == "clip_update":
        notes.append(
            "The step the optimizer took is rescaled to at most lr·c, which is its direction clipped to c; "
            "its state (momentum, Adam's moments) stays unclipped, as in optax's chained form."
        )
    if mode == "skip":
        notes.append(
            "A skipped step leaves the parameters and the optimizer's state (momentum, Adam's moments "
            "and step count) untouched. Without noise in the gradient a skipped point stays where it "
            "is: the next gradient is the same, so skipping alone can park a run at the cliff's edge."
        )
    if mode == "normalize":
        notes.append(
            "Every step has length close to lr·c, on a plateau as on a cliff: nothing is 'clipped' "
            "only sometimes."
        )
    if framework == "keras" and mode != "per_variable":
        notes.append(
            "The rule reads the norm as a Python number and keeps Python state, so the model is compiled "
            "with run_eagerly=True (written for the TensorFlow and PyTorch backends)."
        )
    return tuple(notes)


# ---------------------------------------------------------------------------
# PyTorch


def _torch_optimizer(config: ExplorerConfig, momentum: float) -> list[str]:
    lr = _num(config.lr)
    return {
        "sgd": [f"optimizer = torch.optim.SGD(model.parameters(), lr={lr})"],
        "momentum": [
            "# Heavy ball, as in the app: v <- momentum * v + g; theta <- theta - lr * v.",
            f"optimizer = torch.optim.SGD(model.parameters(), lr={lr}, momentum={_num(momentum)})",
        ],
        "adam": [
            "# betas (0.9, 0.999) and eps 1e-8 are torch's defaults and optax's, as in the app.",
            f"optimizer = torch.optim.Adam(model.parameters(), lr={lr})",
        ],
        "adamw": [
            "# Decoupled weight decay, as optax.adamw: it is never clipped.",
            f"optimizer = torch.optim.AdamW(model.parameters(), lr={lr}, "
            f"weight_decay={_num(config.weight_decay)})",
        ],
    }[config.optimizer]


_TORCH_NORM = [
    "    grads = [p.grad for p in model.parameters() if p.grad is not None]",
    "    norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))",
]


def _torch(config: ExplorerConfig, mode: str, momentum: float) -> tuple[list[str], tuple[str, ...]]:
    rule = _rule(config, mode)
    c = rule.c
    helpers: tuple[str, ...] = ()
    setup: list[str] = []
    step = ["    optimizer.step()"]
    clip: list[str]
    if mode == "none":
        clip = ["    # No clipping: step() uses the raw gradients."]
    elif mode == "value":
        clip = [
            "    # Clip here: after backward() has filled p.grad, before step() reads it.",
            "    # Each gradient component is clamped to [-c, c] (the direction can turn).",
            f"    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value={c})",
        ]
    elif mode in ("norm", "norm_torch"):
        clip = [
            "    # Clip here: after backward() has filled p.grad, before step() reads it.",
            "    # torch multiplies by min(1, c / (||g|| + 1e-6)) on every call, so a clipped",
            "    # gradient comes out a hair shorter than c."
            + (" The app rescales only when ||g|| > c." if mode == "norm" else ""),
            "    # The return value is the norm *before* clipping: worth logging.",
            f"    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={c})",
        ]
    elif mode == "per_variable":
        helpers = ("clip_factor",)
        clip = [
            "    # Each parameter tensor clipped to norm c on its own (Keras' clipnorm).",
            "    for p in model.parameters():",
            "        if p.grad is not None:",
            f"            p.grad.mul_(clip_factor(float(torch.linalg.vector_norm(p.grad)), {c}))",
        ]
    elif mode in _FACTOR_RULES:
        helpers, setup, factor = _factor_setup(rule)
        clip = [
            "    # Clip here: after backward(), before step(); every gradient by the same factor.",
            *_TORCH_NORM,
        ]
        if mode == "agc":
            clip.append(
                "    param_norm = float(torch.linalg.vector_norm("
                "torch.stack([torch.linalg.vector_norm(p.detach()) for p in model.parameters()])))"
            )
        clip += [f"    factor = {factor}", "    for g in grads:", "        g.mul_(factor)"]
    elif mode == "skip":
        helpers = ("skip_step",)
        clip = [
            *_TORCH_NORM,
            f"    if skip_step(norm, {c}):",
            "        continue  # no step(): parameters and optimizer state stay as they were",
        ]
    elif mode == "clip_update":
        helpers = ("clip_factor",)
        clip = []
        step = [
            "    # Clip after the optimizer: rescale the step it took to at most lr * c.",
            "    before = [p.detach().clone() for p in model.parameters()]",
            "    optimizer.step()",
            "    with torch.no_grad():",
            "        steps = [p - b for p, b in zip(model.parameters(), before)]",
            "        norm = float(torch.linalg.vector_norm(",
            "            torch.stack([torch.linalg.vector_norm(s) for s in steps])))",
            f"        factor = clip_factor(norm, {rule.lr} * {c})",
            "        for p, b, s in zip(model.parameters(), before, steps):",
            "            p.copy_(b + s * factor)",
        ]
    else:
        raise ValueError(f"no PyTorch code for rule {mode!r}")
    lines = [
        *_imports(helpers, "import torch"),
        *(["", *helper_source(*helpers).splitlines(), ""] if helpers else []),
        "",
        *_torch_optimizer(config, momentum),
        *setup,
        "",
        "for inputs, targets in loader:",
        "    optimizer.zero_grad()",
        "    loss = loss_fn(model(inputs), targets)",
        "    loss.backward()",
        *clip,
        *step,
    ]
    return lines, helpers


# ---------------------------------------------------------------------------
# Keras 3


def _keras_optimizer(
    config: ExplorerConfig, momentum: float, clip_arg: str, cls: str | None = None
) -> list[str]:
    lr = _num(config.lr)
    name = {"sgd": "SGD", "momentum": "SGD", "adam": "Adam", "adamw": "AdamW"}[config.optimizer]
    make = cls or f"keras.optimizers.{name}"
    return {
        "sgd": [f"optimizer = {make}(learning_rate={lr}{clip_arg})"],
        "momentum": [
            "# Keras keeps v <- momentum * v - lr * g and adds v: for a fixed learning rate",
            "# that is the same path as the app's heavy ball.",
            f"optimizer = {make}(learning_rate={lr}, momentum={_num(momentum)}{clip_arg})",
        ],
        "adam": [
            "# Keras's default epsilon is 1e-7 and it is added before the bias correction;",
            "# epsilon=1e-8 brings it close to optax and torch, though not bit for bit.",
            f"optimizer = {make}(learning_rate={lr}, epsilon=1e-08{clip_arg})",
        ],
        "adamw": [
            "# Keras's AdamW defaults to weight_decay=0.004: pass this view's value.",
            f"optimizer = {make}(learning_rate={lr}, weight_decay={_num(config.weight_decay)}, "
            f"epsilon=1e-08{clip_arg})",
        ],
    }[config.optimizer]


_KERAS_NORM = "        norm = float(keras.ops.sqrt(sum(keras.ops.sum(keras.ops.square(g)) for g in grads)))"


def _keras(config: ExplorerConfig, mode: str, momentum: float) -> tuple[list[str], tuple[str, ...]]:
    rule = _rule(config, mode)
    c = rule.c
    fit = [
        "",
        "# The optimizer clips inside apply_gradients(): after the gradients are computed and",
        "# before the weights change, so fit() and hand-written loops both get the right order.",
        "model.compile(optimizer=optimizer, loss=loss_fn)",
        "model.fit(dataset, epochs=num_epochs)",
    ]
    if mode in ("none", "value", "norm", "per_variable"):
        clip_arg = {
            "none": "",
            "value": f", clipvalue={c}",
            "norm": f", global_clipnorm={c}",
            "per_variable": f", clipnorm={c}",
        }[mode]
        comment = {
            "none": ["# No clipping: the optimizer uses the raw gradients."],
            "value": ["# clipvalue clamps every gradient component to [-c, c], as in the app."],
            "norm": [
                "# global_clipnorm scales all gradients together by c / max(||g||, c): the app's rule.",
                "# Not clipnorm: that clips each variable's gradient on its own, which can turn the",
                "# overall direction (with w and b as two scalar variables it acts like value clipping).",
                "# Keras accepts only one of clipnorm, clipvalue and global_clipnorm.",
            ],
            "per_variable": [
                "# clipnorm clips each variable's gradient to norm c on its own (not global_clipnorm).",
            ],
        }[mode]
        return ["import keras", "", *comment, *_keras_optimizer(config, momentum, clip_arg), *fit], ()

    name = {"sgd": "SGD", "momentum": "SGD", "adam": "Adam", "adamw": "AdamW"}[config.optimizer]
    setup: list[str] = []
    if mode in _FACTOR_RULES:
        helpers, setup, factor = _factor_setup(rule)
        body = [_KERAS_NORM]
        if mode == "agc":
            body.append(
                "        param_norm = float(keras.ops.sqrt(sum(keras.ops.sum(keras.ops.square(v)) "
                "for v in trainable_variables)))"
            )
        body += [
            f"        factor = {factor}",
            "        return super().apply([g * factor for g in grads], trainable_variables)",
        ]
        doc = "rescales all gradients together by the rule's factor before each update"
    elif mode == "skip":
        helpers = ("skip_step",)
        body = [
            _KERAS_NORM,
            f"        if skip_step(norm, {c}):",
            "            return  # no update: the weights and the optimizer's state stay as they were",
            "        return super().apply(grads, trainable_variables)",
        ]
        doc = "skips the update when the gradient is longer than c or not finite"
    elif mode == "clip_update":
        helpers = ("clip_factor",)
        body = [
            "        before = [keras.ops.copy(v) for v in trainable_variables]",
            "        super().apply(grads, trainable_variables)",
            "        steps = [v - b for v, b in zip(trainable_variables, before)]",
            "        norm = float(keras.ops.sqrt(sum(keras.ops.sum(keras.ops.square(s)) for s in steps)))",
            f"        factor = clip_factor(norm, {rule.lr} * {c})",
            "        for v, b, s in zip(trainable_variables, before, steps):",
            "            v.assign(b + s * factor)",
        ]
        doc = "rescales the step it took to at most lr * c (its direction clipped to c)"
    else:
        raise ValueError(f"no Keras code for rule {mode!r}")
    lines = [
        *_imports(helpers, "import keras"),
        "",
        *helper_source(*helpers).splitlines(),
        "",
        *setup,
        "",
        "",
        f"class Clipped{name}(keras.optimizers.{name}):",
        f'    """keras.optimizers.{name} that {doc}."""',
        "",
        "    def apply(self, grads, trainable_variables=None):",
        *body,
        "",
        "",
        *_keras_optimizer(config, momentum, "", cls=f"Clipped{name}"),
        "",
        "# The rule works on Python numbers, so the training step must run eagerly.",
        "model.compile(optimizer=optimizer, loss=loss_fn, run_eagerly=True)",
        "model.fit(dataset, epochs=num_epochs)",
    ]
    return lines, helpers


# ---------------------------------------------------------------------------
# TensorFlow (a custom GradientTape loop)


def _tf_optimizer(config: ExplorerConfig, momentum: float) -> list[str]:
    lr = _num(config.lr)
    return {
        "sgd": [f"optimizer = tf.keras.optimizers.SGD(learning_rate={lr})"],
        "momentum": [f"optimizer = tf.keras.optimizers.SGD(learning_rate={lr}, momentum={_num(momentum)})"],
        "adam": [f"optimizer = tf.keras.optimizers.Adam(learning_rate={lr}, epsilon=1e-08)"],
        "adamw": [
            f"optimizer = tf.keras.optimizers.AdamW(learning_rate={lr}, "
            f"weight_decay={_num(config.weight_decay)}, epsilon=1e-08)"
        ],
    }[config.optimizer]


def _tensorflow(config: ExplorerConfig, mode: str, momentum: float) -> tuple[list[str], tuple[str, ...]]:
    rule = _rule(config, mode)
    c = rule.c
    helpers: tuple[str, ...] = ()
    setup: list[str] = []
    apply = ["        optimizer.apply_gradients(zip(grads, model.trainable_variables))"]
    norm = "        norm = float(tf.linalg.global_norm(grads))"
    clip: list[str]
    if mode == "none":
        clip = ["        # No clipping: the optimizer gets the raw gradients."]
    elif mode == "value":
        clip = [f"        grads = [tf.clip_by_value(g, -{c}, {c}) for g in grads]"]
    elif mode == "norm":
        clip = [
            "        # All gradients scaled together by c / max(||g||, c); returns the norm before clipping.",
            f"        grads, global_norm = tf.clip_by_global_norm(grads, {c})",
        ]
    elif mode == "per_variable":
        clip = [
            "        # Each variable clipped to norm c on its own (Keras' clipnorm).",
            f"        grads = [tf.clip_by_norm(g, {c}) for g in grads]",
        ]
    elif mode in _FACTOR_RULES:
        helpers, setup, factor = _factor_setup(rule)
        clip = [norm]
        if mode == "agc":
            clip.append("        param_norm = float(tf.linalg.global_norm(model.trainable_variables))")
        clip += [f"        factor = {factor}", "        grads = [g * factor for g in grads]"]
    elif mode == "skip":
        helpers = ("skip_step",)
        clip = [
            norm,
            f"        if skip_step(norm, {c}):",
            "            continue  # no update: the weights and the optimizer's state stay as they were",
        ]
    elif mode == "clip_update":
        helpers = ("clip_factor",)
        clip = []
        apply = [
            "        # Clip after the optimizer: rescale the step it took to at most lr * c.",
            "        before = [tf.identity(v) for v in model.trainable_variables]",
            "        optimizer.apply_gradients(zip(grads, model.trainable_variables))",
            "        steps = [v - b for v, b in zip(model.trainable_variables, before)]",
            "        norm = float(tf.linalg.global_norm(steps))",
            f"        factor = clip_factor(norm, {rule.lr} * {c})",
            "        for v, b, s in zip(model.trainable_variables, before, steps):",
            "            v.assign(b + s * factor)",
        ]
    else:
        raise ValueError(f"no TensorFlow code for rule {mode!r}")
    lines = [
        *_imports(helpers, "import tensorflow as tf"),
        *(["", *helper_source(*helpers).splitlines(), ""] if helpers else []),
        "",
        *_tf_optimizer(config, momentum),
        *setup,
        "",
        "for epoch in range(num_epochs):",
        "    for inputs, targets in dataset:",
        "        with tf.GradientTape() as tape:",
        "            loss = loss_fn(targets, model(inputs, training=True))",
        "        grads = tape.gradient(loss, model.trainable_variables)",
        "        # Clip here: after the tape has the gradients, before the optimizer applies them.",
        *clip,
        *apply,
    ]
    return lines, helpers


# ---------------------------------------------------------------------------
# JAX + optax


def _optax_base(config: ExplorerConfig, momentum: float) -> str:
    lr = _num(config.lr)
    return {
        "sgd": f"optax.sgd(learning_rate={lr})",
        "momentum": f"optax.sgd(learning_rate={lr}, momentum={_num(momentum)})",
        "adam": f"optax.adam(learning_rate={lr})",
        "adamw": f"optax.adamw(learning_rate={lr}, weight_decay={_num(config.weight_decay)})",
    }[config.optimizer]


def _optax_direction(config: ExplorerConfig, momentum: float) -> list[str]:
    return {
        "sgd": [],
        "momentum": [f"    optax.trace(decay={_num(momentum)}),  # the heavy ball's velocity"],
        "adam": ["    optax.scale_by_adam(),  # Adam's direction"],
        "adamw": [
            "    optax.scale_by_adam(),  # Adam's direction,",
            f"    optax.add_decayed_weights({_num(config.weight_decay)}),  # plus the decoupled decay",
        ],
    }[config.optimizer]


def _optax(config: ExplorerConfig, mode: str, momentum: float) -> tuple[list[str], tuple[str, ...]]:
    rule = _rule(config, mode)
    c = rule.c
    base = _optax_base(config, momentum)
    helpers: tuple[str, ...] = ()
    order = [
        "# Order inside chain matters, just like clipping after backward() and before step():",
        "# the clip transforms the raw gradient, the optimizer then sees the clipped one.",
    ]
    chained = {
        "value": (f"optax.clip({c})", "clamp each component to [-c, c]"),
        "norm": (f"optax.clip_by_global_norm({c})", "rescale g to length c if longer"),
        "norm_torch": (f"torch_clip_by_global_norm({c})", "torch's rule: min(1, c / (||g|| + 1e-6))"),
        "per_variable": (f"clip_each_by_norm({c})", "each leaf to norm c on its own"),
        "normalize": (
            f"normalize_by_global_norm({c}, beta={rule.opt('beta')})" if mode == "normalize" else "",
            "every gradient to length about c",
        ),
        "agc": (
            f"optax.adaptive_grad_clip({c}, eps={rule.opt('eps')})" if mode == "agc" else "",
            "at most c times the parameters' norm",
        ),
        "autoclip": (
            f"autoclip(percentile={c}, max_steps={config.steps})",
            "the percentile of the norms so far",
        ),
    }
    names = {
        "norm_torch": ("torch_clip_by_global_norm",),
        "per_variable": ("clip_each_by_norm",),
        "normalize": ("normalize_by_global_norm",),
        "autoclip": ("AutoClipState", "autoclip"),
        "zclip": ("ZClipState", "zclip"),
        "skip": ("skip_large_steps",),
    }
    helpers = names.get(mode, ())
    if mode == "none":
        setup = [f"optimizer = {base}  # no clipping"]
    elif mode == "zclip":
        cap = f", max_norm={rule.opt('max_norm')}" if "max_norm" in rule.options else ""
        call = f"zclip(z={c}, alpha={rule.opt('alpha')}, warmup={_int(rule.options['warmup'])}{cap})"
        setup = [*order, "optimizer = optax.chain(", f"    {call},  # the z-score test", f"    {base},", ")"]
    elif mode == "clip_update":
        setup = [
            "# Clip after the optimizer: its direction (before the learning rate) to norm c.",
            "optimizer = optax.chain(",
            *_optax_direction(config, momentum),
            f"    optax.clip_by_global_norm({c}),",
            f"    optax.scale(-{rule.lr}),",
            ")",
        ]
    elif mode == "skip":
        setup = [
            "# The whole step is skipped (no update, state kept) when ||g|| > c or g is not finite.",
            f"optimizer = skip_large_steps({base}, {c})",
        ]
    else:
        clip, what = chained[mode]
        setup = [*order, "optimizer = optax.chain(", f"    {clip},  # {what}", f"    {base},", ")"]
        if mode == "norm":
            setup.insert(2, "# clip_by_global_norm rescales when ||g|| >= c (the app: when ||g|| > c).")
    if mode == "per_variable":
        setup.insert(0, "# Keep each variable a leaf of params, e.g. params = (w, b), not one array.")
    imports = ["from typing import NamedTuple", "", "import jax", "import jax.numpy as jnp", "import optax"]
    if not helpers:
        imports = ["import jax", "import optax"]
    lines = [
        *imports,
        *(["", *helper_source(*helpers).splitlines(), ""] if helpers else []),
        "",
        *setup,
        "opt_state = optimizer.init(params)",
        "",
        f"for step in range({config.steps}):",
        "    grads = jax.grad(loss_fn)(params)",
        "    updates, opt_state = optimizer.update(grads, opt_state, params)",
        "    params = optax.apply_updates(params, updates)",
    ]
    return lines, helpers


_WRITERS: dict[str, Callable[[ExplorerConfig, str, float], tuple[list[str], tuple[str, ...]]]] = {
    "pytorch": _torch,
    "keras": _keras,
    "tensorflow": _tensorflow,
    "optax": _optax,
}


def code_snippet(
    config: ExplorerConfig, framework: str, mode: str = "norm", *, momentum: float | None = None
) -> Snippet:
    """A training loop for ``framework`` with the config's clipping, optimizer and learning rate.

    Args:
      config: the Explorer's settings (optimizer, lr, each rule's threshold
        and options, steps, ...).
      framework: ``"pytorch"``, ``"keras"``, ``"tensorflow"`` or ``"optax"``.
      mode: any of ``SNIPPET_MODES``.
      momentum: the heavy-ball coefficient; defaults to the config's if it
        has one, else the engine's default (0.9).

    Returns:
      A Snippet whose ``code`` compiles as Python.

    Raises:
      ValueError: for an unknown framework, mode or optimizer.
    """
    if framework not in _WRITERS:
        raise ValueError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
    if mode not in SNIPPET_MODES or mode not in CLIP_SPECS:
        raise ValueError(f"unknown clipping mode {mode!r}; choose one of {', '.join(SNIPPET_MODES)}")
    if config.optimizer not in OPTIMIZER_LABELS or config.optimizer not in (
        "sgd",
        "momentum",
        "adam",
        "adamw",
    ):
        raise ValueError(f"unknown optimizer {config.optimizer!r}")
    if momentum is None:
        momentum = float(getattr(config, "momentum", DEFAULT_MOMENTUM))
    lines, helpers = _WRITERS[framework](config, mode, momentum)
    code = f"{_header(framework, config, mode, momentum)}\n" + "\n".join(lines) + "\n"
    return Snippet(
        framework=framework,
        mode=mode,
        title=f"{FRAMEWORK_LABELS[framework]} · {MODE_LABELS[mode]}",
        code=code,
        notes=_notes(framework, mode),
        helpers=helpers,
    )


def snippet_modes(config: ExplorerConfig) -> list[str]:
    """The rules the code panel offers for ``config``: every shown rule (all built-in ones if none is)."""
    return [m for m in config.paths if m in SNIPPET_MODES] or ["none", "value", "norm"]


def code_snippets(config: ExplorerConfig, *, momentum: float | None = None) -> dict[tuple[str, str], Snippet]:
    """Snippets for every framework and every clipping rule the config shows.

    Returns:
      {(framework, mode): Snippet} for the rules in ``config.paths`` (the
      three built-in ones if it is empty), frameworks in the order of
      ``FRAMEWORKS``.
    """
    return {
        (framework, mode): code_snippet(config, framework, mode, momentum=momentum)
        for framework in FRAMEWORKS
        for mode in snippet_modes(config)
    }
