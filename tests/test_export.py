"""Exports: CSV and JSON round trips give the runs back bit for bit."""

import csv
import io
import json
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import explorer_configs

import landscapes as ls
from landscapes.views.config import ExplorerConfig

CSV_ARRAYS = ("params", "loss", "grad", "update", "grad_norm", "clipped")
#: The JSON file also keeps each rule's threshold at every step and the noise spikes.
ARRAYS = (*CSV_ARRAYS, "clip_threshold", "spiked")


@pytest.fixture(scope="module")
def explorer_runs():
    config = ExplorerConfig()
    runs = {
        mode: ls.simulate(
            config.landscape, config.start, config.lr, config.steps, mode, config.threshold, **config.params
        )
        for mode in config.paths
    }
    return config, runs


def _assert_same_arrays(a, b, keys=ARRAYS):
    for key in keys:
        x, y = np.asarray(getattr(a, key)), np.asarray(getattr(b, key))
        assert x.shape == y.shape, key
        np.testing.assert_array_equal(x, y, err_msg=key)
        # Bit for bit, including the sign of zero.
        np.testing.assert_array_equal(np.signbit(x), np.signbit(y), err_msg=key)


def test_csv_layout(explorer_runs):
    config, runs = explorer_runs
    text = ls.runs_to_csv(runs)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "mode",
        "step",
        "w",
        "b",
        "loss",
        "grad_w",
        "grad_b",
        "grad_norm",
        "update_w",
        "update_b",
        "clipped",
    ]
    # One row per step per mode: steps + 1 points each.
    assert len(rows) == 1 + sum(run.steps_taken + 1 for run in runs.values())
    assert [r[0] for r in rows[1:]].count("norm") == config.steps + 1
    first_norm = next(r for r in rows if r[0] == "norm")
    assert first_norm[1:4] == ["0", "4.7", "-2.2"]
    last = [r for r in rows if r[0] == "norm"][-1]
    assert last[5:] == [""] * 6
    assert {r[10] for r in rows[1:]} <= {"0", "1", ""}


def test_csv_round_trip_is_exact(explorer_runs):
    _, runs = explorer_runs
    tables = ls.runs_from_csv(ls.runs_to_csv(runs))
    assert list(tables) == list(runs)
    for mode, run in runs.items():
        assert tables[mode].mode == mode and tables[mode].param_names == ("w", "b")
        _assert_same_arrays(tables[mode], run, CSV_ARRAYS)


def test_json_round_trip_is_exact(explorer_runs):
    config, runs = explorer_runs
    text = ls.runs_to_json(runs, config)
    back = ls.runs_from_json(text)
    assert back.config == config
    assert list(back.runs) == list(runs)
    for mode, run in runs.items():
        again = back.runs[mode]
        _assert_same_arrays(again, run)
        for f in fields(run):
            if f.name in ("clip_threshold", "spiked"):  # per-step arrays (issue 12), refilled on reading
                np.testing.assert_array_equal(getattr(again, f.name), getattr(run, f.name), err_msg=f.name)
            elif f.name not in ARRAYS:
                assert getattr(again, f.name) == getattr(run, f.name), f.name
        assert again.params.dtype == run.params.dtype and again.clipped.dtype == bool


def test_json_layout(explorer_runs):
    config, runs = explorer_runs
    document = json.loads(ls.runs_to_json(runs, config))
    assert document["format"] == "cliffs-trajectories" and document["version"] == 4
    assert document["config"] == ls.views.config.to_query(config)  # the URL form, nothing dropped
    assert document["config"]["lr"] == "0.5" and document["config"]["T"] == "50"
    assert [document["runs"][m]["outcome"] for m in ("none", "value", "norm")] == [
        "thrown",
        "stuck",
        "trains",
    ]
    assert document["runs"]["norm"]["threshold"] == 1.0 and document["runs"]["norm"]["clip"] == "norm"
    assert len(document["rows"]) == sum(run.steps_taken + 1 for run in runs.values())
    first = document["rows"][0]
    assert first["mode"] == "none" and first["step"] == 0 and first["w"] == 4.7
    assert document["rows"][config.steps]["grad_w"] is None  # the last point of the first run
    assert ls.runs_from_json(ls.runs_to_json(runs)).config is None


@given(explorer_configs())
@settings(max_examples=30, deadline=None)
def test_json_keeps_every_setting(config):
    """The export stores the settings in their URL form: every field comes back (scrub, predict too)."""
    runs = {"norm": ls.simulate(config.landscape, config.start, config.lr, 2, "norm", config.threshold)}
    assert ls.runs_from_json(ls.runs_to_json(runs, config)).config == config


def test_json_with_bad_settings_is_refused(explorer_runs):
    config, runs = explorer_runs
    document = json.loads(ls.runs_to_json(runs, config))
    document["config"]["lr"] = "lots"
    with pytest.raises(ValueError, match="stored settings are not valid"):
        ls.runs_from_json(json.dumps(document))


def test_unusual_runs_round_trip():
    runs = {
        # stops early: the arrays hold only the steps taken
        "diverged": ls.simulate("deep_product", (1.2, 0.01), lr=1e12, steps=50, depth=30),
        "float32": ls.simulate("deep_product", None, lr=0.1, steps=20, clip="value", dtype="float32"),
        "empty": ls.simulate("deep_product", None, lr=0.1, steps=0),
        "adam": ls.simulate("deep_product", None, lr=0.05, steps=30, optimizer="adam", clip="norm"),
    }
    assert runs["diverged"].diverged_at is not None
    back = ls.runs_from_json(ls.runs_to_json(runs)).runs
    tables = ls.runs_from_csv(ls.runs_to_csv(runs))
    for mode, run in runs.items():
        _assert_same_arrays(back[mode], run)
        _assert_same_arrays(tables[mode], run, CSV_ARRAYS)
        assert back[mode].diverged_at == run.diverged_at and back[mode].reason == run.reason
    assert back["float32"].params.dtype == np.float32
    assert tables["empty"].grad.shape == (0, 2) and tables["empty"].params.shape == (1, 2)


def test_placement_demos_export():
    demos = ls.placement_demos(steps=8)
    runs = {name: demo.trajectory for name, demo in demos.items()}
    back = ls.runs_from_json(ls.runs_to_json(runs)).runs
    for name in runs:
        _assert_same_arrays(back[name], runs[name])


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(
    st.integers(0, 6).flatmap(lambda k: st.lists(finite, min_size=9 * k + 3, max_size=9 * k + 3)), st.data()
)
def test_any_finite_float_survives(values, data):
    k = (len(values) - 3) // 9
    v = np.array(values)
    run = ls.Trajectory(
        params=v[: 2 * k + 2].reshape(k + 1, 2),
        loss=v[2 * k + 2 : 3 * k + 3],
        grad=v[3 * k + 3 : 5 * k + 3].reshape(k, 2),
        update=v[5 * k + 3 : 7 * k + 3].reshape(k, 2),
        grad_norm=v[7 * k + 3 : 8 * k + 3],
        clipped=np.array(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)), dtype=bool),
        diverged_at=None,
        reason="synthetic",
        landscape="ravine",
        lr=data.draw(st.floats(1e-300, 1e300)),
        clip="norm",
        threshold=data.draw(st.floats(1e-300, 1e300)),
        optimizer="sgd",
        landscape_params={"steepness": 100.0},
        steps_requested=k,
    )
    back = ls.runs_from_json(ls.runs_to_json({"x": run})).runs["x"]
    _assert_same_arrays(back, run)
    assert back.lr == run.lr and back.threshold == run.threshold
    _assert_same_arrays(ls.runs_from_csv(ls.runs_to_csv({"x": run}))["x"], run, CSV_ARRAYS)


def test_mode_names_with_commas_and_quotes():
    run = ls.simulate("ravine", None, lr=0.1, steps=3)
    name = 'clip "after", step'
    assert list(ls.runs_from_csv(ls.runs_to_csv({name: run}))) == [name]


def test_refuses_mixed_landscapes_and_non_finite_values():
    a = ls.simulate("pascanu", None, lr=0.1, steps=2)
    b = ls.simulate("ravine", None, lr=0.1, steps=2)
    with pytest.raises(ValueError, match="different parameters"):
        ls.runs_to_csv({"a": a, "b": b})
    bad = replace(a, loss=np.array([0.1, np.nan, 0.2]))
    with pytest.raises(ValueError, match="non-finite"):
        ls.runs_to_json({"a": bad})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b,c\n", "unexpected header"),
        (
            "mode,step,w,b,loss,grad_w,grad_b,grad_norm,update_w,update_b,clipped\nx,0,1,2\n",
            "expected 11 cells",
        ),
        (
            "mode,step,w,b,loss,grad_w,grad_b,grad_norm,update_w,update_b,clipped\nx,0,1,two,3,,,,,,\n",
            "not a number",
        ),
        (
            "mode,step,w,b,loss,grad_w,grad_b,grad_norm,update_w,update_b,clipped\nx,1,1,2,3,,,,,,\n",
            "not 0, 1, 2",
        ),
        (
            "mode,step,w,b,loss,grad_w,grad_b,grad_norm,update_w,update_b,clipped\nx,0,1,2,3,1,1,1,1,1,1\n",
            "no gradient or update",
        ),
    ],
)
def test_csv_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        ls.runs_from_csv(text)


def test_json_parse_errors(explorer_runs):
    _, runs = explorer_runs
    with pytest.raises(ValueError, match="not JSON"):
        ls.runs_from_json("{")
    with pytest.raises(ValueError, match="not a cliffs-trajectories document"):
        ls.runs_from_json("{}")
    document = json.loads(ls.runs_to_json(runs))
    document["version"] = 99
    with pytest.raises(ValueError, match="unsupported version 99"):
        ls.runs_from_json(json.dumps(document))


def test_any_rule_with_its_options_and_thresholds_round_trips():
    """Adaptive rules, their options and their per-step thresholds (inf included) come back exactly."""
    from landscapes.views.explorer import run_modes

    config = ExplorerConfig(
        paths=("none", "agc", "autoclip", "zclip", "skip"),
        rule_options={"zclip": {"warmup": 5, "alpha": 0.9}, "autoclip": {"threshold": 30}},
    )
    runs = run_modes(config, config.paths).runs
    assert np.isinf(runs["zclip"].clip_threshold[0]) and np.isfinite(runs["zclip"].clip_threshold[-1])
    back = ls.runs_from_json(ls.runs_to_json(runs, config))
    assert back.config == config
    for mode, run in runs.items():
        again = back.runs[mode]
        _assert_same_arrays(again, run)
        for f in fields(run):
            if f.name not in ARRAYS:
                assert getattr(again, f.name) == getattr(run, f.name), f.name


def test_json_carries_the_number_format_and_the_noise():
    """Version 4: the settings' dtype and noise travel with the runs, which were computed with them."""
    from landscapes.views.config import preset
    from landscapes.views.explorer import run_modes

    config = replace(preset("noisy").config, dtype="float32", steps=30)
    runs = run_modes(config).runs
    document = json.loads(ls.runs_to_json(runs, config))
    assert document["version"] == 4 == ls.views.export.FORMAT_VERSION
    assert document["config"]["dtype"] == "float32"
    assert document["config"]["noise"] == "sigma:0,spike_prob:0.05,spike_scale:100,seed:0"
    for mode, run in runs.items():
        meta = document["runs"][mode]
        assert meta["dtype"] == "float32" and meta["noise"] == dict(config.noise)
        assert meta["spiked"] == [bool(v) for v in run.spiked] and any(meta["spiked"])
    back = ls.runs_from_json(ls.runs_to_json(runs, config))
    assert back.config == config
    for mode, run in runs.items():
        assert back.runs[mode].params.dtype == np.float32
        assert np.array_equal(back.runs[mode].params, run.params)
        assert np.array_equal(back.runs[mode].spiked, run.spiked) and back.runs[mode].noise == run.noise


def test_version_3_files_are_still_read_as_float64_without_noise(explorer_runs):
    config, runs = explorer_runs
    document = json.loads(ls.runs_to_json(runs, config))
    document["version"] = 3
    back = ls.runs_from_json(json.dumps(document))
    assert back.config == config and back.config.dtype == "float64" and back.config.noise is None
