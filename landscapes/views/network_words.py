"""The "A real network" page's sentences: every number in them is read off the runs it describes.

Each function takes the runs (``NetworkRun``) or the slice (``NetworkSlice``)
and returns Markdown; tests/test_network_page.py recomputes each claim from
independently trained runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..core.network import SOLVED_LOSS, NetworkRun
from ..core.network_slice import NetworkSlice, gradient_spikes, spike_step


def _n(value: float) -> str:
    """A number for a sentence: three significant digits."""
    return f"{value:.3g}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def outcome(run: NetworkRun) -> str:
    """How a run ended, in a few words: solved, not solved, or diverged at a step."""
    if run.diverged:
        return f"diverged at step {run.diverged_at}"
    if run.steps_taken < run.steps_requested:
        return f"{run.steps_taken} of {run.steps_requested} steps so far"
    return "solved" if run.solved else "not solved"


def max_norm(run: NetworkRun) -> float:
    k = spike_step(run)
    return float(run.grad_norm[k]) if k is not None else math.nan


def run_summary(run: NetworkRun, label: str) -> str:
    """One line per run: its outcome, final held-out loss, clipped steps and largest gradient norm."""
    k = spike_step(run)
    parts = [f"**{label}**: {run.reason if run.diverged else outcome(run)}"]
    if run.diverged:
        pass
    elif len(run.heldout_loss):
        parts.append(f"held-out loss {_n(run.final_heldout)}")
    if run.clip != "none" and run.steps_taken:
        parts.append(f"clipped {run.n_clipped} of {plural(run.steps_taken, 'step')}")
    if k is not None:
        parts.append(f"largest gradient norm {_n(float(run.grad_norm[k]))} at step {k}")
    return "; ".join(parts) + "."


def explode_caption(runs: Sequence[NetworkRun], labels: Sequence[str]) -> str:
    """Preset (a): the unclipped run (first) against the clipped one (second)."""
    free, clipped = runs[0], runs[1]
    median = float(np.median(free.grad_norm)) if free.steps_taken else math.nan
    first = [s for s in gradient_spikes(free.grad_norm)]
    text = (
        f"Without clipping the gradient norm has a median of {_n(median)}, but it reaches "
        f"{_n(max_norm(free))} at step {spike_step(free)}"
    )
    if first:
        text += f" (the first spike above ten times the median comes at step {first[0]})"
    text += ". "
    if free.diverged:
        text += f"The run {free.reason}. "
    else:
        text += f"It ends with a held-out loss of {_n(free.final_heldout)} ({outcome(free)}). "
    text += (
        f"With {labels[1]} the largest norm is {_n(max_norm(clipped))}; the rule shortened "
        f"{plural(clipped.n_clipped, 'step')} of {clipped.steps_taken}, and the run "
    )
    if clipped.diverged:
        text += f"{clipped.reason}."
    else:
        verdict = "below" if clipped.solved else "not below"
        text += (
            f"ends with a held-out loss of {_n(clipped.final_heldout)}, {verdict} the {SOLVED_LOSS:g} "
            f"that counts as solved."
        )
    return text


def scope_caption(runs: Sequence[NetworkRun], labels: Sequence[str]) -> str:
    """Preset (b): one threshold for the whole gradient (first run) or for each tensor (second)."""
    whole, each = runs[0], runs[1]
    text = (
        f"Clipping the whole gradient shortened {plural(whole.n_clipped, 'step')} of {whole.steps_taken}; "
        f"clipping each tensor on its own, with the same threshold for each, changed "
        f"{plural(each.n_clipped, 'step')} of {each.steps_taken}. "
        "Per tensor, the five tensors may each keep a norm up to the threshold, so the whole gradient can "
        "stay up to √5 times longer, and a tensor with a small gradient is never shortened because another "
        "one spiked. "
    )
    if whole.diverged or each.diverged:
        for run, label in ((whole, labels[0]), (each, labels[1])):
            if run.diverged:
                text += f"{label}: {run.reason}. "
        return text.strip()
    lower = labels[0] if whole.final_heldout < each.final_heldout else labels[1]
    text += (
        f"Held-out loss at the end: {_n(whole.final_heldout)} ({outcome(whole)}) against "
        f"{_n(each.final_heldout)} ({outcome(each)}); {lower} ends lower."
    )
    return text


def adaptive_caption(runs: Sequence[NetworkRun], labels: Sequence[str]) -> str:
    """Preset (c): a fixed threshold (first run) against an adaptive one (second)."""
    fixed, adaptive = runs[0], runs[1]
    level = np.asarray(adaptive.clip_threshold, float)
    finite = level[np.isfinite(level)]
    text = f"{labels[0]} keeps its threshold fixed at {_n(float(fixed.clip_threshold[0]))}. "
    if len(finite):
        text += (
            f"{labels[1]} sets its own from the gradient norms seen so far: it starts at "
            f"{_n(float(finite[0]))} "
            f"and ends at {_n(float(finite[-1]))}, after a largest value of {_n(float(finite.max()))}. "
        )
    text += (
        f"The fixed rule shortened {plural(fixed.n_clipped, 'step')}, the adaptive one "
        f"{plural(adaptive.n_clipped, 'step')}. "
    )
    for run, label in ((fixed, labels[0]), (adaptive, labels[1])):
        if run.diverged:
            text += f"{label} {run.reason}. "
        else:
            text += f"{label} ends with a held-out loss of {_n(run.final_heldout)} ({outcome(run)}). "
    return text.strip()


PRESET_CAPTIONS = {"explode": explode_caption, "scope": scope_caption, "adaptive": adaptive_caption}


def slice_caption(sl: NetworkSlice, run: NetworkRun, label: str) -> str:
    """What the slice shows: the spike, the wall on the plane, and where the next step went."""
    median = float(np.median(run.grad_norm))
    highest = float(np.max(sl.loss))
    lowest = float(np.min(sl.loss))
    span = float(sl.alphas[-1])
    text = (
        f"At step {sl.step} the gradient of {label} had norm {_n(sl.grad_norm)}, "
        f"{_n(sl.grad_norm / median)} times the run's median. On this plane, within a distance "
        f"{_n(span)} of the parameters at that step, the loss of that step's batch runs from "
        f"{_n(lowest)} to {_n(highest)}; at the centre it is {_n(sl.centre_loss)}. "
    )
    if math.isfinite(sl.step_length):
        text += (
            f"The step taken there moved the parameters a distance {_n(sl.step_length)}, and on the same "
            "batch "
            f"the loss went from {_n(sl.centre_loss)} to {_n(sl.loss_after)}. "
        )
        off = float(np.max(sl.path_off_plane[1:]))
        text += (
            f"The numbered points are the next steps projected onto the plane; the farthest lies "
            f"{_n(off)} off it."
        )
    return text
