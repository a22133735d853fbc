"""Every claim a preset caption or a landscape's opening settings make, computed from the runs."""

from dataclasses import replace

import numpy as np
import optax
import pytest

import landscapes as ls
from landscapes.core.objectives import pascanu_wall_b
from landscapes.core.outcomes import OUTCOMES
from landscapes.lessons.narrate import decisive_step, narrate, turn_angle
from landscapes.views import config as cf
from landscapes.views.explorer import outcome, run_modes, run_outcome, summary_rows, tolerance_of


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


def test_noisy_data_claims():
    """Every claim of the "noisy data" caption, computed from its runs and the same runs without noise."""
    item = cf.preset("noisy")
    config = item.config
    window, tolerance = config.scape.window, tolerance_of(config)
    noisy = run_modes(config).runs
    clean = run_modes(replace(config, noise=None)).runs
    assert config.noise is not None and cf.from_query(cf.to_query(config)) == (config, [])
    # "Without noise every path here trains."
    assert all(run_outcome(clean[mode], window, tolerance) == "trains" for mode in config.paths)
    # "one step in twenty ... multiplied by 100"
    assert config.noise["spike_prob"] == 1 / 20 and config.noise["spike_scale"] == 100
    assert config.noise["sigma"] == 0 and "one step in twenty" in item.caption and "by 100" in item.caption
    # The noise depends only on the seed and the step: the same spikes on every path.
    spiked = np.flatnonzero(noisy["none"].spiked)
    for run in noisy.values():
        assert np.array_equal(np.flatnonzero(run.spiked), spiked[spiked < run.steps_taken])
    # "The spike at step 20 throws plain descent off the map for good."
    plain = noisy["none"]
    thrown_by = plain.left_window_at(window) - 1
    assert thrown_by == 20 and plain.spiked[20] and "spike at step 20" in item.caption
    assert run_outcome(plain, window, tolerance) == "thrown"
    (x0, x1), (y0, y1) = window
    assert np.all(
        (plain.params[21:, 0] < x0)
        | (plain.params[21:, 0] > x1)
        | (plain.params[21:, 1] < y0)
        | (plain.params[21:, 1] > y1)
    )  # never back on the map
    # "Norm and value clipping cap each spiked step at lr·c (value: √2 times that) and train"
    for mode, bound in (("norm", 1.0), ("value", np.sqrt(2))):
        run = noisy[mode]
        cap = bound * config.lr * config.threshold
        assert np.all(run.step_length[run.spiked] <= cap * (1 + 1e-12))
        assert run.clipped[20]  # the spike that threw plain descent was clipped
        assert run_outcome(run, window, tolerance) == "trains"
    # "skipping the long steps trains too"
    assert noisy["skip"].n_clipped > 0 and run_outcome(noisy["skip"], window, tolerance) == "trains"
    # "ZClip is still in its 25-step warm-up when the spikes at steps 14 and 20 arrive ... thrown"
    warmup = config.settings_of("zclip")["warmup"]
    assert warmup == 25 and "25-step warm-up" in item.caption
    assert list(spiked[spiked < warmup]) == [14, 20] and "steps 14 and 20" in item.caption
    zclip = noisy["zclip"]
    assert zclip.n_clipped == 0 and np.array_equal(zclip.params, plain.params)
    assert run_outcome(zclip, window, tolerance) == "thrown"


def test_noise_is_said_in_the_narration_and_the_summary():
    config = cf.preset("noisy").config
    result = run_modes(config)
    spiked = np.flatnonzero(result.runs["none"].spiked)
    first = narrate(result)[0]
    assert first.startswith("**Gradient noise is on** (seed 0)")
    assert f"{len(spiked)} of {config.steps} steps spiked" in first
    assert "steps " + ", ".join(map(str, spiked[:6])) in first and "multiplied by 100" in first
    assert all(row["spiked steps"] == len(spiked) for row in summary_rows(result))
    quiet = run_modes(replace(config, noise=None))
    assert "noise" not in narrate(quiet)[0] and "spiked steps" not in summary_rows(quiet)[0]


def test_float32_overflow_is_reported_per_rule():
    """A float32 view that overflows: each rule's reported outcome is the engine's, against float64."""
    from landscapes.lessons.narrate import number_format_notes, overflow_outputs

    paths = ("none", "value", "norm", "zclip", "skip")
    config = replace(cf.preset("tenfold").config, dtype="float32", paths=paths)
    result = run_modes(config)
    notes = number_format_notes(result)
    window, tolerance = config.scape.window, tolerance_of(config)
    text = "\n".join(notes)
    diverged = []
    for mode in paths:
        run32 = ls.simulate(
            config.landscape,
            config.start,
            config.lr,
            config.steps,
            mode,
            config.threshold_of(mode),
            dtype="float32",
            **config.params,
        )
        run64 = ls.simulate(
            config.landscape,
            config.start,
            config.lr,
            config.steps,
            mode,
            config.threshold_of(mode),
            **config.params,
        )
        assert result.runs[mode].diverged_at == run32.diverged_at
        if run32.diverged_at is not None:
            diverged.append(mode)
            # the caption quotes the step, and the float64 run's outcome

            assert f"diverged at step {run32.diverged_at}" in text
            assert f"in float64 the same run: {outcome(run64, window, tolerance)}." in text
        else:
            assert run_outcome(run32, window, tolerance) == run_outcome(run64, window, tolerance)
    # The overflow: plain descent overflows float32 long before float64 (step 18 against 160).
    plain32, plain64 = result.runs["none"], run_modes(replace(config, dtype="float64")).runs["none"]
    assert plain32.diverged_at < plain64.diverged_at and "none" in diverged
    assert (
        "not finite" in plain32.reason
        and float(np.finfo(np.float32).max)
        < (float(plain64.params[plain32.diverged_at + 1, 0]) - 0.5) ** 2  # (u - 0.5)^2
    )
    assert set(diverged) == {"none", "zclip"}  # ZClip is still warming up when it overflows
    # What each rule makes of an overflowed gradient, checked against optax in float32.
    import jax.numpy as jnp
    import optax

    g = jnp.array([np.inf, 0.5], dtype=jnp.float32)
    outputs = overflow_outputs(result)
    assert set(outputs) == {"none", "value", "norm", "skip"}
    by_optax_norm, _ = optax.clip_by_global_norm(config.threshold).update(g, optax.EmptyState())
    by_optax_value, _ = optax.clip(config.threshold).update(g, optax.EmptyState())
    assert np.isnan(outputs["norm"][0]) and np.isnan(np.asarray(by_optax_norm)[0])
    np.testing.assert_array_equal(outputs["value"], np.asarray(by_optax_value))
    assert np.all(np.isfinite(outputs["value"]))
    assert "Norm clipping turns the inf into NaN" in text and "Value clipping stays finite" in text
    assert "value clipping gives (0.05, 0.05)" in text and "skip large steps drops the step" in text
    assert number_format_notes(run_modes(replace(config, dtype="float64"))) == []


def test_the_history_chart_marks_each_spiked_step():
    from landscapes import figures

    config = replace(cf.preset("noisy").config, steps=60)
    result = run_modes(config)
    spiked = [int(k) for k in np.flatnonzero(result.runs["none"].spiked)]
    assert spiked  # the preset's noise spikes within 60 steps
    spec = figures.history_figure(result)
    assert [shape["x0"] for shape in spec["layout"]["shapes"]] == spiked
    (marks,) = [t for t in spec["data"] if t.get("name") == "spiked step (gradient noise)"]
    assert set(marks["x"]) == set(spiked) and marks["yaxis"] == "y2"
    assert min(marks["y"]) > 0  # nothing for the log axis to stretch down to
    for x, y in zip(marks["x"], marks["y"], strict=True):  # on a shown path's gradient norm
        assert any(np.isclose(y, result.runs[m].grad_norm[x]) for m in config.paths)
    quiet = figures.history_figure(run_modes(replace(config, noise=None)))
    assert "shapes" not in quiet["layout"]
    assert not [t for t in quiet["data"] if t.get("name") == "spiked step (gradient noise)"]


def test_adamw_claims():
    """Every claim of the AdamW preset, from its runs and the same runs without decay (plain Adam)."""
    item = cf.preset("adamw")
    config = item.config
    wd, lr = config.weight_decay, config.lr
    assert config.optimizer == "adamw" and "AdamW" in item.label
    assert f"lr = {lr:g}" in item.caption and f"weight decay {wd:g}" in item.caption
    assert config.start == cf.ExplorerConfig().start  # "the catapult start"
    window, tolerance = config.scape.window, tolerance_of(config)
    (x0, x1), (y0, y1) = window
    decayed = run_modes(config).runs
    gaps, pulls = [], []
    for mode in config.paths:
        run = decayed[mode]
        # no decay is plain Adam, computed here with the engine's Adam (not AdamW at 0)
        adam = ls.simulate(
            config.landscape, config.start, lr, config.steps, mode, config.threshold, "adam", **config.params
        )
        pulls.append(np.linalg.norm(lr * wd * run.params[:-1], axis=1))
        gaps.append(float(np.linalg.norm(run.params[-1] - adam.params[-1])))
        # "slides along the ravine towards the origin": ends nearer (0, 0), at a training loss
        assert np.linalg.norm(run.params[-1]) < np.linalg.norm(adam.params[-1])
        assert run_outcome(run, window, tolerance) == "trains"
        # "all on the map": both end points
        for end in (run.params[-1], adam.params[-1]):
            assert x0 <= end[0] <= x1 and y0 <= end[1] <= y1
    pull = np.concatenate(pulls)
    assert (round(pull.min(), 3), round(pull.max(), 3)) == (0.004, 0.005) and "0.004 to 0.005" in item.caption
    assert (round(min(gaps), 2), round(max(gaps), 2)) == (0.79, 0.95) and "0.79 to 0.95 away" in item.caption
    # "Norm clipping fires on 3 steps: it cuts the gradient there, yet the decay's pull is applied in full."
    norm = decayed["norm"]
    assert norm.n_clipped == 3 and "fires on 3 steps" in item.caption
    assert np.all(norm.grad_norm[norm.clipped] > config.threshold)
    tx = optax.chain(optax.clip_by_global_norm(config.threshold), optax.scale_by_adam())
    state = tx.init(norm.params[0])
    for k in range(norm.steps_taken):
        direction, state = tx.update(norm.grad[k], state, norm.params[k])
        np.testing.assert_allclose(
            norm.update[k], -lr * np.asarray(direction) - lr * wd * norm.params[k], rtol=1e-12, atol=1e-15
        )


def test_every_preset_has_a_short_unique_button_label_for_presentation_mode():
    # a row of six buttons at 1920 px in presentation mode shows about 18 characters each
    labels = [item.button_label for item in cf.PRESETS]
    assert all(item.short and len(item.short) <= 18 for item in cf.PRESETS), labels
    assert len(set(labels)) == len(labels)
