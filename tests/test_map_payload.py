"""The map component's payload as data: every cell of the cross is simulate's run at float32
precision, the layout decodes back, the sizes stay within the issue's limits, and the
presentation take-away says what the runs did."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import landscapes as ls
from landscapes.core.validation import MAX_STEPS
from landscapes.views import config as cf
from landscapes.views.explorer import outcome, run_modes, tolerance_of, view_modes
from landscapes.views.map_payload import (
    MAX_BYTES_DEFAULT,
    MAX_BYTES_LONG,
    arm_config,
    arm_runs,
    arm_steps,
    cached_arm_runs,
    compute_cross,
    map_payload,
    payload_bytes,
    shared_arm_runs,
    slider_values,
    take_away,
    unpack_clipped,
    unpack_points,
    uses_c,
    view_runs,
)

IMAGE = ("data:image/png;base64,AAAA", -4.0, -0.4)


def payload_of(config: cf.ExplorerConfig, image=IMAGE, arm=arm_runs, **kwargs) -> dict:
    scape = config.scape
    return map_payload(
        compute_cross(config, arm=arm),
        window=scape.window,
        axis_labels=scape.axis_labels,
        walls=scape.walls(dict(config.params), scape.window),
        image=image,
        **kwargs,
    )


def entry(payload: dict, mode: str) -> dict:
    return next(p for p in payload["paths"] if p["mode"] == mode)


def reference(config: cf.ExplorerConfig, mode: str, lr: float, c: float) -> ls.Trajectory:
    return ls.simulate(
        config.landscape,
        config.start,
        lr=lr,
        steps=config.steps,
        clip=mode,
        threshold=c if uses_c(mode) else config.threshold_of(mode),
        optimizer=config.optimizer,
        clip_options=config.clip_options_of(mode),
        optimizer_options=config.optimizer_options,
        dtype=config.dtype,
        noise=config.noise_settings,
        **config.params,
    )


def assert_cell(points: np.ndarray, length: int, run: ls.Trajectory) -> None:
    assert length == len(run.params)
    with np.errstate(over="ignore"):  # a float64 beyond float32's range is sent as inf
        expected = run.params.astype(np.float32)
    np.testing.assert_array_equal(points[:length], expected)
    assert np.isnan(points[length:]).all()  # padding after a run that stopped early


@pytest.mark.parametrize("shared", [False, True], ids=["direct", "shared arms"])
@pytest.mark.parametrize("mode", ["none", "value", "norm"])
def test_every_cell_of_the_cross_is_simulate_at_float32(mode, shared):
    # shared: the arms a page caches, computed from placeholder settings for 40 steps and cut to 25
    config = cf.ExplorerConfig(steps=25)
    payload = payload_of(config, arm=shared_arm_runs) if shared else payload_of(config)
    e = entry(payload, mode)
    points = unpack_points(e, payload["steps"])
    clipped = unpack_clipped(e, payload["steps"])
    # the learning-rate arm at the current c, and the c arm at the current learning rate
    for i, lr in enumerate(payload["lr_values"][::4]):
        i *= 4
        run = reference(config, mode, lr, config.threshold)
        r = e["lr_runs"][i]
        assert_cell(points[r], e["lengths"][r], run)
        np.testing.assert_array_equal(
            clipped[r, : len(run.clipped)], run.clipped if mode != "none" else False
        )
    for j, c in enumerate(payload["c_values"][::4]):
        j *= 4
        r = e["c_runs"][j]
        assert_cell(points[r], e["lengths"][r], reference(config, mode, config.lr, c))


@pytest.mark.parametrize(
    "config",
    [
        cf.ExplorerConfig(steps=30, dtype="float32"),
        cf.ExplorerConfig(steps=30, noise={"sigma": 0.5, "spike_prob": 0.1, "spike_scale": 30.0, "seed": 3}),
        cf.ExplorerConfig(steps=30, lr=0.05, optimizer="adamw", weight_decay=0.4),
    ],
    ids=["float32", "noise", "adamw-decay"],
)
def test_the_cross_runs_in_the_views_number_format_and_with_its_noise(config):
    """The map must draw the runs the narration describes: same dtype, same noise draws, same decay."""
    payload = payload_of(config)
    plain = replace(config, dtype="float64", noise=None, weight_decay=cf.DEFAULT_WEIGHT_DECAY)
    for mode in config.paths:
        e = entry(payload, mode)
        points = unpack_points(e, payload["steps"])
        r = e["c_runs"][payload["c_index"]]
        run = reference(config, mode, config.lr, config.threshold)
        assert_cell(points[r], e["lengths"][r], run)
    # and the setting matters on this view: the runs differ from the plain ones somewhere
    differs = False
    for mode in config.paths:
        a = reference(config, mode, config.lr, config.threshold).params
        b = reference(plain, mode, config.lr, config.threshold).params
        differs |= a.shape != b.shape or not np.array_equal(a, b)
    assert differs


def test_the_cross_passes_through_the_view_and_its_centre_is_the_pages_run():
    config = cf.ExplorerConfig()
    payload = payload_of(config)
    assert payload["lr_values"][payload["lr_index"]] == config.lr
    assert payload["c_values"][payload["c_index"]] == config.threshold
    assert payload["lr_values"] == list(cf.LR_CHOICES) and payload["c_values"] == list(cf.THRESHOLD_CHOICES)
    runs = run_modes(config).runs
    for mode in config.paths:
        e = entry(payload, mode)
        points = unpack_points(e, config.steps)
        # the centre of both arms is the page's own run
        for r in (e["lr_runs"][payload["lr_index"]], e["c_runs"][payload["c_index"]]):
            assert_cell(points[r], e["lengths"][r], runs[mode])


def test_views_on_one_arm_share_its_runs():
    """After a commit of c the new view's c arm is the old one (a page caches arms on this)."""
    view = cf.ExplorerConfig()
    moved_c, moved_lr = replace(view, threshold=0.2), replace(view, lr=0.1)
    assert arm_config(moved_c, "norm", "c") == arm_config(view, "norm", "c")
    assert arm_config(moved_c, "norm", "lr") != arm_config(view, "norm", "lr")
    assert arm_config(moved_c, "none", "lr") == arm_config(view, "none", "lr")  # c does not touch it
    assert arm_config(moved_lr, "norm", "lr") == arm_config(view, "norm", "lr")
    assert arm_config(replace(view, present=True), "norm", "c") == arm_config(view, "norm", "c")
    # Every step count up to 100 shares the default view's arms (a prefix of 100 steps) ...
    for steps in (1, 59, 61, 100):
        assert arm_config(replace(view, steps=steps), "norm", "c") == arm_config(view, "norm", "c")
    assert arm_config(view, "norm", "c").steps == 100
    # ... and a longer run is computed to the next of ARM_STEPS, up to MAX_STEPS.
    assert [arm_steps(n) for n in (101, 200, 201, 499, 501, MAX_STEPS)] == [200, 200, 300, 500, 1000, 1000]
    # AdamW's decay changes every arm (the arm cache's key is the arm's settings)
    adamw = replace(view, optimizer="adamw")
    decayed = replace(adamw, weight_decay=0.2)
    for arm in ("lr", "c"):
        assert arm_config(decayed, "norm", arm) != arm_config(adamw, "norm", arm)
    # and an arm computed for one view is the other's, cell for cell
    values = tuple(cf.THRESHOLD_CHOICES)
    for a, b in zip(arm_runs(view, "norm", "c", values), arm_runs(moved_c, "norm", "c", values), strict=True):
        np.testing.assert_array_equal(a.params, b.params)


def test_the_arm_cache_holds_one_entry_per_arm_settings():
    """cached_arm_runs (the page's cache of arms): the runs shared_arm_runs computes, and views
    that share an arm's settings get the very same runs back, computed once."""
    view = cf.ExplorerConfig()
    values = tuple(cf.THRESHOLD_CHOICES)
    first = cached_arm_runs(view, "norm", "c", values)
    for a, b in zip(first, shared_arm_runs(view, "norm", "c", values), strict=True):
        np.testing.assert_array_equal(a.params, b.params)
        np.testing.assert_array_equal(a.clipped, b.clipped)
    # Another c, step count up to 100 or view toggle: the same arm, a cache hit.
    same = cached_arm_runs(replace(view, threshold=0.2, steps=61, present=True), "norm", "c", values)
    assert all(x is y for x, y in zip(first, same, strict=True))
    # Another learning rate, or AdamW's decay: another arm, computed anew.
    for other in (replace(view, lr=0.1), replace(view, optimizer="adamw", weight_decay=0.2)):
        runs = cached_arm_runs(other, "norm", "c", values)
        assert runs[0] is not first[0]
        np.testing.assert_array_equal(runs[3].params, shared_arm_runs(other, "norm", "c", values)[3].params)


def test_a_rule_c_does_not_touch_has_one_run_for_every_c():
    payload = payload_of(cf.ExplorerConfig(paths=("none", "autoclip", "norm")))
    for mode in ("none", "autoclip"):
        e = entry(payload, mode)
        assert len(set(e["c_runs"])) == 1 and len(e["lengths"]) == len(cf.LR_CHOICES)
        assert not e["uses_c"]
    assert entry(payload, "norm")["uses_c"] and len(set(entry(payload, "norm")["c_runs"])) == len(
        cf.THRESHOLD_CHOICES
    )


def test_an_off_grid_value_replaces_its_nearest_grid_value():
    values, index = slider_values(cf.LR_CHOICES, 0.47)
    assert values[index] == 0.47 and cf.LR_CHOICES[index] == 0.5 and len(values) == len(cf.LR_CHOICES)


def test_a_diverging_run_is_cut_and_padded_never_sent_as_a_number():
    config = replace(cf.story_config("ravine"), start=(3.0, 2.5), lr=10.0, steps=200, paths=("none",))
    payload = payload_of(config)
    e = entry(payload, "none")
    centre = e["lr_runs"][payload["lr_index"]]
    run = run_modes(config).runs["none"]
    assert run.diverged_at is not None and e["lengths"][centre] == len(run.params) < 201
    assert_cell(unpack_points(e, 200)[centre], e["lengths"][centre], run)
    assert "NaN" not in json.dumps(payload)  # NaN lives only inside the base64 bytes


def test_the_payload_fits_the_issues_budget():
    image = ("data:image/png;base64," + "A" * 20_000, -4.0, -0.4)  # about the real background's size
    assert payload_bytes(payload_of(cf.ExplorerConfig(), image=image)) <= MAX_BYTES_DEFAULT
    assert payload_bytes(payload_of(cf.ExplorerConfig(steps=1000), image=image)) <= MAX_BYTES_LONG


def test_the_readme_states_the_payload_sizes():
    """The README's sizes are the payload's (with an image about the size of the real background)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    found = re.search(r"about (\d+) KB at the defaults, ([\d.]+) MB at 1000 steps", readme)
    assert found, "the README states the map payload's sizes"
    image = ("data:image/png;base64," + "A" * 20_000, -4.0, -0.4)
    small = payload_bytes(payload_of(cf.ExplorerConfig(), image=image)) / 1000
    large = payload_bytes(payload_of(cf.ExplorerConfig(steps=1000), image=image)) / 1e6
    assert abs(small - float(found[1])) <= 0.1 * small, small
    assert abs(large - float(found[2])) <= 0.1 * large, large


def test_hidden_rules_are_not_sent_and_the_view_key_changes_with_them():
    config = cf.ExplorerConfig()
    shown = payload_of(config)
    hidden = map_payload(
        compute_cross(config.__class__(paths=("value", "norm"))),
        window=config.scape.window,
        axis_labels=config.scape.axis_labels,
        walls=[],
        image=IMAGE,
    )
    assert [p["mode"] for p in hidden["paths"]] == ["value", "norm"]
    assert hidden["view"] != shown["view"]
    assert payload_of(config)["view"] == shown["view"]  # the same view: the browser draws nothing new


def test_take_away_names_each_paths_outcome_from_the_runs():
    result = run_modes(cf.ExplorerConfig())
    sentence = take_away(result)
    tolerance = tolerance_of(result.config)
    for mode, run in result.visible().items():
        assert outcome(run, result.window, tolerance) in sentence
        assert ls.CLIP_SPECS[mode].label in sentence
    # computed independently: the unclipped default run leaves the window at step 4 and does not train
    wild = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=60)
    (x0, x1), (y0, y1) = result.window
    inside = [(x0 <= x <= x1) and (y0 <= y <= y1) for x, y in wild.params]
    assert f"no clipping is thrown off the map at step {inside.index(False)}" in sentence
    assert wild.final_loss > tolerance
    assert sentence.endswith(".") and ". " not in sentence  # one sentence


def test_a_new_decay_or_number_format_is_a_new_view_for_the_component():
    """The component redraws only when the payload's ``view`` changes: every setting that changes
    the runs must change it."""
    base = cf.ExplorerConfig(steps=20, optimizer="adamw", lr=0.05)
    views = {
        payload_of(config)["view"]
        for config in (
            base,
            replace(base, weight_decay=0.3),
            replace(base, dtype="float32"),
            replace(base, noise={"sigma": 0.1}),
        )
    }
    assert len(views) == 4


def test_the_pages_runs_and_the_in_figure_sweep_run_at_the_views_decay():
    """run_modes (narration, table) and sweep_setting (the in-figure slider) use the view's decay too."""
    from landscapes.views.explorer import sweep_setting

    config = cf.ExplorerConfig(steps=30, lr=0.05, optimizer="adamw", weight_decay=0.4, paths=("norm",))
    expected = reference(config, "norm", config.lr, config.threshold)
    assert reference(replace(config, weight_decay=0.01), "norm", config.lr, config.threshold).params[
        -1
    ].tolist() != (expected.params[-1].tolist())
    np.testing.assert_array_equal(run_modes(config).runs["norm"].params, expected.params)
    sweep = sweep_setting(config, "c")
    at_c = sweep.runs["norm"][sweep.values.index(config.threshold)]
    np.testing.assert_array_equal(at_c.params, expected.params)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"opt": "adam", "steps": "75"},  # 75 steps: the arms run 80, the view's runs are cut out of them
        {"paths": "norm,autoclip,zclip", "steps": "41"},  # hidden built-ins, rules with state, own thresholds
        {"dtype": "float32", "lr": "3.0", "c": "0.5"},
    ],
)
def test_the_views_runs_are_the_cells_the_map_draws_and_the_engines_runs(query):
    config, notices = cf.from_query(query)
    assert not notices
    modes = view_modes(config)
    cross = compute_cross(config, modes=modes)
    exact = run_modes(config).runs
    for first in ("c", "lr"):
        runs = view_runs(config, modes, first=first)
        assert tuple(runs) == tuple(exact) == modes
        for mode, run in runs.items():
            cell = cross.run_at(mode)
            # the cell the map draws at the sliders' positions, to the bit, cut to the view's steps
            assert len(cell.params) >= len(run.params) == config.steps + 1
            np.testing.assert_array_equal(run.params, cell.params[: config.steps + 1])
            # and the engine's own run of the view (another compiled program: the last bits may differ)
            ref = exact[mode]
            assert (run.steps_requested, run.steps_taken, run.reason) == (
                ref.steps_requested,
                ref.steps_taken,
                ref.reason,
            )
            assert (run.threshold, run.lr, run.clip, run.dtype) == (
                ref.threshold,
                ref.lr,
                ref.clip,
                ref.dtype,
            )
            assert run.clip_options == ref.clip_options and run.noise == ref.noise
            np.testing.assert_array_equal(run.clipped, ref.clipped)
            rtol = 1e-5 if config.dtype == "float32" else 1e-12
            for name in ("params", "loss", "grad", "update", "clip_threshold"):
                np.testing.assert_allclose(
                    getattr(run, name), getattr(ref, name), rtol=rtol, atol=rtol, err_msg=name
                )


def test_view_runs_reads_the_arm_it_is_told_to_first():
    config = cf.ExplorerConfig()
    asked: list[tuple[str, str]] = []

    def arm(cfg, mode, which, values):
        asked.append((mode, which))
        return arm_runs(cfg, mode, which, values)

    view_runs(config, ("none", "norm"), arm=arm, first="c")
    assert asked == [("none", "lr"), ("norm", "c")]  # c does not move the unclipped path
    asked.clear()
    view_runs(config, ("none", "norm"), arm=arm, first="lr")
    assert asked == [("none", "lr"), ("norm", "lr")]
    with pytest.raises(ValueError, match="first"):
        view_runs(config, ("norm",), first="steps")
