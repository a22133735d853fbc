"""Copyable code that applies the Explorer's clipping, optimizer and learning rate elsewhere.

For an ExplorerConfig, ``code_snippet`` writes a short training loop for
PyTorch, Keras 3 or JAX + optax with the same clipping rule, threshold,
optimizer and learning rate, and comments on where that library's rule
differs from the app's (torch's epsilon, Keras's per-variable ``clipnorm``,
what happens exactly at the threshold). Numbers are written with ``repr`` so
the code carries the exact values.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Literal

from ..core.engine import simulate
from ..core.optimizers import OPTIMIZER_LABELS
from ..views.config import ExplorerConfig

Framework = Literal["pytorch", "keras", "optax"]
FRAMEWORKS: tuple[str, ...] = ("pytorch", "keras", "optax")
FRAMEWORK_LABELS = {"pytorch": "PyTorch", "keras": "Keras 3", "optax": "JAX + optax"}
SNIPPET_MODES: tuple[str, ...] = ("none", "value", "norm")

#: The heavy-ball coefficient the engine uses unless told otherwise.
DEFAULT_MOMENTUM: float = inspect.signature(simulate).parameters["momentum"].default


@dataclass(frozen=True)
class Snippet:
    """A code example for one framework and one clipping mode.

    Attributes:
      framework: ``"pytorch"``, ``"keras"`` or ``"optax"``.
      mode: the clipping mode, ``"none"``, ``"value"`` or ``"norm"``.
      title: a label such as "PyTorch · norm clipping".
      code: Python source (``model``, ``loader``, ``loss_fn``, ``params``,
        ... are the reader's own objects).
      notes: sentences on how this library's rule differs from the app's.
      language: for ``st.code``.
    """

    framework: str
    mode: str
    title: str
    code: str
    notes: tuple[str, ...]
    language: str = "python"


def _num(value: float) -> str:
    """The shortest Python literal that reads back as exactly ``value``."""
    return repr(float(value))


def _header(framework: str, config: ExplorerConfig, mode: str, momentum: float) -> str:
    clip = {
        "none": "no clipping",
        "value": f"value clipping at c = {_num(config.threshold)}",
        "norm": f"norm clipping at c = {_num(config.threshold)}",
    }[mode]
    optimizer = OPTIMIZER_LABELS[config.optimizer]
    if config.optimizer == "momentum":
        optimizer += f" ({_num(momentum)})"
    params = ", ".join(f"{k}={v:g}" for k, v in config.params.items())
    where = config.landscape + (f" ({params})" if params else "")
    start = f"({config.start[0]:g}, {config.start[1]:g})"
    return (
        f"# {FRAMEWORK_LABELS[framework]}: {clip}, {optimizer}, learning rate {_num(config.lr)}.\n"
        f"# The Explorer's settings: landscape {where}, start {start}, {config.steps} steps."
    )


_EDGE_NOTE = (
    "Exactly at ||g|| = c the app leaves g untouched, Keras and optax multiply it by a factor "
    "that is 1 up to rounding, and torch shrinks it by c/(c + 1e-6)."
)


# ---------------------------------------------------------------------------
# PyTorch


def _torch(config: ExplorerConfig, mode: str, momentum: float) -> tuple[str, tuple[str, ...]]:
    lr, c = _num(config.lr), _num(config.threshold)
    optimizer = {
        "sgd": f"optimizer = torch.optim.SGD(model.parameters(), lr={lr})",
        "momentum": (
            "# Heavy ball, as in the app: v <- momentum * v + g; theta <- theta - lr * v.\n"
            f"optimizer = torch.optim.SGD(model.parameters(), lr={lr}, momentum={_num(momentum)})"
        ),
        "adam": (
            "# betas (0.9, 0.999) and eps 1e-8 are torch's defaults and optax's, as in the app.\n"
            f"optimizer = torch.optim.Adam(model.parameters(), lr={lr})"
        ),
    }[config.optimizer]
    clip = {
        "none": ["    # No clipping: step() uses the raw gradients."],
        "value": [
            "    # Clip here: after backward() has filled p.grad, before step() reads it.",
            "    # Each gradient component is clamped to [-c, c] (the direction can turn).",
            f"    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value={c})",
        ],
        "norm": [
            "    # Clip here: after backward() has filled p.grad, before step() reads it.",
            "    # torch multiplies by min(1, c / (||g|| + 1e-6)) on every call, so a clipped",
            "    # gradient comes out a hair shorter than c. The app rescales only when ||g|| > c.",
            "    # The return value is the norm *before* clipping: worth logging.",
            f"    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={c})",
        ],
    }[mode]
    lines = [
        "import torch",
        "",
        optimizer,
        "",
        "for inputs, targets in loader:",
        "    optimizer.zero_grad()",
        "    loss = loss_fn(model(inputs), targets)",
        "    loss.backward()",
        *clip,
        "    optimizer.step()",
    ]
    notes = {
        "none": (),
        "value": ("clip_grad_value_ clamps each component, exactly like the app's value clipping.",),
        "norm": (
            "clip_grad_norm_ clips the global norm over all parameters, like the app, but adds "
            "1e-6 to the norm and always multiplies, so clipped gradients are slightly shorter than c.",
            _EDGE_NOTE,
        ),
    }[mode]
    return "\n".join(lines), notes


# ---------------------------------------------------------------------------
# Keras 3


def _keras(config: ExplorerConfig, mode: str, momentum: float) -> tuple[str, tuple[str, ...]]:
    lr, c = _num(config.lr), _num(config.threshold)
    clip_arg = {"none": "", "value": f", clipvalue={c}", "norm": f", global_clipnorm={c}"}[mode]
    optimizer = {
        "sgd": [f"optimizer = keras.optimizers.SGD(learning_rate={lr}{clip_arg})"],
        "momentum": [
            "# Keras keeps v <- momentum * v - lr * g and adds v: for a fixed learning rate",
            "# that is the same path as the app's heavy ball.",
            f"optimizer = keras.optimizers.SGD(learning_rate={lr}, momentum={_num(momentum)}{clip_arg})",
        ],
        "adam": [
            "# Keras's default epsilon is 1e-7 and it is added before the bias correction;",
            "# epsilon=1e-8 brings it close to optax and torch, though not bit for bit.",
            f"optimizer = keras.optimizers.Adam(learning_rate={lr}, epsilon=1e-08{clip_arg})",
        ],
    }[config.optimizer]
    clip_comment = {
        "none": ["# No clipping: the optimizer uses the raw gradients."],
        "value": [
            "# clipvalue clamps every gradient component to [-c, c], as in the app.",
        ],
        "norm": [
            "# global_clipnorm scales all gradients together by c / max(||g||, c): the app's rule.",
            "# Not clipnorm: that clips each variable's gradient on its own, which can turn the",
            "# overall direction (with w and b as two scalar variables it acts like value clipping).",
            "# Keras accepts only one of clipnorm, clipvalue and global_clipnorm.",
        ],
    }[mode]
    lines = [
        "import keras",
        "",
        *clip_comment,
        *optimizer,
        "",
        "# The optimizer clips inside apply_gradients(): after the gradients are computed and",
        "# before the weights change, so fit() and hand-written loops both get the right order.",
        "model.compile(optimizer=optimizer, loss=loss_fn)",
        "model.fit(dataset, epochs=num_epochs)",
    ]
    notes = {
        "none": (),
        "value": ("clipvalue is element-wise clamping, the same rule as the app's value clipping.",),
        "norm": (
            "Use global_clipnorm for the app's norm clipping; clipnorm clips every variable "
            "separately and so changes the direction of the full gradient.",
            _EDGE_NOTE,
        ),
    }[mode]
    return "\n".join(lines), notes


# ---------------------------------------------------------------------------
# JAX + optax


def _optax(config: ExplorerConfig, mode: str, momentum: float) -> tuple[str, tuple[str, ...]]:
    lr, c = _num(config.lr), _num(config.threshold)
    base = {
        "sgd": f"optax.sgd(learning_rate={lr})",
        "momentum": f"optax.sgd(learning_rate={lr}, momentum={_num(momentum)})",
        "adam": f"optax.adam(learning_rate={lr})",
    }[config.optimizer]
    if mode == "none":
        setup = [f"optimizer = {base}  # no clipping"]
    else:
        clip = {"value": f"optax.clip({c})", "norm": f"optax.clip_by_global_norm({c})"}[mode]
        what = {
            "value": "clamp each component to [-c, c]",
            "norm": "rescale g to length c if longer",
        }[mode]
        setup = [
            "# Order inside chain matters, just like clipping after backward() and before step():",
            "# the clip transforms the raw gradient, the optimizer then sees the clipped one.",
            "optimizer = optax.chain(",
            f"    {clip},  # {what}",
            f"    {base},",
            ")",
        ]
        if mode == "norm":
            setup.insert(2, "# clip_by_global_norm rescales when ||g|| >= c (the app: when ||g|| > c).")
    lines = [
        "import jax",
        "import optax",
        "",
        *setup,
        "opt_state = optimizer.init(params)",
        "",
        f"for step in range({config.steps}):",
        "    grads = jax.grad(loss_fn)(params)",
        "    updates, opt_state = optimizer.update(grads, opt_state, params)",
        "    params = optax.apply_updates(params, updates)",
    ]
    notes = {
        "none": (),
        "value": ("optax.clip is element-wise clamping, the same rule as the app's value clipping.",),
        "norm": (
            "optax.clip_by_global_norm is the app's rule, except that it also rescales a "
            "gradient whose norm equals c exactly.",
            _EDGE_NOTE,
        ),
    }[mode]
    return "\n".join(lines), notes


_WRITERS = {"pytorch": _torch, "keras": _keras, "optax": _optax}


def code_snippet(
    config: ExplorerConfig, framework: str, mode: str = "norm", *, momentum: float | None = None
) -> Snippet:
    """A training loop for ``framework`` with the config's clipping, optimizer and learning rate.

    Args:
      config: the Explorer's settings (optimizer, lr, threshold, steps, ...).
      framework: ``"pytorch"``, ``"keras"`` or ``"optax"``.
      mode: ``"none"``, ``"value"`` or ``"norm"``.
      momentum: the heavy-ball coefficient; defaults to the config's if it
        has one, else the engine's default (0.9).

    Returns:
      A Snippet whose ``code`` parses as Python.

    Raises:
      ValueError: for an unknown framework, mode or optimizer.
    """
    if framework not in _WRITERS:
        raise ValueError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
    if mode not in SNIPPET_MODES:
        raise ValueError(f"unknown clipping mode {mode!r}; choose one of {', '.join(SNIPPET_MODES)}")
    if config.optimizer not in OPTIMIZER_LABELS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}")
    if momentum is None:
        momentum = float(getattr(config, "momentum", DEFAULT_MOMENTUM))
    body, notes = _WRITERS[framework](config, mode, momentum)
    label = {"none": "no clipping", "value": "value clipping", "norm": "norm clipping"}[mode]
    code = f"{_header(framework, config, mode, momentum)}\n{body}\n"
    return Snippet(
        framework=framework,
        mode=mode,
        title=f"{FRAMEWORK_LABELS[framework]} · {label}",
        code=code,
        notes=notes,
    )


def code_snippets(config: ExplorerConfig, *, momentum: float | None = None) -> dict[tuple[str, str], Snippet]:
    """Snippets for every framework and every clipping mode the config shows.

    Returns:
      {(framework, mode): Snippet} for the modes in ``config.paths`` (all
      three if it is empty), frameworks in the order of ``FRAMEWORKS``.
    """
    modes = [m for m in SNIPPET_MODES if m in config.paths] or list(SNIPPET_MODES)
    return {
        (framework, mode): code_snippet(config, framework, mode, momentum=momentum)
        for framework in FRAMEWORKS
        for mode in modes
    }
