"""Every claim a preset caption or a landscape's opening settings make, computed from the runs."""

from dataclasses import replace

import numpy as np
import pytest

import landscapes as ls
from landscapes.core.objectives import pascanu_wall_b
from landscapes.core.outcomes import OUTCOMES
from landscapes.lessons.narrate import decisive_step, narrate, turn_angle
from landscapes.views import config as cf
from landscapes.views.explorer import run_modes, run_outcome, summary_rows, tolerance_of


def largest_trainable_lr(config: cf.ExplorerConfig, clip: str) -> float:
    """The largest learning rate on the slider's steps at which the run trains (sweep_hparams)."""
    sweep = ls.sweep_hparams(
        config.landscape,
        config.start,
        cf.LR_CHOICES,
        [config.threshold],
        config.steps,
        clip,
        config.optimizer,
        **config.params,
    )
    trains = sweep.outcome[0] == OUTCOMES.index("trains")
    return float(np.asarray(cf.LR_CHOICES)[trains].max())


def test_tenfold_claims():
    item = cf.preset("tenfold")
    config = item.config
    plain_max = largest_trainable_lr(config, "none")
    norm_max = largest_trainable_lr(config, "norm")
    assert plain_max == 1.0 and "only up to lr = 1 " in item.caption
    assert config.lr == norm_max == 10 * plain_max and "10×" in item.label
    assert largest_trainable_lr(config, "value") >= config.lr
    runs = run_modes(config).runs
    window = config.scape.window
    plain = runs["none"]
    assert plain.left_window_at(window) == 1  # "its first step already leaves the map"
    assert plain.diverged_at is not None  # "... until it overflows"
    assert np.all(np.diff(np.abs(plain.params[1 : plain.diverged_at, 0])) > 0)  # hurled further each step
    tolerance = tolerance_of(config)
    for mode, bound in (("norm", 0.5), ("value", 0.5 * np.sqrt(2))):
        run = runs[mode]
        assert run_outcome(run, window, tolerance) == "trains"
        assert run.longest_step == pytest.approx(bound) and config.lr * config.threshold == 0.5
        # "they never settle": the last steps are still of the full clipped length
        assert np.min(run.step_length[-20:]) > 0.25 * bound
    assert "lr·c = 0.5" in item.caption


def test_crawl_claims():
    item = cf.preset("crawl")
    config = item.config
    runs = run_modes(config).runs
    assert config.lr * config.threshold == 0.005 and "lr·c = 0.005" in item.caption
    norm, value, plain = runs["norm"], runs["value"], runs["none"]
    assert norm.longest_step <= 0.005 + 1e-15
    assert np.sum(norm.step_length) <= 1.0 + 1e-12  # "200 steps move it at most one unit"
    for run in (norm, value):
        side = np.sign(run.params[:, 1] - pascanu_wall_b(run.params[:, 0]))
        crossings = np.flatnonzero(side[1:] != side[:-1])
        assert crossings[0] < 40  # "reach it within 40 steps"
        assert len(crossings) == config.steps - crossings[0]  # "zig-zag across it at every step"
    assert norm.final_loss < 1e-3  # "creeps along the wall to a low loss"
    assert value.final_loss > value.loss[0]  # "ending higher than it started"
    # "hopping between two points"
    assert np.array_equal(value.params[-1], value.params[-3]) and not np.array_equal(
        value.params[-1], value.params[-2]
    )
    assert plain.left_window_at(config.scape.window) is not None


def test_catapult_claims():
    runs = run_modes(cf.preset("catapult").config).runs
    window = cf.ExplorerConfig().scape.window
    assert runs["none"].left_window_at(window) is not None
    assert runs["norm"].left_window_at(window) is None
    assert runs["norm"].longest_step == pytest.approx(0.5)  # length lr·c


def test_bend_claims():
    item = cf.preset("bend")
    bend = run_modes(item.config).runs
    c = item.config.threshold
    angles = [turn_angle(g, np.clip(g, -c, c)) for g in bend["value"].grad[bend["value"].clipped]]
    assert round(max(angles)) == 31 and "up to 31°" in item.caption
    assert np.linalg.norm(bend["value"].params[-1] - bend["norm"].params[-1]) > 0.5


@pytest.mark.parametrize("name", [s.name for s in ls.list_landscapes()])
def test_every_landscape_opens_on_its_cliff(name):
    """At its opening settings the cliff acts and clipping changes the outcome."""
    config = cf.story_config(name)
    assert cf.from_query({"landscape": name})[0] == config  # a bare link opens the same view
    assert cf.ExplorerConfig().with_landscape(name) == config
    runs = run_modes(config).runs
    window = config.scape.window
    plain, norm = runs["none"], runs["norm"]
    assert norm.n_clipped > 0  # clipping fires
    assert plain.longest_step > 2 * config.lr * config.threshold  # the cliff throws the unclipped path
    assert plain.left_window_at(window) is not None or plain.diverged_at is not None
    assert norm.left_window_at(window) is None  # the clipped path stays on the map
    assert run_outcome(norm, window, tolerance_of(config)) == "trains"
    assert norm.final_loss < plain.final_loss
    assert decisive_step(plain, config.threshold, window)[0] is not None  # the narration has a moment


def test_with_landscape_keeps_the_view_toggles():
    config = cf.ExplorerConfig(paths=("none",), present=True, view3d=True, predict=True, scrub="c")
    moved = config.with_landscape("ravine")
    assert (moved.paths, moved.present, moved.view3d, moved.predict, moved.scrub) == (
        ("none",),
        True,
        True,
        True,
        "c",
    )
    assert moved.lr == cf.story_config("ravine").lr


def test_pascanu_minimum_description():
    """The stated distances from the wall of the zero-loss curve (T = 50)."""
    text = ls.get_landscape("pascanu").minimum
    for w, stated in ((4.5, 3e-3), (5.0, 3e-5), (6.0, 6e-9)):
        wall = pascanu_wall_b(w)
        bs = wall + np.logspace(-12, 0, 6000)
        surface = ls.evaluate_points("pascanu", np.column_stack([np.full_like(bs, w), bs]), T=50)
        loss = np.asarray(surface[0])
        i = int(np.argmin(loss))
        assert loss[i] < 1e-7
        assert stated / 2 < bs[i] - wall < stated * 2
        assert f"{stated:.0e}".replace("e-0", "e-") in text


def test_decisive_step_is_the_first_meeting_with_the_cliff():
    """On the tenfold preset the path leaves at step 1: the decisive step is step 0, not the largest |g|."""
    config = cf.preset("tenfold").config
    result = run_modes(config)
    plain = result.runs["none"]
    k, how = decisive_step(plain, config.threshold, result.window)
    assert k == 0 and how == "steep" and int(np.argmax(plain.grad_norm)) > 1
    assert "Step 0 is the decisive moment" in "\n".join(narrate(result))
    # the catapult: first |g| > c at step 3, which is also the step that throws it
    catapult = run_modes(cf.ExplorerConfig())
    k, _ = decisive_step(catapult.runs["none"], 1.0, catapult.window)
    assert k == 3 and np.all(catapult.runs["none"].grad_norm[:3] <= 1.0)


def test_leaving_the_map_without_a_steep_gradient_is_decisive():
    # a huge threshold: clipping never fires, but lr = 10 takes the path off the map at once
    config = replace(cf.story_config("ravine"), lr=10.0, threshold=100.0)
    result = run_modes(config)
    plain = result.runs["none"]
    assert plain.grad_norm[0] <= 100.0 and plain.left_window_at(result.window) == 1
    text = "\n".join(narrate(result))
    assert "Step 0 is the decisive moment" in text and "took the path off the map" in text
    assert "the learning rate alone is too large" in text


def test_nothing_decisive_is_said_plainly():
    result = run_modes(cf.ExplorerConfig(start=(6.0, -1.5)))
    plain = result.runs["none"]
    text = "\n".join(narrate(result))
    assert "Nothing decisive happens" in text and "decisive moment" not in text
    assert f"lower c below {plain.grad_norm.max():.3g}" in text
    # the suggestion works: with c just below that peak, clipping fires
    lower = run_modes(cf.ExplorerConfig(start=(6.0, -1.5), threshold=float(plain.grad_norm.max()) * 0.9))
    assert lower.runs["norm"].n_clipped > 0


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_runs_that_train_while_drifting_off_are_not_thrown(optimizer):
    """Momentum and Adam drift off the map along the ravine while reaching a tiny loss: they train."""
    config = cf.ExplorerConfig(optimizer=optimizer)
    result = run_modes(config)
    tolerance = tolerance_of(config)
    for row, run in zip(summary_rows(result), result.runs.values(), strict=True):
        left = run.left_window_at(result.window)
        assert left is not None and run.final_loss < 1e-4 < tolerance
        assert run_outcome(run, result.window, tolerance) == "trains"
        (x0, x1), (y0, y1) = result.window
        back = x0 <= run.params[-1, 0] <= x1 and y0 <= run.params[-1, 1] <= y1
        assert row["outcome"] == (
            f"trains (off the map at step {left}, then back)"
            if back
            else f"trains (off the map since step {left})"
        )
