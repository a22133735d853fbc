"""Narration of a run's decisive moment, generated from the run's own numbers."""

from __future__ import annotations

import math
from dataclasses import replace

import jax.numpy as jnp
import numpy as np

from ..core.clipping import CLIP_SPECS, MODE_LABELS, clip_gradient_compiled
from ..core.engine import Trajectory
from ..core.outcomes import OUTCOME_LABELS
from ..views.explorer import ExplorerRuns, exit_events, outcome, run_modes, run_outcome, tolerance_of

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


def _label(mode: str) -> str:
    return MODE_LABELS[mode][:1].upper() + MODE_LABELS[mode][1:]


def _steps_list(steps: np.ndarray, most: int = 6) -> str:
    shown = ", ".join(str(int(k)) for k in steps[:most])
    return shown + (f" and {len(steps) - most} more" if len(steps) > most else "")


def noise_sentence(result: ExplorerRuns) -> str | None:
    """What the gradient noise is and which steps of this run it spiked (None without noise).

    The noise depends only on the seed and the step, so every path meets the
    same spikes at the same steps (for as long as it runs).
    """
    noise = result.config.noise
    if noise is None:
        return None
    parts = []
    if noise["sigma"] > 0:
        parts.append(f"Gaussian noise of scale σ = {_num(noise['sigma'])} is added to every gradient")
    if noise["spike_prob"] > 0:
        parts.append(
            f"with probability {_num(noise['spike_prob'])} a step's gradient is multiplied by "
            f"{_num(noise['spike_scale'])} (a spike, like a bad batch)"
        )
    runs = [result.runs[m] for m in result.config.paths if m in result.runs] or list(result.runs.values())
    longest = max(runs, key=lambda run: run.steps_taken)
    spiked = np.flatnonzero(longest.spiked)
    text = f"**Gradient noise is on** (seed {int(noise['seed'])}): " + "; ".join(parts) + "."
    if noise["spike_prob"] > 0:
        text += f" On this run {len(spiked)} of {longest.steps_taken} steps spiked" + (
            f" (steps {_steps_list(spiked)}), the same steps on every path." if len(spiked) else "."
        )
    return text


def _names(labels: list[str]) -> str:
    """Labels as a list that starts a sentence ("Norm clipping and value clipping")."""
    text = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return text[:1].upper() + text[1:]


def _vector(v: np.ndarray) -> str:
    return f"({float(v[0]):.3g}, {float(v[1]):.3g})"


#: The overflowed gradient the float32 notes feed to each rule: one component beyond the format.
OVERFLOWED_GRADIENT = (math.inf, 0.5)


def overflow_outputs(result: ExplorerRuns) -> dict[str, np.ndarray]:
    """What each shown rule without state (and skip) makes of ``OVERFLOWED_GRADIENT`` in float32."""
    config = result.config
    g = jnp.asarray(OVERFLOWED_GRADIENT, dtype=jnp.float32)
    out = {}
    for mode in config.paths:
        if CLIP_SPECS[mode].stateful and mode != "skip":
            continue  # its output depends on the run's state, not only on g
        out[mode] = np.asarray(
            clip_gradient_compiled(g, mode, config.threshold_of(mode), config.clip_options_of(mode))
        )
    return out


def number_format_notes(result: ExplorerRuns) -> list[str]:
    """For a float32 view: how each shown path compares with the same run in float64, and what
    the rules make of a gradient that overflowed (empty for float64)."""
    config = result.config
    if config.dtype != "float32" or not config.paths:
        return []
    exact = run_modes(replace(config, dtype="float64"), tuple(config.paths))
    tolerance = tolerance_of(config)
    lines = []
    same = []
    for mode in config.paths:
        run32, run64 = result.runs[mode], exact.runs[mode]
        end32 = outcome(run32, result.window, tolerance)
        end64 = outcome(run64, result.window, tolerance)
        if run32.diverged_at is not None:
            lines.append(f"{_label(mode)}: in float32 it {run32.reason}; in float64 the same run: {end64}.")
        elif end32 != end64:
            lines.append(f"{_label(mode)}: in float32: {end32}; in float64: {end64}.")
        else:
            same.append(mode)
    if same:
        gap = max(float(np.linalg.norm(result.runs[m].params[-1] - exact.runs[m].params[-1])) for m in same)
        lines.append(
            f"{_names([MODE_LABELS[m] for m in same])}: the same outcome in float32 as in float64; "
            f"the end points differ by up to {_num(gap)}."
        )
    outputs = overflow_outputs(result)
    if outputs:
        said = []
        for mode, v in outputs.items():
            if mode == "skip":
                said.append(f"{MODE_LABELS[mode]} drops the step")
            else:
                said.append(f"{MODE_LABELS[mode]} gives {_vector(v)}")
        finite = [MODE_LABELS[m] for m, v in outputs.items() if m != "skip" and np.all(np.isfinite(v))]
        nan = [m for m, v in outputs.items() if np.any(np.isnan(v))]
        text = (
            f"A gradient that overflowed to {_vector(np.asarray(OVERFLOWED_GRADIENT))}: "
            + "; ".join(said)
            + "."
        )
        if nan:
            names = _names([MODE_LABELS[m] for m in nan])
            library = " (as optax and torch do)" if any(m in ("norm", "norm_torch") for m in nan) else ""
            text += f" {names} turn{'s' if len(nan) == 1 else ''} the inf into NaN{library}."
        if finite:
            text += f" {_names(finite)} stay{'s' if len(finite) == 1 else ''} finite."
        text += (
            " Whatever a rule would make of it, a gradient that is not finite means the number format "
            "overflowed: the app stops the run there and reports divergence at that step."
        )
        lines.append(text)
    return lines


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
    noise = noise_sentence(result)
    if noise is not None:
        lines.append(noise)

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
        norm_g = np.asarray(clip_gradient_compiled(g, "norm", c))
        value_g = np.asarray(clip_gradient_compiled(g, "value", c))
        # The value-vs-norm comparison only for the rules on the map.
        norm_part = f"norm clipping would shrink the gradient to length {_num(c)} and keep its direction" + (
            " (0°)" if turn_angle(g, norm_g) < 0.05 else ""
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
    lines += [_ending(mode, runs[mode], result.window, tolerance) for mode in config.paths if mode in runs]
    return lines


# --- AdamW: the decay moves the minimum, and clipping does not touch it ------------------


def decay_parts(run: Trajectory, weight_decay: float) -> tuple[np.ndarray, np.ndarray]:
    """An AdamW run's steps split into the gradient's part and the decay's part, from the run itself.

    AdamW's step from θ_k is ``-lr·(Adam's direction) - lr·wd·θ_k``: the decay part is
    ``-lr·wd·θ_k`` (the parameters before the step), the gradient's part what is left of the
    update. Returns ``(gradient_part, decay_part)``, each (k, 2).
    """
    decay = -run.lr * weight_decay * np.asarray(run.params[:-1], dtype=float)
    return np.asarray(run.update, dtype=float) - decay, decay


def _decay_example_mode(result: ExplorerRuns) -> str | None:
    """The rule whose run shows the decay on a clipped step: norm clipping if it fired, else the
    first shown rule that clips the gradient and fired (None when no such run clipped a step)."""
    shown = [m for m in result.config.paths if m in result.runs]
    candidates = ["norm", *(m for m in shown if m != "norm")]
    for mode in candidates:
        run = result.runs.get(mode)
        if (
            mode != "none"
            and run is not None
            and CLIP_SPECS[mode].placement == "gradient"
            and run.n_clipped > 0
        ):
            return mode
    return None


def weight_decay_notes(result: ExplorerRuns) -> list[str]:
    """For an AdamW view: where the shown paths end with this decay and with none (the decay moves
    where the descent settles), and one clipped step split into its gradient part and its decay
    part (clipping acts on the gradient only). Empty for any other optimizer."""
    config = result.config
    if config.optimizer != "adamw":
        return []
    wd = config.weight_decay
    lr = config.lr
    shown = tuple(m for m in config.paths if m in result.runs)
    if wd == 0:
        return [
            "**Weight decay is 0**: AdamW takes exactly Adam's steps. Raise it to see the decay pull "
            "the parameters towards (0, 0) and move where the descent settles."
        ]
    lines = []
    if shown:
        free = run_modes(replace(config, weight_decay=0.0), shown)
        ends = []
        for mode in shown:
            run, plain = result.runs[mode], free.runs[mode]
            if run.diverged_at is not None or plain.diverged_at is not None:
                continue
            a, b = run.params[-1], plain.params[-1]
            gap = float(np.linalg.norm(a - b))
            ends.append(f"{MODE_LABELS[mode]} ends at {_pt(a)} instead of {_pt(b)}, {_num(gap)} away")
        if ends:
            lines.append(
                "**The decay moves where the descent settles.** On every step AdamW also pulls the "
                f"parameters towards (0, 0) by lr·wd·θ (here lr·wd = {_num(lr * wd)}), whatever the "
                f"gradient. With weight decay {_num(wd)} rather than none (wd = 0, which is exactly Adam): "
                + "; ".join(ends)
                + "."
            )
    mode = _decay_example_mode(result)
    if mode is not None:
        run = result.runs[mode]
        gradient_part, decay_part = decay_parts(run, wd)
        clipped = np.flatnonzero(run.clipped)
        k = int(clipped[np.argmax(run.grad_norm[clipped])])
        shown_note = "" if mode in shown else " (not drawn)"
        to = ""
        if not CLIP_SPECS[mode].stateful:
            threshold, options = config.threshold_of(mode), config.clip_options_of(mode)
            g = np.asarray(clip_gradient_compiled(run.grad[k], mode, threshold, options))
            to = f" to length {_num(float(np.linalg.norm(g)))}"
        lines.append(
            f"**Clipping acts on the gradient, not on the decay.** With {MODE_LABELS[mode]}{shown_note}, "
            f"clipping fired on {run.n_clipped} of {run.steps_taken} steps. At step {k} it cut the gradient "
            f"(|g| = {_num(float(run.grad_norm[k]))}){to}; the step taken, {_vector(run.update[k])}, is "
            f"Adam's step for the clipped gradients, {_vector(gradient_part[k])}, plus the decay's pull "
            f"−lr·wd·θ = {_vector(decay_part[k])}, of length lr·wd·|θ| = "
            f"{_num(float(np.linalg.norm(decay_part[k])))}: applied in full, as on every step that was "
            "not clipped."
        )
    others = []
    if "clip_update" in shown:
        others.append("clipping after the optimizer clips AdamW's whole direction, the decay included")
    if "skip" in shown and result.runs["skip"].n_clipped:
        others.append(
            f"skipping drops the whole step, the decay included ({result.runs['skip'].n_clipped} steps here)"
        )
    if others:
        lines.append(f"The exceptions: {'; '.join(others)}.")
    return lines
