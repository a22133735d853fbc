"""The "Beyond a fixed threshold" section: every number in its sentences recomputed from fresh runs."""

import numpy as np
import pytest

import landscapes as ls
from landscapes.lessons import learn_text as words
from landscapes.views.explorer import run_modes


def g3(x: float) -> str:
    return f"{x:.3g}"


def fresh(story_key: str, mode: str) -> ls.Trajectory:
    """The story's run of one rule, straight from the engine (not through the page's helpers)."""
    c = words.beyond_story(story_key).config
    threshold = c.threshold_of(mode)
    return ls.simulate(
        c.landscape,
        c.start,
        c.lr,
        c.steps,
        mode,
        threshold,
        optimizer=c.optimizer,
        clip_options=c.clip_options_of(mode),
        **c.params,
    )


@pytest.fixture(scope="module")
def sentences():
    return {s.key: words.beyond_sentences(run_modes(s.config)) for s in words.BEYOND_STORIES}


def line_of(lines: list[str], label: str) -> str:
    (line,) = [x for x in lines if x.startswith(label)]
    return line


def test_section_is_on_the_page_with_sources():
    section = ls.learn_section("beyond")
    assert section in ls.LEARN_SECTIONS and len(section.sources) >= 4
    for name in ("AutoClip", "ZClip", "AGC", "Normalized", "Skipping", "after the optimizer"):
        assert name in section.body


def test_adaptive_story(sentences):
    lines = sentences["adaptive"]
    plain = fresh("adaptive", "none")
    j = int(np.argmax(plain.grad_norm))
    first = line_of(lines, "No clipping")
    assert f"|g| = {g3(plain.grad_norm[j])} at step {j}" in first
    assert f"a step {g3(np.linalg.norm(plain.update[j]))} long" in first
    # ZClip: the spike falls inside its warm-up, so the full step goes through and the run is thrown.
    zclip = fresh("adaptive", "zclip")
    warmup = 25
    assert j < warmup and zclip.n_clipped == 0
    np.testing.assert_array_equal(zclip.params, plain.params)
    z = line_of(lines, "ZClip")
    assert f"step {j}, inside its {warmup}-step warm-up" in z and f"a step of {g3(plain.step_length[j])}" in z
    assert "thrown off the map at step" in z
    # AutoClip: its limit is the 10th percentile of the norms so far (numpy's, recomputed here).
    auto = fresh("adaptive", "autoclip")
    first_level = np.percentile(auto.grad_norm[:1], 10)
    last_level = np.percentile(auto.grad_norm, 10)
    a = line_of(lines, "AutoClip")
    assert f"went from {g3(first_level)} to {g3(last_level)}" in a
    assert f"clipped {auto.n_clipped} of {auto.steps_taken} steps" in a
    assert f"longest step was {g3(np.linalg.norm(auto.update, axis=1).max())}" in a
    # AGC: c * max(||theta||, eps) at the start point.
    agc = fresh("adaptive", "agc")
    bound = 0.01 * max(float(np.linalg.norm(agc.params[0])), 1e-3)
    line = line_of(lines, "Adaptive clipping (AGC)")
    assert f"about {g3(bound)} at the start" in line
    assert f"longest step was {g3(np.linalg.norm(agc.update, axis=1).max())}" in line


def test_normalize_and_skip_story(sentences):
    lines = sentences["normalize_skip"]
    config = words.beyond_story("normalize_skip").config
    norm = fresh("normalize_skip", "normalize")
    lengths = np.linalg.norm(norm.update, axis=1)
    target = config.lr * config.threshold
    line = line_of(lines, "Normalized gradient")
    assert f"length {g3(target)} = lr·c (to within {g3(np.abs(lengths - target).max())})" in line
    assert np.abs(lengths - target).max() < 0.05 * target  # "however flat or steep": all near lr*c
    skip = fresh("normalize_skip", "skip")
    skipped = np.linalg.norm(skip.update, axis=1) == 0
    first = int(np.argmax(skipped))
    assert skipped[first:].all() and not skipped[:first].any()
    line = line_of(lines, "Skip large steps")
    assert f"skipped {int(skipped.sum())} of {skip.steps_taken} steps, every one from step {first} on" in line
    end = skip.params[-1]
    assert f"parked at ({g3(end[0])}, {g3(end[1])})" in line
    assert np.all(skip.params[first:] == skip.params[first])  # it really does not move
    assert f"|g| = {g3(skip.grad_norm[-1])} is above c = 1" in line and skip.grad_norm[-1] > 1


def test_after_momentum_story(sentences):
    lines = sentences["after_momentum"]
    after = fresh("after_momentum", "clip_update")
    norm = fresh("after_momentum", "norm")
    assert not np.array_equal(after.params, norm.params)
    assert "part ways" in lines[-1]
    line = line_of(lines, "Clipping after the optimizer")
    assert f"clipped {after.n_clipped} of {after.steps_taken} steps" in line
    # Its updates are the clipped velocity times lr: never longer than lr * c.
    longest = float(np.linalg.norm(after.update, axis=1).max())
    assert longest <= 0.1 * 1.0 + 1e-12 and f"longest step {g3(longest)}" in line
    (x0, x1), (y0, y1) = ls.get_landscape("pascanu").window
    left = [i for i, p in enumerate(after.params) if not (x0 <= p[0] <= x1 and y0 <= p[1] <= y1)]
    assert ("thrown off the map" in line) == bool(left)
    assert "trains" in line_of(lines, "Norm clipping")
