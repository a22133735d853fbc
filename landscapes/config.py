"""The Explorer's settings as one frozen value, and its round trip through a URL.

Every setting a learner can change lives in ``ExplorerConfig``. A shared link
carries it as query parameters; ``from_query`` reads them back and replaces
anything malformed or out of range by the nearest valid value, returning a
notice for each replacement instead of raising.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .clipping import clip_modes
from .engine import MAX_STEPS, OPTIMIZERS
from .registry import Landscape, get_landscape, list_landscapes

#: Slider ranges of the app (the engine accepts wider ones).
LR_RANGE = (1e-3, 10.0)
THRESHOLD_RANGE = (1e-2, 1e2)
STEPS_RANGE = (1, MAX_STEPS)
PATH_MODES = ("none", "value", "norm")


@dataclass(frozen=True)
class ExplorerConfig:
    """Everything that defines one Explorer view."""

    landscape: str = "pascanu"
    params: Mapping[str, float] = field(default_factory=lambda: {"T": 50})
    start: tuple[float, float] = (4.7, -2.2)
    lr: float = 0.5
    threshold: float = 1.0
    steps: int = 60
    optimizer: str = "sgd"
    paths: tuple[str, ...] = PATH_MODES
    view3d: bool = False
    present: bool = False

    @property
    def scape(self) -> Landscape:
        return get_landscape(self.landscape)

    def with_landscape(self, name: str) -> ExplorerConfig:
        """The same settings on another landscape, at its defaults for start and parameters."""
        scape = get_landscape(name)
        return replace(self, landscape=name, params=scape.defaults(), start=scape.default_start)


def _number(raw: object) -> float | None:
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def from_query(query: Mapping[str, object]) -> tuple[ExplorerConfig, list[str]]:
    """Reads an ExplorerConfig from URL query parameters.

    Unknown keys are ignored; a malformed or out-of-range value is replaced by
    the nearest valid one (or the default when nothing is near), and each such
    replacement adds a sentence to the returned notices. Never raises.
    """
    notices: list[str] = []
    default = ExplorerConfig()

    def get(key: str) -> str | None:
        value = query.get(key)
        if isinstance(value, list):
            value = value[-1] if value else None
        return None if value is None else str(value)

    def bounded(key: str, label: str, low: float, high: float, fallback: float, integer=False) -> float:
        raw = get(key)
        if raw is None:
            return fallback
        value = _number(raw)
        if value is None:
            notices.append(f"{label} {raw!r} is not a number; using {_fmt(fallback)}.")
            return fallback
        clamped = min(max(value, low), high)
        if integer:
            clamped = float(round(clamped))
        if clamped != value:
            problem = (
                "is not a whole number" if low <= value <= high else f"is outside [{_fmt(low)}, {_fmt(high)}]"
            )
            notices.append(f"{label} {raw} {problem}; using {_fmt(clamped)}.")
        return clamped

    name = get("landscape")
    names = [s.name for s in list_landscapes()]
    if name is None:
        name = default.landscape
    elif name not in names:
        notices.append(f"Unknown landscape {name!r}; showing {default.landscape!r}.")
        name = default.landscape
    scape = get_landscape(name)
    base = default.with_landscape(name) if name != default.landscape else default

    params = {
        spec.name: bounded(spec.name, spec.label, spec.low, spec.high, spec.default, spec.integer)
        for spec in scape.params
    }

    (x0, x1), (y0, y1) = scape.window
    start = base.start
    raw_start = get("start")
    if raw_start is not None:
        parts = [_number(p) for p in raw_start.split(",")]
        if len(parts) != 2 or None in parts:
            notices.append(f"Start {raw_start!r} is not two numbers 'p1,p2'; using the default start.")
        else:
            px, py = parts
            cx, cy = min(max(px, x0), x1), min(max(py, y0), y1)
            if (cx, cy) != (px, py):
                notices.append(
                    f"Start ({raw_start}) lies outside the window; moved to ({_fmt(cx)}, {_fmt(cy)})."
                )
            start = (cx, cy)

    optimizer = get("opt") or base.optimizer
    if optimizer not in OPTIMIZERS:
        notices.append(f"Unknown optimizer {optimizer!r}; using {base.optimizer!r}.")
        optimizer = base.optimizer

    paths = base.paths
    raw_paths = get("paths")
    if raw_paths is not None:
        wanted = [p.strip() for p in raw_paths.split(",") if p.strip()]
        valid = [p for p in PATH_MODES if p in wanted]
        bad = [p for p in wanted if p not in clip_modes() or p not in PATH_MODES]
        if bad:
            notices.append(f"Unknown clipping mode(s) {', '.join(map(repr, bad))} ignored.")
        paths = tuple(valid)

    def flag(key: str) -> bool:
        raw = get(key)
        if raw is None:
            return False
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() not in ("0", "false", "no", "off", ""):
            notices.append(f"{key}={raw!r} is not on/off; treating it as off.")
        return False

    config = ExplorerConfig(
        landscape=name,
        params=params,
        start=start,
        lr=bounded("lr", "Learning rate", *LR_RANGE, base.lr),
        threshold=bounded("c", "Threshold c", *THRESHOLD_RANGE, base.threshold),
        steps=int(bounded("steps", "Steps", *STEPS_RANGE, base.steps, integer=True)),
        optimizer=optimizer,
        paths=paths,
        view3d=flag("view3d"),
        present=flag("present"),
    )
    return config, notices


def to_query(config: ExplorerConfig) -> dict[str, str]:
    """The query parameters that reproduce ``config`` (compact, human-readable)."""
    query = {
        "landscape": config.landscape,
        **{k: _fmt(v) for k, v in config.params.items()},
        "start": f"{_fmt(config.start[0])},{_fmt(config.start[1])}",
        "lr": _fmt(config.lr),
        "c": _fmt(config.threshold),
        "steps": str(config.steps),
        "opt": config.optimizer,
        "paths": ",".join(config.paths),
    }
    if config.view3d:
        query["view3d"] = "1"
    if config.present:
        query["present"] = "1"
    return query
