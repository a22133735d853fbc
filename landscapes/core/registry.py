"""The landscape registry: objectives plus the metadata the app and notebooks need."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import numpy as np
from numpy.typing import DTypeLike

Window = tuple[tuple[float, float], tuple[float, float]]
LossFn = Callable[[jax.Array, jax.Array], jax.Array]
WallFn = Callable[[Mapping[str, float], Window], list[np.ndarray]]


@dataclass(frozen=True)
class ParamSpec:
    """A tunable parameter of a landscape (for example the RNN's unrolled length T).

    Attributes:
      name: keyword used by ``simulate(..., name=value)``.
      label: short text for a slider.
      default: value used when the caller does not give one.
      low, high: the inclusive valid range.
      integer: whether only whole numbers are valid.
      log: whether a slider should move on a log scale.
      help: one sentence for the learner.
    """

    name: str
    label: str
    default: float
    low: float
    high: float
    integer: bool = False
    log: bool = False
    help: str = ""

    def validate(self, value: object) -> float:
        """Returns ``value`` as a float, or raises ValueError saying what is wrong."""
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{self.name} must be finite, got {value!r}")
        if self.integer and number != int(number):
            raise ValueError(f"{self.name} must be a whole number, got {value!r}")
        if not self.low <= number <= self.high:
            raise ValueError(f"{self.name} must lie in [{_fmt(self.low)}, {_fmt(self.high)}], got {value!r}")
        return number

    def clamp(self, value: float) -> float:
        """The nearest valid value to ``value`` (rounded for integer parameters)."""
        number = min(max(float(value), self.low), self.high)
        return float(round(number)) if self.integer else number


def _fmt(x: float) -> str:
    return f"{x:g}"


def _no_walls(params: Mapping[str, float], window: Window) -> list[np.ndarray]:
    return []


@dataclass(frozen=True)
class Landscape:
    """A cliff-shaped objective of two parameters, with its metadata.

    ``loss(theta, p)`` is a pure JAX function of ``theta = (p1, p2)`` and the
    vector ``p`` of tunable parameters in the order of ``params``. Use
    ``resolve_params`` to build ``p`` from keywords.

    ``walls(params, window)`` returns polylines (arrays of shape (n, 2)) along
    which the cliff stands, so figures can draw it exactly even where a mesh
    would undersample it.
    """

    name: str
    title: str
    formula: str
    description: str
    source: str
    param_names: tuple[str, str]
    axis_labels: tuple[str, str]
    window: Window
    default_start: tuple[float, float]
    loss: LossFn
    params: tuple[ParamSpec, ...] = ()
    walls: WallFn = field(default=_no_walls)
    minimum: str = ""

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, float]:
        """The tunable parameters at their default values."""
        return {spec.name: spec.default for spec in self.params}

    def resolve_params(self, **params: object) -> dict[str, float]:
        """Validates keyword parameters and fills in defaults.

        Raises:
          ValueError: for an unknown name or an invalid value; the message
            names the parameter and its valid range.
        """
        known = {spec.name for spec in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            valid = ", ".join(sorted(known)) or "none"
            raise ValueError(
                f"landscape {self.name!r} has no parameter {', '.join(unknown)} (its parameters: {valid})"
            )
        return {
            spec.name: spec.validate(params[spec.name]) if spec.name in params else spec.default
            for spec in self.params
        }

    def param_vector(self, params: Mapping[str, float], dtype: DTypeLike = np.float64) -> np.ndarray:
        """The parameters in the order ``loss`` expects (validated values only)."""
        return np.array([params[spec.name] for spec in self.params], dtype=dtype)


_REGISTRY: dict[str, Landscape] = {}


def register(landscape: Landscape) -> Landscape:
    """Adds a landscape to the registry under its ``name``."""
    if landscape.name in _REGISTRY:
        raise ValueError(f"a landscape named {landscape.name!r} is registered already")
    _REGISTRY[landscape.name] = landscape
    return landscape


def get_landscape(name: str | Landscape) -> Landscape:
    """Looks a landscape up by name (a ``Landscape`` is returned as it is).

    Raises:
      ValueError: if no landscape has that name; the message lists the names.
    """
    if isinstance(name, Landscape):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown landscape {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def list_landscapes() -> list[Landscape]:
    """All registered landscapes, in registration order."""
    return list(_REGISTRY.values())
