"""Narration of a run's decisive moment, generated from the run's own numbers."""

from __future__ import annotations

import math

import numpy as np

from ..core.clipping import MODE_LABELS, clip_gradient
from ..core.engine import Trajectory
from ..core.outcomes import OUTCOME_LABELS
from ..views.explorer import ExplorerRuns, exit_events, run_outcome, tolerance_of

DEAD_GRADIENT = 1e-12  # below this the gradient cannot move the parameters any more


def _pt(p: np.ndarray) -> str:
    return f"({p[0]:.3g}, {p[1]:.3g})"


def _num(x: float) -> str:
    return f"{x:.3g}"


def turn_angle(g: np.ndarray, clipped: np.ndarray) -> float:
    """Degrees between a raw gradient and its clipped version (0 when either is zero)."""
    ng, nc = np.linalg.norm(g), np.linalg.norm(clipped)
    if ng == 0 or nc == 0:
        return 0.0
    return math.degrees(math.acos(float(np.clip(g @ clipped / (ng * nc), -1.0, 1.0))))


def _ending(mode: str, run: Trajectory, window, tolerance: float) -> str:
    label = MODE_LABELS[mode][:1].upper() + MODE_LABELS[mode][1:]  # "ZClip", not "Zclip"
    if run.diverged_at is not None:
        return f"{label} {run.reason}."
    kind = run_outcome(run, window, tolerance)
    end = run.params[-1]
    exits = exit_events(run, window)
    where = f"ended at {_pt(end)} with loss {_num(run.final_loss)}"
    if exits and run.left_window_at(window) is not None and exits[-1] == run.left_window_at(window):
        where += f", off the map since step {exits[0]}"
    elif exits:
        where += f" after leaving the map at step {exits[0]}"
    if run.steps_taken and run.grad_norm[-1] < DEAD_GRADIENT and run.final_loss > 1.01 * run.best_loss:
        where += (
            "; the gradient there is zero, so no number of further steps will bring it back "
            f"(its best loss was {_num(run.best_loss)})"
        )
    return f"{label} {where}: **{OUTCOME_LABELS[kind]}**."


def decisive_step(run: Trajectory, threshold: float, window) -> tuple[int | None, str]:
    """The first step at which the unclipped path met the cliff, and how.

    That is the first step whose gradient is longer than the threshold (the
    first step clipping would change: until then every path is the same), or
    the step that took the path off the map, whichever comes first. Returns
    ``(None, "")`` when neither happens, and else ``(k, "steep")`` or
    ``(k, "left")``.
    """
    over = np.flatnonzero(run.grad_norm > threshold)
    left = run.left_window_at(window)
    first_over = int(over[0]) if over.size else None
    exit_step = left - 1 if left is not None and left > 0 else None
    if first_over is None and exit_step is None:
        return None, ""
    if exit_step is not None and (first_over is None or exit_step < first_over):
        return exit_step, "left"
    return first_over, "steep"


def narrate(result: ExplorerRuns) -> list[str]:
    """Sentences (Markdown) telling the decisive moment of this configuration.

    Uses every mode's run, visible or not, and only numbers from the runs.
    """
    config = result.config
    runs = result.runs
    c = config.threshold
    plain = runs.get("none")
    lines: list[str] = []
    if plain is None or plain.steps_taken == 0:
        return ["No steps were taken yet: raise the number of steps to see the paths move."]

    k, how = decisive_step(plain, c, result.window)
    if k is None:
        j = int(np.argmax(plain.grad_norm))
        peak = float(plain.grad_norm[j])
        lines.append(
            f"**Nothing decisive happens on this run.** The steepest gradient the unclipped path met was "
            f"|g| = {_num(peak)} (step {j}), below the threshold c = {_num(c)}, and it stayed on the map: "
            "value and norm clipping never fired, so their paths are the unclipped one. To see the cliff "
            "act, lower c below "
            f"{_num(peak)}, start nearer the wall, or press *Reset this landscape* for settings that show it."
        )
    elif how == "left":
        jump = float(np.linalg.norm(plain.update[k]))
        lines.append(
            f"**Step {k} is the decisive moment.** From {_pt(plain.params[k])} the unclipped step was "
            f"{_num(jump)} long and took the path off the map, to {_pt(plain.params[k + 1])}"
            + (
                f" (its gradient there, |g| = {_num(float(plain.grad_norm[k]))}, is below c = {_num(c)}: "
                "the learning rate alone is too large)."
                if plain.grad_norm[k] <= c
                else f", with |g| = {_num(float(plain.grad_norm[k]))}, {_num(float(plain.grad_norm[k]) / c)} "
                f"times the threshold c = {_num(c)}."
            )
        )
    if k is not None and plain.grad_norm[k] > c:
        g = plain.grad[k]
        peak = float(plain.grad_norm[k])
        if how == "steep":
            jump = float(np.linalg.norm(plain.update[k]))
            lines.append(
                f"**Step {k} is the decisive moment.** The unclipped path stood at {_pt(plain.params[k])}, "
                f"where the gradient is |g| = {_num(peak)}, {_num(peak / c)} times the threshold "
                f"c = {_num(c)}. "
                f"Taken as it is, that gradient moved the parameters {_num(jump)} in one step"
                + (f" (lr × |g| = {_num(config.lr)} × {_num(peak)})." if config.optimizer == "sgd" else ".")
            )
        norm_g = np.asarray(clip_gradient(g, "norm", c))
        value_g = np.asarray(clip_gradient(g, "value", c))
        # The value-vs-norm comparison only for the rules on the map.
        norm_part = (
            f"norm clipping would shrink the gradient to length {_num(c)} and keep its direction"
            + (" (0°)" if turn_angle(g, norm_g) < 0.05 else "")
        )
        value_part = (
            f"value clipping would cap each component at ±{_num(c)}, giving length "
            f"{_num(float(np.linalg.norm(value_g)))} and turning it by {turn_angle(g, value_g):.1f}°"
        )
        parts = [part for mode, part in (("norm", norm_part), ("value", value_part)) if mode in config.paths]
        if parts:
            lines.append(f"At that same point, {'; '.join(parts)}.")
    if k is not None:
        for mode in config.paths:
            run = runs.get(mode)
            if mode == "none" or run is None or run.steps_taken == 0:
                continue
            fired = run.n_clipped
            acted = "skipped" if mode == "skip" else "clipping fired on"
            if fired:
                j = int(np.argmax(run.grad_norm))
                lines.append(
                    f"With {MODE_LABELS[mode]}, {acted} {fired} of {run.steps_taken} steps; its "
                    f"steepest gradient (|g| = {_num(float(run.grad_norm[j]))}, step {j}) moved it "
                    f"{_num(float(run.step_length[j]))}, and its longest step was {_num(run.longest_step)}."
                )
            else:
                lines.append(
                    f"With {MODE_LABELS[mode]}, "
                    + ("no step was skipped." if mode == "skip" else "clipping never fired on this path.")
                )
    tolerance = tolerance_of(config)
    lines += [
        _ending(mode, runs[mode], result.window, tolerance)
        for mode in config.paths
        if mode in runs
    ]
    return lines
