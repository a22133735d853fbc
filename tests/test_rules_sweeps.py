"""Sweeps for every rule, stateful ones too: each cell is simulate's run, to the bit or to the
tolerance the registry states for that rule (tested per rule), with options, AdamW and noise."""

import numpy as np
import pytest

import landscapes as ls
from landscapes.core import sweep_program
from landscapes.core.clipping import CLIP_SPECS

GRID = (4, 3)
RULES = [name for name in CLIP_SPECS if name in ls.clip_modes()]


def assert_cells_are_runs(sweep, run_of, rule):
    tol = CLIP_SPECS[rule].sweep_tolerance
    ny, nx = sweep.shape
    for j in range(ny):
        for i in range(nx):
            run = run_of(j, i)
            end = run.params[-1]
            if tol == 0:
                assert (sweep.final_x[j, i], sweep.final_y[j, i]) == tuple(end), (rule, j, i)
                assert sweep.final_loss[j, i] == run.final_loss
            else:
                np.testing.assert_allclose(
                    [sweep.final_x[j, i], sweep.final_y[j, i]], end, rtol=tol, atol=1e-15
                )
            assert sweep.n_clipped[j, i] == run.n_clipped, (rule, j, i)
            assert sweep.steps_taken[j, i] == run.steps_taken
            want_div = -1 if run.diverged_at is None else run.diverged_at
            assert sweep.diverged_at[j, i] == want_div
            np.testing.assert_allclose(sweep.longest_step[j, i], run.longest_step, rtol=max(tol, 1e-15))


@pytest.mark.parametrize("rule", RULES)
def test_every_cell_of_a_start_map_is_simulates_run_for_every_rule(rule):
    sweep = ls.sweep_starts("pascanu", 0.3, 40, rule, resolution=GRID)
    assert sweep.clip == rule and sweep.threshold == CLIP_SPECS[rule].default_threshold

    def run_of(j, i):
        return ls.simulate("pascanu", (sweep.x[i], sweep.y[j]), 0.3, 40, rule)

    assert_cells_are_runs(sweep, run_of, rule)


@pytest.mark.parametrize(
    ("rule", "thresholds", "options"),
    [
        ("autoclip", [5.0, 25.0, 90.0], {}),
        ("zclip", [1.0, 2.5, 4.0], {"warmup": 5, "alpha": 0.9}),
        ("agc", [0.005, 0.05, 0.5], {"eps": 0.1}),
        ("normalize", [0.1, 1.0, 3.0], {"beta": 0.01}),
        ("skip", [0.5, 5.0, 50.0], {}),
        ("clip_update", [0.1, 1.0, 10.0], {}),
    ],
)
def test_every_cell_of_an_hparam_sweep_is_simulates_run_with_options(rule, thresholds, options):
    lrs = [0.05, 0.2, 0.5, 1.0]
    sweep = ls.sweep_hparams("pascanu", (4.7, -2.2), lrs, thresholds, 40, rule, clip_options=options)
    assert sweep.clip_options == ls.simulate("pascanu", None, 0.1, 0, rule, clip_options=options).clip_options

    def run_of(j, i):
        return ls.simulate("pascanu", (4.7, -2.2), lrs[i], 40, rule, thresholds[j], clip_options=options)

    assert_cells_are_runs(sweep, run_of, rule)


@pytest.mark.parametrize(
    ("rule", "optimizer"), [("clip_update", "momentum"), ("skip", "adam"), ("norm", "adamw")]
)
def test_stateful_rules_and_adamw_in_sweeps_match_simulate(rule, optimizer):
    decay = {"weight_decay": 0.05} if optimizer == "adamw" else None
    sweep = ls.sweep_starts(
        "pascanu", 0.05, 40, rule, 0.5, optimizer, resolution=GRID, momentum=0.8, optimizer_options=decay
    )
    assert sweep.optimizer_options == ({"weight_decay": 0.05} if decay else {})

    def run_of(j, i):
        start = (sweep.x[i], sweep.y[j])
        return ls.simulate(
            "pascanu", start, 0.05, 40, rule, 0.5, optimizer, momentum=0.8, optimizer_options=decay
        )

    assert_cells_are_runs(sweep, run_of, rule)


@pytest.mark.parametrize("rule", ["norm", "autoclip", "skip"])
def test_noisy_sweeps_draw_the_noise_simulate_draws(rule):
    noise = {"sigma": 0.05, "spike_prob": 0.2, "spike_scale": 30.0, "seed": 5}
    sweep = ls.sweep_starts("pascanu", 0.1, 40, rule, resolution=GRID, noise=noise)
    assert sweep.noise == ls.simulate("pascanu", None, 0.1, 0, noise=noise).noise

    def run_of(j, i):
        return ls.simulate("pascanu", (sweep.x[i], sweep.y[j]), 0.1, 40, rule, noise=noise)

    assert_cells_are_runs(sweep, run_of, rule)
    quiet = ls.sweep_starts("pascanu", 0.1, 40, rule, resolution=GRID)
    assert not np.array_equal(quiet.final_x, sweep.final_x)


def test_a_stateful_sweep_compiles_once_for_every_value():
    def traces():
        return sum(
            n for key, n in sweep_program.SWEEP_TRACE_COUNTS.items() if key[:3] == ("ravine", "sgd", "zclip")
        )

    ls.sweep_starts("ravine", 0.1, 10, "zclip", 2.0, resolution=GRID)
    count = traces()
    for lr, z, steps, options in [
        (0.5, 1.0, 50, {"warmup": 3}),
        (1e-3, 4.0, 0, {"alpha": 0.5, "max_norm": 1.0}),
    ]:
        ls.sweep_starts("ravine", lr, steps, "zclip", z, resolution=GRID, clip_options=options)
    ls.sweep_hparams("ravine", None, [0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0], 20, "zclip")
    assert traces() == count


def test_sensitivity_reruns_with_the_sweeps_rule_and_options():
    sweep = ls.sweep_starts("pascanu", 0.3, 40, "zclip", 2.0, resolution=GRID, clip_options={"warmup": 4})
    from landscapes.core.sweeps import sweep_sensitivity

    sens = sweep_sensitivity(sweep, nudge=1e-15)
    assert sens.clip == "zclip" and sens.outcome.shape == sweep.shape


@pytest.mark.parametrize("rule", ["agc", "autoclip", "zclip", "clip_update", "skip"])
def test_a_large_map_of_a_stateful_rule_is_bit_for_bit_simulate(rule):
    # 4096 cells: two shards of 2048-cell blocks, where a vmapped reduction
    # used to round differently from the one-cell program.
    sweep = ls.sweep_starts("pascanu", 0.1, 100, rule, resolution=64)
    rng = np.random.default_rng(0)
    for j, i in rng.integers(0, 64, size=(25, 2)):
        run = ls.simulate("pascanu", (sweep.x[i], sweep.y[j]), 0.1, 100, rule)
        assert (sweep.final_x[j, i], sweep.final_y[j, i]) == tuple(run.params[-1]), (rule, j, i)
        assert sweep.n_clipped[j, i] == run.n_clipped


def test_autoclips_history_is_sized_to_the_sweep_and_changes_nothing():
    from landscapes.core.stateful_rules import history_capacity

    assert [history_capacity("autoclip", n) for n in (0, 10, 16, 17, 200, 1000)] == [
        16,
        16,
        16,
        32,
        256,
        1000,
    ]
    assert history_capacity("norm", 200) == 0
    for steps in (15, 16, 17):  # either side of a capacity step: the same runs as simulate's
        sweep = ls.sweep_starts("pascanu", 0.3, steps, "autoclip", 20.0, resolution=GRID)
        run = ls.simulate("pascanu", (sweep.x[1], sweep.y[2]), 0.3, steps, "autoclip", 20.0)
        assert (sweep.final_x[2, 1], sweep.final_y[2, 1]) == tuple(run.params[-1])
