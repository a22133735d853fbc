"""Gradient clipping rules, and their registry.

Each rule is a pure function ``rule(g, c) -> g'`` registered once, with
everything the app shows about it (label, colour, dash, marker) and, if it
has one, a batched form for the sweeps. ``register_clip_rule`` is the one
call; the engine, the sweeps, the Explorer's URL and figures, the narration
and the exports all read the registry. ``clip_gradient`` is jittable with
``mode`` static and the threshold traced.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypedDict, Unpack

import jax
import jax.core
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

if TYPE_CHECKING:
    import optax

from ._jaxsetup import QUICK_COMPILE
from .validation import positive_number

ClipRule = Callable[..., jax.Array]
#: ``batched(grads (n, d), thresholds (n,)) -> clipped (n, d)``: the rule on many cells at once.
BatchedClipRule = Callable[..., jax.Array]
#: ``transform(threshold, **options)`` or ``wrap(inner, threshold, **options)``: an optax transformation.
TransformFactory = Callable[..., "optax.GradientTransformation"]


@dataclass(frozen=True)
class ClipOption:
    """One option of a rule besides its threshold (``clip_options={name: value}``).

    The value is traced (a new value never recompiles). ``low``/``high``
    bound it (``open`` ends exclude the bound); ``integer`` asks for a whole
    number; ``none_means`` is the value ``None`` stands for (e.g. ``inf``:
    "no cap"), or None if ``None`` is refused.
    """

    name: str
    default: float | None
    description: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    none_means: float | None = None

    def check(self, rule: str, value: object) -> float:
        """``value`` as the float the programs use, or a ValueError naming the option and the value."""
        if value is None:
            if self.none_means is None:
                raise ValueError(f"option {self.name!r} of {rule!r} must be a number, got None")
            return float(self.none_means)
        if isinstance(value, bool):
            raise ValueError(f"option {self.name!r} of {rule!r} must be a number, got {value!r}")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"option {self.name!r} of {rule!r} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"option {self.name!r} of {rule!r} must be finite, got {value!r}")
        below = number <= self.low if self.low_open else number < self.low
        above = number >= self.high if self.high_open else number > self.high
        if below or above:
            lo = "(" if self.low_open else "["
            hi = ")" if self.high_open else "]"
            raise ValueError(
                f"option {self.name!r} of {rule!r} must lie in {lo}{self.low:g}, {self.high:g}{hi}, "
                f"got {value!r}"
            )
        if self.integer and not number.is_integer():
            raise ValueError(f"option {self.name!r} of {rule!r} must be a whole number, got {value!r}")
        return number


@dataclass(frozen=True)
class ClipRuleSpec:
    """A registered clipping rule and how the app shows it.

    Attributes:
      name: the key (``simulate(..., clip=name)``, the URL's ``paths``).
      rule: ``rule(g, c) -> g``, pure and jittable, ``c`` possibly traced.
      label: the learner-facing name ("norm clipping").
      color, dash, marker: how its path is drawn, on every page.
      batched: the rule on a batch of cells for the sweeps, or None for
        ``jax.vmap(rule)``.
      sweep_tolerance: how far a sweep cell may differ from ``simulate``'s run
        (relative, on the final point): 0 means bit for bit. ``jax.vmap`` of a
        rule that takes a norm may round it differently from the one-cell
        program, and near a cliff that last digit grows; a rule with an exact
        ``batched`` form states 0.
      description: one line saying what the rule does (for the app).
      source: where the rule is defined (paper or library function).
      options: the rule's options besides the threshold (``ClipOption``s),
        passed as ``clip_options``; a stateless ``rule`` receives them as
        keyword arguments, as does ``batched``.
      default_threshold: the threshold used when a call gives none.
      threshold_max: the largest threshold accepted (100 for a percentile).
      threshold_meaning: what the threshold is ("the norm c", "the
        percentile p", "the z limit").
      transform: for a rule with state: ``transform(threshold, **options) ->
        optax.GradientTransformation`` mapping the raw gradient (with
        ``placement="direction"``: the optimizer's direction) to the clipped
        one, with explicit state. A state with a ``threshold`` field is the
        rule's own effective threshold at that step (recorded in
        ``Trajectory.clip_threshold``).
      wrap: for a rule that decides whether a step happens at all:
        ``wrap(inner, threshold, **options) -> optax.GradientTransformation``
        around the optimizer ``inner``; its state's ``skipped`` field says
        whether the step was skipped (counted as fired).
      placement: ``"gradient"`` (the rule acts on the raw gradient, before
        the optimizer), ``"direction"`` (after the optimizer's scaling,
        before the learning rate) or ``"gate"`` (``wrap``).
      uses_threshold: False for a rule that ignores the threshold (``none``:
        its recorded threshold is ``inf``).
      history: True for a rule whose ``transform`` keeps a per-step history
        and takes a static ``capacity`` (its length; AutoClip).
    """

    name: str
    rule: ClipRule
    label: str
    color: str
    dash: str = "solid"
    marker: str = "circle"
    batched: BatchedClipRule | None = None
    sweep_tolerance: float = 0.0
    description: str = ""
    source: str = ""
    options: tuple[ClipOption, ...] = ()
    default_threshold: float = 1.0
    threshold_max: float = math.inf
    threshold_meaning: str = "the norm c"
    transform: TransformFactory | None = None
    wrap: TransformFactory | None = None
    placement: str = "gradient"
    uses_threshold: bool = True
    history: bool = False

    @property
    def stateful(self) -> bool:
        """Whether the rule carries state from step to step (or needs the parameters)."""
        return self.transform is not None or self.wrap is not None

    @property
    def option_defaults(self) -> dict[str, float | None]:
        return {option.name: option.default for option in self.options}


#: Every registered rule, by name, in registration order.
CLIP_SPECS: dict[str, ClipRuleSpec] = {}
#: The bare rules by name (what the jitted programs call).
CLIP_RULES: dict[str, ClipRule] = {}


def register_clip_rule(
    name: str,
    rule: ClipRule,
    *,
    label: str,
    color: str,
    dash: str = "solid",
    marker: str = "circle",
    batched: BatchedClipRule | None = None,
    sweep_tolerance: float | None = None,
    description: str = "",
    source: str = "",
    options: tuple[ClipOption, ...] = (),
    default_threshold: float = 1.0,
    threshold_max: float = math.inf,
    threshold_meaning: str = "the norm c",
    transform: TransformFactory | None = None,
    wrap: TransformFactory | None = None,
    placement: str | None = None,
    uses_threshold: bool = True,
    history: bool = False,
) -> ClipRuleSpec:
    """Registers a clipping rule everywhere at once.

    After this call ``simulate(..., clip=name)``, ``sweep_starts(..., clip=name)``,
    the Explorer's ``paths=...,name``, its map and history figures and the
    exports all know the rule.

    Args:
      name: a new key (lower-case letters, digits and ``_``).
      rule: ``rule(g, c) -> g``: pure, jittable, with a possibly traced ``c``.
      label, color, dash, marker: how the app names and draws it.
      batched: an exact batched form for the sweeps (see ``ClipRuleSpec``).
      sweep_tolerance: the stated tolerance of sweep cells against ``simulate``;
        defaults to 0 with ``batched`` and to 1e-9 without (``jax.vmap``).
      description, source, options, default_threshold, threshold_max,
        threshold_meaning, transform, wrap, placement, uses_threshold, history: see
        ``ClipRuleSpec`` (``placement`` defaults to ``"gate"`` with ``wrap``,
        else ``"gradient"``).

    Returns:
      The registered ``ClipRuleSpec``.

    >>> import jax.numpy as jnp
    >>> spec = register_clip_rule("halve", lambda g, c: g / 2, label="halving", color="#000000")
    >>> clip_gradient(jnp.array([2.0, 4.0]), "halve", 1.0).tolist()
    [1.0, 2.0]
    >>> unregister_clip_rule("halve")
    """
    if not (name and name.replace("_", "").isalnum() and name.islower()):
        raise ValueError(f"a rule name must be lower-case letters, digits and '_', got {name!r}")
    if name in CLIP_SPECS:
        raise ValueError(f"a clipping rule named {name!r} is already registered")
    if not callable(rule):
        raise ValueError(f"rule must be a function rule(g, c) -> g, got {rule!r}")
    tolerance = (0.0 if batched is not None else 1e-9) if sweep_tolerance is None else float(sweep_tolerance)
    placement = placement or ("gate" if wrap is not None else "gradient")
    if placement not in ("gradient", "direction", "gate"):
        raise ValueError(f"placement must be 'gradient', 'direction' or 'gate', got {placement!r}")
    if placement == "gate" and wrap is None:
        raise ValueError("a rule with placement 'gate' needs wrap(inner, threshold, **options)")
    if placement == "direction" and transform is None:
        raise ValueError("a rule with placement 'direction' needs transform(threshold, **options)")
    spec = ClipRuleSpec(
        name,
        rule,
        label,
        color,
        dash,
        marker,
        batched,
        tolerance,
        description,
        source,
        tuple(options),
        float(default_threshold),
        float(threshold_max),
        threshold_meaning,
        transform,
        wrap,
        placement,
        uses_threshold,
        history,
    )
    CLIP_SPECS[name] = spec
    CLIP_RULES[name] = rule
    return spec


def unregister_clip_rule(name: str) -> None:
    """Removes a rule registered from a notebook or a test (the built-in ones stay)."""
    if name in BUILTIN_RULES:
        raise ValueError(f"{name!r} is a built-in rule and cannot be removed")
    CLIP_SPECS.pop(name, None)
    CLIP_RULES.pop(name, None)


class ClipRuleStyle(TypedDict, total=False):
    """The text keywords ``clip_rule`` passes on to ``register_clip_rule``."""

    dash: str
    marker: str
    description: str
    source: str
    threshold_meaning: str
    placement: str


def clip_rule(
    mode: str, *, label: str | None = None, color: str = "#555555", **style: Unpack[ClipRuleStyle]
) -> Callable[[ClipRule], ClipRule]:
    """Decorator form of ``register_clip_rule`` (the label defaults to the name)."""

    def decorate(rule: ClipRule) -> ClipRule:
        register_clip_rule(mode, rule, label=label or mode, color=color, **style)
        return rule

    return decorate


class _SpecField(Mapping[str, str]):
    """A live read-only view of one field of every registered rule (e.g. the colours)."""

    def __init__(self, field: str):
        self._field = field

    def __getitem__(self, name: str) -> str:
        return getattr(CLIP_SPECS[name], self._field)

    def __iter__(self) -> Iterator[str]:
        return iter(CLIP_SPECS)

    def __len__(self) -> int:
        return len(CLIP_SPECS)


#: Each rule's label, colour, dash and marker, by name (always in step with the registry).
MODE_LABELS: Mapping[str, str] = _SpecField("label")
MODE_COLORS: Mapping[str, str] = _SpecField("color")
MODE_DASHES: Mapping[str, str] = _SpecField("dash")
MODE_MARKERS: Mapping[str, str] = _SpecField("marker")


def _no_clip(g: jax.Array, c: jax.Array) -> jax.Array:
    return g


def _clip_value(g: jax.Array, c: jax.Array) -> jax.Array:
    """Clamps each component to [-c, c] (torch clip_grad_value_, optax.clip)."""
    return jnp.clip(g, -c, c)


# Norms are taken after scaling g by a power of two when its largest
# component is so large that its square overflows (|g| >= ~1e154 in float64)
# or so small that its square underflows (|g| <= ~1e-154). A power of two
# scales exactly, so in between (every ordinary gradient) the arithmetic is
# the plain sqrt(g0 * g0 + g1 * g1) bit for bit, and outside it the norm is
# still right instead of inf (a zero step) or 0 (never clipping).
# (above, rescale by, below, rescale by) per dtype; the scaled squares stay
# well inside the normal range.
_NORM_SCALES = {
    "float64": (2.0**500, 2.0**-600, 2.0**-500, 2.0**600),
    "float32": (2.0**50, 2.0**-70, 2.0**-50, 2.0**70),
}


def _norm_scale(m: jax.Array, dtype) -> jax.Array:
    """The power of two that brings ``m`` = max |g_i| into the safe range (1 when it is already)."""
    big, down, small, up = _NORM_SCALES.get(str(jnp.dtype(dtype)), _NORM_SCALES["float64"])
    return jnp.where(m > big, down, jnp.where(m < small, up, 1.0)).astype(dtype)


def scaled_norm(g0: jax.Array, g1: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The length of (g0, g1) elementwise, without overflow or underflow.

    Returns:
      (norm, s, scaled_norm): ``s`` is a power of two (1 for ordinary
      values) and ``scaled_norm`` the length of (s g0, s g1), so ``norm =
      scaled_norm / s`` (which overflows only where the length itself is
      beyond the largest float).

    Written per component (``g0 * g0 + g1 * g1``) so that a batch of cells
    and the one-cell program compile to the same arithmetic (see
    ``sweeps._clip_cells``).
    """
    s = _norm_scale(jnp.maximum(jnp.abs(g0), jnp.abs(g1)), jnp.result_type(g0, g1))
    a0, a1 = g0 * s, g1 * s
    inner = jnp.sqrt(a0 * a0 + a1 * a1)
    return inner / s, s, inner


def vector_norms(v: np.ndarray) -> np.ndarray:
    """NumPy: the length of each row of ``v`` (k, 2), scaled like ``scaled_norm``.

    For ordinary values this is ``sqrt(v0**2 + v1**2)`` bit for bit (so the
    reported norms agree with the ones the clipping rule compared with c);
    a 1e200 gradient has length 1e200, not inf.
    """
    v = np.asarray(v)
    dtype = v.dtype if np.issubdtype(v.dtype, np.floating) else np.dtype(float)
    v = v.astype(float).reshape(-1, 2)
    m = np.max(np.abs(v), axis=1) if v.size else np.zeros(0)
    big, down, small, up = _NORM_SCALES["float64"]
    with np.errstate(invalid="ignore"):
        s = np.where(m > big, down, np.where(m < small, up, 1.0))
    a0, a1 = v[:, 0] * s, v[:, 1] * s
    with np.errstate(over="ignore"):
        return (np.sqrt(a0 * a0 + a1 * a1) / s).astype(dtype)  # a float32 run's norms stay float32


def _clip_scaled(g: jax.Array, c: jax.Array, s: jax.Array, inner: jax.Array, norm: jax.Array) -> jax.Array:
    """g rescaled to length c where norm > c: (s g) (c / ||s g||), exact when s = 1."""
    over = norm > c
    # Both branches are evaluated: guard the division where g = 0 (norm 0).
    ratio = c / jnp.where(over, inner, 1.0)
    return jnp.where(over, (g * s) * ratio, g)


def _clip_norm(g: jax.Array, c: jax.Array) -> jax.Array:
    """Rescales g to length c exactly when ||g|| > c; no epsilon (Goodfellow eq. 10.48).

    The norm is computed scaled (``scaled_norm``): a gradient of 1e200 is
    clipped to length c, not to a zero step, and one of 1e-170 is still
    clipped when c is smaller.
    """
    if g.size == 2:
        flat = g.reshape(2)
        norm, s, inner = scaled_norm(flat[0], flat[1])
    else:
        s = _norm_scale(jnp.max(jnp.abs(g)), g.dtype)
        inner = jnp.sqrt(jnp.sum((g * s) * (g * s)))
        norm = inner / s
    return _clip_scaled(g, c, s, inner, norm)


def _clip_norm_batched(grad: jax.Array, threshold: jax.Array) -> jax.Array:
    """``_clip_norm`` on each row of ``grad`` (n, 2), each with its own threshold (n,).

    ``jax.vmap(_clip_norm)`` lets XLA round ||g||^2 differently from the
    one-cell program ``simulate`` runs (the last digit of a few gradients in
    a hundred, once a block holds about 2000 cells or more); near a cliff
    that digit grows into a different path within a few hundred steps.
    Written per component with ``scaled_norm`` (``g0 * g0 + g1 * g1`` after
    an exact power-of-two scaling, so 1e200 and 1e-170 gradients clip right)
    it compiles to the same arithmetic as the one-cell program, so each sweep
    cell is bit for bit the run ``simulate`` makes (tested). Other shapes
    fall back to ``vmap``.
    """
    if grad.shape[1] != 2:
        return jax.vmap(_clip_norm)(grad, threshold)
    norm, s, inner = scaled_norm(grad[:, 0], grad[:, 1])
    over = norm > threshold
    ratio = threshold / jnp.where(over, inner, 1.0)
    return jnp.where(over[:, None], (grad * s[:, None]) * ratio[:, None], grad)


def _clip_norm_torch(g: jax.Array, c: jax.Array) -> jax.Array:
    """torch.nn.utils.clip_grad_norm_: g * min(1, c / (||g|| + 1e-6)), at every step.

    The norm is the scaled one (``scaled_norm``), so a 1e200 gradient still
    has length 1e200; below c the factor is exactly 1 (g unchanged).
    """
    flat = g.reshape(-1)
    norm, _, _ = scaled_norm(flat[0], flat[1]) if g.size == 2 else (jnp.sqrt(jnp.sum(g * g)), None, None)
    return g * jnp.minimum(1.0, c / (norm + jnp.asarray(1e-6, g.dtype)))


def _clip_norm_torch_batched(grad: jax.Array, threshold: jax.Array) -> jax.Array:
    norm, _, _ = scaled_norm(grad[:, 0], grad[:, 1])
    return grad * jnp.minimum(1.0, threshold / (norm + jnp.asarray(1e-6, grad.dtype)))[:, None]


def _clip_per_variable(g: jax.Array, c: jax.Array) -> jax.Array:
    """Keras ``clipnorm``: each variable (here each of the two scalars) clipped to its own norm.

    ``g_i * c / |g_i|`` where ``|g_i| > c``, as ``tf.clip_by_norm`` computes it
    (``(g_i c) / max(|g_i|, c)``); at or below c g_i is kept exactly (Keras'
    formula gives g_i c / c there, within one rounding of g_i). On scalars a
    variable's norm is its absolute value, so this is value clipping up to
    the last digit.
    """
    size = jnp.abs(g)
    return jnp.where(size > c, (g * c) / jnp.where(size > c, size, 1.0), g)


def _clip_per_variable_batched(grad: jax.Array, threshold: jax.Array) -> jax.Array:
    return _clip_per_variable(grad, threshold[:, None])


def _normalize(g: jax.Array, c: jax.Array, beta: jax.Array | float = 1e-6) -> jax.Array:
    """Normalized gradient descent: g * (c / (||g|| + beta)) at every step (Zhang et al. 2020)."""
    flat = g.reshape(-1)
    norm, _, _ = scaled_norm(flat[0], flat[1]) if g.size == 2 else (jnp.sqrt(jnp.sum(g * g)), None, None)
    return g * (c / (norm + jnp.asarray(beta, g.dtype)))


def _normalize_batched(grad: jax.Array, threshold: jax.Array, beta: jax.Array | float = 1e-6) -> jax.Array:
    norm, _, _ = scaled_norm(grad[:, 0], grad[:, 1])
    return grad * (threshold / (norm + jnp.asarray(beta, grad.dtype)))[:, None]


# Okabe & Ito's colour-blind-safe palette; dashes and markers differ too, so the
# rules stay apart in greyscale and on a washed-out projector.
register_clip_rule(
    "none",
    _no_clip,
    label="no clipping",
    color="#D55E00",
    dash="solid",
    marker="circle",
    batched=lambda g, c: g,
    description="The raw gradient, unchanged: the step is lr times the gradient, however steep the cliff.",
    source="plain gradient descent",
    threshold_meaning="unused",
    uses_threshold=False,
)
register_clip_rule(
    "value",
    _clip_value,
    label="value clipping",
    color="#0072B2",
    dash="dash",
    marker="square",
    batched=lambda g, c: jnp.clip(g, -c[:, None], c[:, None]),
    description="Each component clamped to [-c, c]: the step stays bounded but its direction can turn.",
    source="torch.nn.utils.clip_grad_value_, optax.clip, Keras clipvalue",
)
register_clip_rule(
    "norm",
    _clip_norm,
    label="norm clipping",
    color="#009E73",
    dash="dot",
    marker="diamond",
    batched=_clip_norm_batched,
    description="Where ||g|| > c the gradient is rescaled to length c exactly; its direction is kept.",
    source="Pascanu et al. 2013, Alg. 1; Goodfellow et al. eq. 10.48; optax.clip_by_global_norm",
)
#: The rules the app ships with (they cannot be unregistered; the Explorer shows them by default).
BUILTIN_RULES = ("none", "value", "norm")

register_clip_rule(
    "norm_torch",
    _clip_norm_torch,
    label="torch norm clipping",
    color="#CC79A7",
    dash="longdash",
    marker="triangle-up",
    batched=_clip_norm_torch_batched,
    description=(
        "PyTorch's clip_grad_norm_: g times min(1, c / (||g|| + 1e-6)) at every step, so a gradient "
        "of length exactly c is still shrunk a little."
    ),
    source="torch.nn.utils.clip_grad_norm_",
)
register_clip_rule(
    "per_variable",
    _clip_per_variable,
    label="per-variable clipping (Keras clipnorm)",
    color="#661100",
    dash="dashdot",
    marker="x",
    batched=_clip_per_variable_batched,
    description=(
        "Keras' clipnorm: each variable is clipped to its own norm c. Here w and b are two separate "
        "scalar variables, so this is value clipping (up to the last digit) and the direction can turn."
    ),
    source="Keras 3 optimizer clipnorm (tf.clip_by_norm per variable)",
)
register_clip_rule(
    "normalize",
    _normalize,
    label="normalized gradient",
    color="#E69F00",
    dash="longdashdot",
    marker="star",
    batched=_normalize_batched,
    description=(
        "Normalized gradient descent: g times c / (||g|| + beta) at every step, so each plain step has "
        "length close to lr times c, on the plateau as on the cliff."
    ),
    source="Zhang, He, Sra & Jadbabaie 2020 (normalized GD)",
    options=(
        ClipOption(
            "beta",
            1e-6,
            "added to the norm so a zero gradient gives a zero step",
            low=0.0,
            low_open=True,
        ),
    ),
)


def clip_modes() -> list[str]:
    """The registered clipping modes."""
    return list(CLIP_RULES)


def check_clip(mode: str, threshold: object, *, default: bool = False) -> float:
    """Validates a mode and a threshold; returns the threshold as a float.

    With ``default=True``, ``threshold=None`` stands for the rule's
    ``default_threshold`` (what ``simulate`` and the sweeps do).

    Raises:
      ValueError: for an unknown mode, or a threshold that is not a finite
        positive number (or above the rule's ``threshold_max``); the message
        names the bad value.
    """
    if mode not in CLIP_RULES or mode not in CLIP_SPECS:
        raise ValueError(f"unknown clipping mode {mode!r}; choose one of {', '.join(CLIP_RULES)}")
    spec = CLIP_SPECS[mode]
    if threshold is None and default:
        return spec.default_threshold
    number = positive_number("clipping threshold", threshold)
    if number > spec.threshold_max:
        raise ValueError(
            f"clipping threshold of {mode!r} ({spec.threshold_meaning}) must be at most "
            f"{spec.threshold_max:g}, got {threshold!r}"
        )
    return number


def check_clip_options(mode: str, options: Mapping[str, object] | None) -> dict[str, float]:
    """A rule's options, defaults filled in, as the floats its program traces.

    Raises:
      ValueError: for an unknown mode, an option the rule does not have (the
        message lists the ones it has), or a bad value.
    """
    check_clip(mode, None, default=True)
    spec = CLIP_SPECS[mode]
    given = {} if options is None else options
    if not isinstance(given, Mapping):
        raise ValueError(f"clip_options must be a mapping of option names to values, got {options!r}")
    known = {option.name: option for option in spec.options}
    unknown = [name for name in given if name not in known]
    if unknown:
        has = ", ".join(known) if known else "none"
        raise ValueError(f"clipping rule {mode!r} has no option {unknown[0]!r} (its options: {has})")
    return {name: option.check(mode, given.get(name, option.default)) for name, option in known.items()}


def clip_gradient(
    g: ArrayLike, mode: str, threshold: ArrayLike, clip_options: Mapping[str, object] | None = None
) -> jax.Array:
    """Clips a gradient by the rule ``mode``.

    Args:
      g: the raw gradient (any shape; norms are taken over all of it).
      mode: ``"none"``, ``"value"`` or ``"norm"`` (or any registered rule).
        A rule with state is applied once from its fresh state (with zero
        parameters where it needs them).
      threshold: c > 0. Under ``jax.jit`` it may be traced; a concrete value
        is checked.
      clip_options: the rule's other options (e.g. ``{"beta": 1e-6}``).

    Returns:
      The clipped gradient, same shape and dtype as ``g``.

    Raises:
      ValueError: unknown mode, or a concrete threshold that is not finite
        and positive, or a bad option.

    >>> import jax.numpy as jnp
    >>> [round(v, 12) for v in clip_gradient(jnp.array([3.0, 4.0]), "norm", 1.0).tolist()]
    [0.6, 0.8]
    >>> [round(v, 12) for v in clip_gradient(jnp.array([3e200, 4e200]), "norm", 1.0).tolist()]
    [0.6, 0.8]
    >>> clip_gradient(jnp.array([3.0, -0.5]), "value", 1.0).tolist()
    [1.0, -0.5]
    """
    if isinstance(threshold, jax.core.Tracer):
        if mode not in CLIP_RULES:
            check_clip(mode, 1.0)
    else:
        threshold = check_clip(mode, threshold)
    options = check_clip_options(mode, clip_options) if mode in CLIP_SPECS else {}
    g = jnp.asarray(g)
    c = jnp.asarray(threshold, dtype=g.dtype)
    opts = {name: jnp.asarray(value, dtype=g.dtype) for name, value in options.items()}
    return CLIP_RULES[mode](g, c, **opts)


@partial(jax.jit, static_argnames=("mode",), compiler_options=QUICK_COMPILE)
def _clip_program(g: jax.Array, c: jax.Array, opts: dict[str, jax.Array], *, mode: str) -> jax.Array:
    return CLIP_RULES[mode](g, c, **opts)


def clip_gradient_compiled(
    g: ArrayLike, mode: str, threshold: float, clip_options: Mapping[str, object] | None = None
) -> jax.Array:
    """``clip_gradient`` as one compiled program per rule, shape and dtype.

    Run eagerly, a rule is a chain of small JAX operations, and a new process compiles each of
    them once (about 25 ms apiece here): the narration's two clips of one gradient cost 0.6 s on
    a cold start. This compiles the rule once instead, and JAX's persistent cache keeps it. The
    numbers equal ``clip_gradient``'s up to rounding in the last bit (tested): the compiled
    program may fuse the operations. Same arguments and checks as ``clip_gradient``, with a
    concrete threshold.
    """
    threshold = check_clip(mode, threshold)
    options = check_clip_options(mode, clip_options) if mode in CLIP_SPECS else {}
    # NumPy arguments: jnp.asarray would itself compile a conversion per dtype.
    g = np.asarray(g)
    c = np.asarray(threshold, dtype=g.dtype)
    opts = {name: np.asarray(value, dtype=g.dtype) for name, value in options.items()}
    return _clip_program(g, c, opts, mode=mode)


#: Public names for the exact norm clip and its scaled core (the stateful rules build on them).
clip_by_norm = _clip_norm
clip_scaled_to = _clip_scaled

# The rules with state (AGC, AutoClip, ZClip, clip-after-the-optimizer, skip)
# register themselves on import; they need the norms above.
from . import stateful_rules as _stateful_rules  # noqa: E402,F401
