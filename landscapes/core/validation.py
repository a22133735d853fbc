"""One place for checking the numbers a caller hands the engine and the sweeps.

Each check returns the value in the form the programs use, or raises a
ValueError whose message names the bad value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from jax.typing import ArrayLike

from .optimizers import OPTIMIZERS

#: The longest run ``simulate`` accepts.
MAX_STEPS = 1000


def positive_number(name: str, value: object) -> float:
    """``value`` as a float, or ValueError naming ``name`` and the bad value."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return number


def check_start(start: ArrayLike | Sequence[float]) -> np.ndarray:
    try:
        point = np.asarray(start, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"start must be two numbers (p1, p2), got {start!r}") from None
    if point.shape != (2,):
        raise ValueError(f"start must be two numbers (p1, p2), got {start!r}")
    if not np.all(np.isfinite(point)):
        raise ValueError(f"start must be finite, got {start!r}")
    return point


def check_steps(steps: object) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        try:
            as_float = float(steps)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"steps must be a whole number, got {steps!r}") from None
        if not as_float.is_integer():
            raise ValueError(f"steps must be a whole number, got {steps!r}")
        steps = int(as_float)
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must lie in [0, {MAX_STEPS}], got {steps!r}")
    return int(steps)


def check_optimizer_settings(optimizer: str, momentum: float, dtype) -> tuple[float, np.dtype]:
    """Validates the optimizer name, the momentum coefficient and the dtype."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    momentum = float(momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    dt = np.dtype(dtype)
    if dt not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return momentum, dt
