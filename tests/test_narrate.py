"""The narration is generated from the run's numbers."""

import numpy as np
import pytest

from landscapes.lessons.narrate import narrate, turn_angle
from landscapes.views.config import ExplorerConfig
from landscapes.views.explorer import run_modes


def test_catapult_story_quotes_the_runs():
    result = run_modes(ExplorerConfig())
    text = "\n".join(narrate(result))
    plain = result.runs["none"]
    assert "Step 3 is the decisive moment" in text
    assert f"|g| = {plain.grad_norm[3]:.3g}" in text
    assert f"moved the parameters {plain.step_length[3]:.3g}" in text
    assert "thrown" not in text or "(39, 53.4)" in text
    assert "ended at (39, 53.4) with loss 0.09" in text and "gradient there is zero" in text
    assert "turning it by 13.3°" in text


def test_changes_when_the_numbers_change():
    a = "\n".join(narrate(run_modes(ExplorerConfig(threshold=2.0))))
    b = "\n".join(narrate(run_modes(ExplorerConfig(threshold=0.5))))
    assert a != b and "c = 2" in a and "c = 0.5" in b


def test_gentle_start_says_clipping_never_fired():
    text = "\n".join(narrate(run_modes(ExplorerConfig(start=(6.0, -1.5)))))
    assert "clipping never fired" in text


def test_zero_steps():
    assert narrate(run_modes(ExplorerConfig(steps=0)))[0].startswith("No steps were taken")


def test_divergence_is_told():
    config = ExplorerConfig(
        landscape="deep_product", params={"depth": 30}, start=(1.5, 1.5), lr=10.0, steps=1000
    )
    result = run_modes(config)
    text = "\n".join(narrate(result))
    diverged = [m for m, r in result.runs.items() if r.diverged_at is not None]
    for mode in diverged:
        assert f"diverged at step {result.runs[mode].diverged_at}" in text


@pytest.mark.parametrize(
    ("g", "c", "angle"), [((3.0, 0.0), 1.0, 0.0), ((2.0, 1.0), 1.0, 18.43), ((10.0, -1.0), 1.0, 39.29)]
)
def test_turn_angle(g, c, angle):
    g = np.array(g)
    assert turn_angle(g, np.clip(g, -c, c)) == pytest.approx(angle, abs=0.01)
