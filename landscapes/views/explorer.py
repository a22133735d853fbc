"""Everything the Explorer page computes for one configuration, in one call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from ..core.engine import ClipMode, Trajectory, simulate_many, simulate_modes
from ..core.outcomes import OUTCOME_LABELS, OUTCOMES, TRAIN_FRACTION, classify, train_tolerance
from ..core.registry import Window
from .config import LR_CHOICES, PATH_MODES, THRESHOLD_CHOICES, ExplorerConfig, own_threshold


@dataclass(frozen=True)
class ExplorerRuns:
    """The runs of one configuration: the built-in rules (even hidden) and every shown rule."""

    config: ExplorerConfig
    runs: dict[str, Trajectory]
    window: Window

    def visible(self) -> dict[str, Trajectory]:
        return {mode: self.runs[mode] for mode in self.config.paths}


def view_modes(config: ExplorerConfig) -> tuple[str, ...]:
    """The rules a view runs: the built-in ones (the narration compares them even when hidden),
    then every other rule the configuration shows."""
    return PATH_MODES + tuple(m for m in config.paths if m not in PATH_MODES)


def run_modes(config: ExplorerConfig, modes: tuple[str, ...] | None = None) -> ExplorerRuns:
    """Runs ``config`` once per clipping mode, from the same start.

    By default: the built-in modes (the narration compares them even when
    hidden) and every other mode the configuration shows.
    """
    if modes is None:
        modes = view_modes(config)
    runs = simulate_modes(
        config.landscape,
        np.asarray(config.start),
        config.lr,
        config.steps,
        {mode: config.threshold_of(mode) for mode in modes},
        config.optimizer,
        tuple(modes),
        clip_options={mode: config.clip_options_of(mode) for mode in modes},
        optimizer_options=config.optimizer_options,
        dtype=config.dtype,
        noise=config.noise_settings,
        **config.params,
    )
    return ExplorerRuns(config=config, runs=runs, window=config.scape.window)


@dataclass(frozen=True)
class SettingSweep:
    """Runs of every visible mode for each value of one swept setting (c or lr)."""

    config: ExplorerConfig
    setting: str  # "c" or "lr"
    values: tuple[float, ...]
    runs: dict[str, list[Trajectory]]  # mode -> one run per value; a mode c does not affect has one
    window: Window


def sweep_setting(config: ExplorerConfig, setting: str) -> SettingSweep:
    """Every value of the threshold (or learning rate) slider, one batched call per mode.

    A rule whose threshold is its own setting (a percentile, a z limit) keeps it
    while c is swept, as the unclipped path does: one run serves every frame."""
    if setting not in ("c", "lr"):
        raise ValueError(f"setting must be 'c' or 'lr', got {setting!r}")
    values = THRESHOLD_CHOICES if setting == "c" else LR_CHOICES
    runs: dict[str, list[Trajectory]] = {}
    for mode in config.paths:
        if setting == "c" and (mode == "none" or own_threshold(mode)):
            # The threshold c does not touch this path: one run serves every frame.
            runs[mode] = [run_modes(config, (mode,)).runs[mode]]
            continue
        lrs = np.asarray(config.lr if setting == "c" else values)
        thresholds = np.asarray(values if setting == "c" else config.threshold_of(mode))
        runs[mode] = simulate_many(
            config.landscape,
            np.asarray(config.start),
            lrs,
            thresholds,
            config.steps,
            # Any registered rule, not only the built-ins the core's Literal lists.
            clip=cast(ClipMode, mode),
            optimizer=config.optimizer,
            clip_options=config.clip_options_of(mode),
            optimizer_options=config.optimizer_options,
            dtype=config.dtype,
            noise=config.noise_settings,
            **config.params,
        )
    return SettingSweep(config=config, setting=setting, values=values, runs=runs, window=config.scape.window)


def run_outcome(run: Trajectory, window: Window, tolerance: float) -> str:
    """The run's class in the one outcome vocabulary the Sweeps use (``sweeps.classify``).

    A run that ends below the "trains" bar counts as training even if it left the
    map on the way (a momentum run drifting along the ravine, say).
    """
    left = run.left_window_at(window)
    code = classify(
        np.array([run.final_loss]),
        np.array([-1 if run.diverged_at is None else run.diverged_at]),
        np.array([-1 if left is None else left]),
        tolerance,
    )[0]
    return OUTCOMES[code]


def outcome(run: Trajectory, window: Window, tolerance: float) -> str:
    """A short phrase for how a run ended, for tables and narration: the class and its step."""
    kind = run_outcome(run, window, tolerance)
    left = run.left_window_at(window)
    if kind == "diverged":
        return f"diverged at step {run.diverged_at}"
    if kind == "thrown":
        return f"{OUTCOME_LABELS['thrown']} at step {left}"
    if kind == "trains":
        if left is None:
            return "trains"
        (x0, x1), (y0, y1) = window
        x, y = run.params[-1]
        back = x0 <= x <= x1 and y0 <= y <= y1
        return (
            f"trains (off the map at step {left}, then back)"
            if back
            else f"trains (off the map since step {left})"
        )
    return OUTCOME_LABELS["stuck"]


def tolerance_of(config: ExplorerConfig) -> float:
    """The "trains" bar for this configuration's landscape (the Sweeps' ``train_tolerance``)."""
    return train_tolerance(config.landscape, **config.params)


def outcome_note(config: ExplorerConfig) -> str:
    """One sentence saying where the outcome words' cut-off lies for this landscape."""
    return (
        f"*trains*: the final loss is at most {tolerance_of(config):.2g}, "
        f"{TRAIN_FRACTION:.0%} of this landscape's typical loss; *{OUTCOME_LABELS['thrown']}*: "
        "it left the map and did not get there; *stuck*: it stayed on the map but did not get there."
    )


def summary_rows(result: ExplorerRuns) -> list[dict[str, object]]:
    """One row per visible mode: final and best loss, clipped steps, longest step, outcome
    (and, with gradient noise on, how many of its steps spiked)."""
    tolerance = tolerance_of(result.config)
    rows = []
    for mode, run in result.visible().items():
        row: dict[str, object] = {
            "mode": mode,
            "final loss": run.final_loss,
            "best loss": run.best_loss,
            "clipped steps": run.n_clipped if mode != "none" else 0,
            "longest step": run.longest_step,
        }
        if result.config.noise is not None:
            row["spiked steps"] = int(np.sum(run.spiked))
        row["outcome"] = outcome(run, result.window, tolerance)
        rows.append(row)
    return rows


def exit_events(run: Trajectory, window: Window) -> list[int]:
    """Indices i where the path goes from inside the window (point i-1) to outside (point i)."""
    (x0, x1), (y0, y1) = window
    x, y = run.params[:, 0], run.params[:, 1]
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return [int(i) for i in np.flatnonzero(inside[:-1] & ~inside[1:]) + 1]


def border_point(inside: np.ndarray, outside: np.ndarray, window: Window) -> np.ndarray:
    """Where the segment from ``inside`` to ``outside`` crosses the window's border."""
    (x0, x1), (y0, y1) = window
    direction = outside - inside
    t = 1.0
    for axis, (low, high) in enumerate(((x0, x1), (y0, y1))):
        if direction[axis] > 0:
            t = min(t, (high - inside[axis]) / direction[axis])
        elif direction[axis] < 0:
            t = min(t, (low - inside[axis]) / direction[axis])
    return inside + max(t, 0.0) * direction


def _fmt_cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def summary_html(result: ExplorerRuns) -> str:
    """The summary as a small HTML table: one column per visible mode, in its colour."""
    from ..core.clipping import MODE_COLORS, MODE_LABELS

    rows = summary_rows(result)
    if not rows:
        return ""
    modes = [str(r["mode"]) for r in rows]
    head = "".join(
        f'<th style="color:{MODE_COLORS[mode]};text-align:left">■ {MODE_LABELS[mode]}</th>' for mode in modes
    )
    body = ""
    for field in (f for f in rows[0] if f != "mode"):
        cells = "".join(f"<td>{_fmt_cell(r[field])}</td>" for r in rows)
        body += f"<tr><th style='text-align:left;font-weight:600'>{field}</th>{cells}</tr>"
    return (
        '<table class="cliff-summary" style="width:100%;border-collapse:collapse">'
        f"<thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
