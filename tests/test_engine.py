"""The descent engine: the paper's numbers, references, divergence, compiles, validation."""

import dataclasses

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes import reference
from landscapes.core import engine


def test_catapult_unclipped():
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=10)
    assert run.grad_norm[3] == pytest.approx(131, rel=0.01)
    np.testing.assert_allclose(run.params[4], [39.04, 53.44], atol=0.01)
    assert run.loss[4] == pytest.approx(0.09, abs=1e-12)
    # Thrown onto a plateau where the gradient is exactly zero: training is dead.
    assert np.all(run.grad_norm[4:] == 0)
    np.testing.assert_array_equal(run.params[-1], run.params[4])


def test_catapult_norm_clipped():
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=10, clip="norm", threshold=1.0)
    np.testing.assert_allclose(run.params[4], [4.84, -1.92], atol=0.01)
    assert run.clipped[3] and not run.clipped[:3].any()
    assert run.step_length[3] == pytest.approx(0.5)


def test_first_steps_walk_toward_the_ravine_then_meet_the_wall():
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=4)
    assert np.all(np.diff(run.loss[:3]) < 0)
    assert np.all(run.grad_norm[:3] < 0.2) and run.grad_norm[3] > 100


CONFIGS = [
    dict(clip="none", optimizer="sgd", lr=0.5),
    dict(clip="value", optimizer="sgd", lr=0.5, threshold=0.05),
    dict(clip="norm", optimizer="sgd", lr=0.5, threshold=1.0),
    dict(clip="norm", optimizer="momentum", lr=0.05, threshold=0.5),
    dict(clip="value", optimizer="adam", lr=0.01, threshold=0.1),
    dict(clip="none", optimizer="adam", lr=0.02),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['optimizer']}-{c['clip']}")
@pytest.mark.parametrize("T", [10, 50])
def test_engine_matches_python_loop_with_bptt(config, T):
    start = (4.7, -2.2)
    run = ls.simulate("pascanu", start, steps=30, T=T, **config)
    ref = reference.descend(lambda w, b: reference.pascanu_loss_and_grad(w, b, T), start, steps=30, **config)
    assert run.steps_taken == len(ref["update"]) == 30
    for key in ("params", "loss", "grad", "update"):
        np.testing.assert_allclose(getattr(run, key), ref[key], rtol=1e-9, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("name", ["ravine", "deep_product", "staircase"])
@pytest.mark.parametrize("clip", ["none", "value", "norm"])
def test_engine_matches_python_loop_on_every_landscape(name, clip):
    import jax

    scape = ls.get_landscape(name)
    p = scape.param_vector(scape.defaults())
    grad = jax.jit(jax.value_and_grad(lambda th: scape.loss(th, p)))

    def loss_and_grad(a, b):
        value, g = grad(np.array([a, b]))
        return float(value), np.asarray(g)

    run = ls.simulate(name, None, lr=0.05, steps=25, clip=clip, threshold=0.5)
    ref = reference.descend(loss_and_grad, scape.default_start, 0.05, 25, clip, 0.5)
    for key in ("params", "loss", "grad", "update"):
        np.testing.assert_allclose(getattr(run, key), ref[key], rtol=1e-9, atol=1e-12, err_msg=key)


def test_trajectory_shapes_and_bookkeeping():
    run = ls.simulate("pascanu", None, lr=0.5, steps=25, clip="norm", threshold=1.0)
    k = run.steps_taken
    assert k == 25
    assert run.params.shape == (k + 1, 2) and run.loss.shape == (k + 1,)
    assert run.grad.shape == run.update.shape == (k, 2)
    assert run.grad_norm.shape == run.clipped.shape == (k,)
    assert run.clipped.dtype == bool
    np.testing.assert_allclose(run.grad_norm, np.linalg.norm(run.grad, axis=1))
    np.testing.assert_array_equal(run.clipped, run.grad_norm > 1.0)
    np.testing.assert_allclose(np.diff(run.params, axis=0), run.update)
    assert run.diverged_at is None and run.reason == "completed all 25 steps"
    assert run.n_clipped == run.clipped.sum() and run.best_loss == run.loss.min()


def test_zero_steps_and_the_maximum():
    run = ls.simulate("ravine", None, lr=0.1, steps=0)
    assert run.params.shape == (1, 2) and run.update.shape == (0, 2) and run.longest_step == 0
    assert ls.simulate("ravine", None, lr=0.1, steps=ls.MAX_STEPS).steps_taken == ls.MAX_STEPS


def test_divergence_stops_and_explains_without_nan():
    # On a depth-30 product an unclipped step throws w far beyond 1, where
    # w**30 overflows float64: the next gradient is not finite.
    run = ls.simulate("deep_product", (1.2, 0.01), lr=1e12, steps=50, depth=30)
    assert run.diverged_at is not None and run.diverged_at < 50
    assert run.steps_taken == run.diverged_at
    assert "diverged at step" in run.reason and "not finite" in run.reason
    for key in ("params", "loss", "grad", "update", "grad_norm"):
        assert np.isfinite(getattr(run, key)).all(), key
    # The same start with norm clipping stays finite for the whole run.
    safe = ls.simulate("deep_product", (1.2, 0.01), lr=1e12, steps=50, clip="norm", threshold=1e-12, depth=30)
    assert safe.diverged_at is None


def test_update_to_infinity_is_reported():
    run = ls.simulate("ravine", (-1.0, 0.0), lr=1e306, steps=5, steepness=1e4)
    assert run.diverged_at == 0 and "infinity" in run.reason
    assert run.params.shape == (1, 2)


def test_float32_is_available_and_differs_near_the_wall():
    run32 = ls.simulate("pascanu", None, lr=0.5, steps=5, dtype="float32")
    run64 = ls.simulate("pascanu", None, lr=0.5, steps=5)
    assert run32.params.dtype == np.float32 and run64.params.dtype == np.float64
    assert run32.dtype == "float32"
    assert not np.array_equal(run32.grad.astype(np.float64), run64.grad)


def test_no_recompile_when_values_change():
    key = ("staircase", "momentum", "value", "float32")
    before = engine.TRACE_COUNTS[key]
    ls.simulate("staircase", None, 0.1, 10, "value", 1.0, "momentum", dtype="float32")
    assert engine.TRACE_COUNTS[key] - before <= 1  # traced now, unless an earlier test did
    # The counter counts traces: with jax's caches emptied the same call traces once more.
    jax.clear_caches()
    retraced = engine.TRACE_COUNTS[key]
    ls.simulate("staircase", None, 0.1, 10, "value", 1.0, "momentum", dtype="float32")
    first = engine.TRACE_COUNTS[key]
    assert first == retraced + 1
    for lr, c, steps, start, cliffs, s, m in [
        (0.5, 2.0, 200, (1.0, 1.0), 2, 10.0, 0.5),
        (1e-3, 1e-2, 1000, (4.0, -2.0), 6, 900.0, 0.0),
        (3.0, 50.0, 1, (0.0, 0.0), 1, 1.0, 0.99),
        (0.2, 0.3, 0, (2, 1), 4, 40, 0.9),  # ints where floats were: still no retrace
    ]:
        ls.simulate(
            "staircase",
            start,
            lr,
            steps,
            "value",
            c,
            "momentum",
            momentum=m,
            dtype="float32",
            cliffs=cliffs,
            steepness=s,
        )
    assert engine.TRACE_COUNTS[key] == first
    # Another landscape, optimizer, mode or dtype is a program of its own.
    ls.simulate("staircase", None, 0.1, 10, "norm", 1.0, "momentum", dtype="float32")
    assert engine.TRACE_COUNTS[("staircase", "momentum", "norm", "float32")] >= 1


def test_rnn_length_is_traced_too():
    key = ("pascanu", "sgd", "norm", "float64")
    ls.simulate("pascanu", None, 0.5, 5, "norm", 1.0)
    count = engine.TRACE_COUNTS[key]
    for T in (1, 7, 50, 200):
        ls.simulate("pascanu", None, 0.5, 5, "norm", 1.0, T=T)
    assert engine.TRACE_COUNTS[key] == count


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(landscape="cliffy"), "unknown landscape 'cliffy'; choose one of pascanu"),
        (dict(lr=0.0), "learning rate must be finite and positive, got 0.0"),
        (dict(lr=float("nan")), "learning rate must be finite and positive"),
        (dict(lr="fast"), "learning rate must be a number, got 'fast'"),
        (dict(steps=1001), r"steps must lie in \[0, 1000\], got 1001"),
        (dict(steps=2.5), "steps must be a whole number, got 2.5"),
        (dict(steps=-1), "steps must lie in"),
        (dict(start=(1.0, float("inf"))), "start must be finite"),
        (dict(start=(1.0, 2.0, 3.0)), "start must be two numbers"),
        (dict(start="here"), "start must be two numbers"),
        (dict(clip="norm", threshold=-2.0), "threshold must be finite and positive, got -2.0"),
        (dict(clip="both"), "unknown clipping mode 'both'"),
        (dict(optimizer="rmsprop"), "unknown optimizer 'rmsprop'; choose one of sgd, momentum, adam"),
        (dict(momentum=1.0, optimizer="momentum"), r"momentum must lie in \[0, 1\)"),
        (dict(dtype="float16"), "dtype must be float64 or float32"),
        (dict(T=0), r"T must lie in \[1, 200\], got 0"),
        (dict(T=12.5), "T must be a whole number, got 12.5"),
        (dict(depth=3), "landscape 'pascanu' has no parameter depth \\(its parameters: T\\)"),
    ],
)
def test_bad_arguments_raise_clear_messages(kwargs, message):
    args = dict(landscape="pascanu", start=None, lr=0.5, steps=5) | kwargs
    with pytest.raises(ValueError, match=message):
        ls.simulate(**args)


def test_non_finite_start_loss_is_refused():
    with pytest.raises(ValueError, match="loss is not finite at the start"):
        ls.simulate("deep_product", (1e300, 0.0), lr=0.1, steps=3, depth=30)


@given(
    st.sampled_from(["sgd", "momentum", "adam"]),
    st.sampled_from(["none", "value", "norm"]),
    st.floats(1e-3, 10),
    st.floats(1e-2, 1e2),
    st.integers(0, 60),
)
def test_arrays_never_hold_nan(optimizer, clip, lr, c, steps):
    run = ls.simulate("pascanu", None, lr, steps, clip, c, optimizer)
    for key in ("params", "loss", "grad", "update", "grad_norm"):
        assert np.isfinite(getattr(run, key)).all()
    assert run.steps_taken == (steps if run.diverged_at is None else run.diverged_at)


@pytest.mark.parametrize("name", ["pascanu", "ravine", "deep_product", "staircase"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_simulate_modes_matches_simulate(name, optimizer):
    lr = 0.05 if optimizer == "adam" else 0.5
    runs = ls.simulate_modes(name, None, lr, 80, 0.7, optimizer)
    assert list(runs) == ["none", "value", "norm"]
    for mode, run in runs.items():
        single = ls.simulate(name, None, lr, 80, mode, 0.7, optimizer)
        assert run.clip == mode and run.steps_taken == single.steps_taken
        np.testing.assert_array_equal(run.clipped, single.clipped)
        np.testing.assert_allclose(run.params, single.params, rtol=1e-9, atol=1e-12)


def test_simulate_modes_is_one_program_for_every_value():
    key = ("ravine", "adam", ("none", "value", "norm"), "float64")
    ls.simulate_modes("ravine", None, 0.1, 10, 1.0, "adam")
    count = engine.TRACE_COUNTS[key]
    for lr, c, steps in [(0.5, 0.1, 300), (2.0, 30.0, 1), (1e-3, 1e-2, 1000)]:
        ls.simulate_modes("ravine", (1.0, 1.0), lr, steps, c, "adam", steepness=1e3)
    assert engine.TRACE_COUNTS[key] == count  # no retrace for new values (the counter itself is tested)


def test_simulate_many_matches_simulate_for_each_value():
    lrs = np.array([0.01, 0.3, 2.0])
    runs = ls.simulate_many("pascanu", None, lrs, 1.0, 40, "norm")
    for lr, run in zip(lrs, runs, strict=True):
        single = ls.simulate("pascanu", None, lr, 40, "norm", 1.0)
        np.testing.assert_allclose(run.params, single.params, rtol=1e-9, atol=1e-12)
        assert run.lr == lr and run.reason == single.reason


def _same_run(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=True), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize(
    ("landscape", "start", "lr", "steps", "params"),
    [
        ("pascanu", None, 0.5, 120, {}),  # completes every step
        ("staircase", None, 6.0, 90, {}),
        ("deep_product", (1.2, 0.01), 1e12, 50, {"depth": 30}),  # diverges part-way
        ("ravine", (-1.0, 0.0), 1e306, 5, {"steepness": 1e4}),  # diverges at step 0
    ],
)
def test_a_prefix_of_a_run_is_the_shorter_run(landscape, start, lr, steps, params):
    def run(k):
        return ls.simulate(landscape, start, lr, k, clip="norm", threshold=2.0, **params)

    long = run(steps)
    cuts = {0, 1, 2, steps // 3, steps}
    if long.diverged_at is not None:  # just before, at and after the failing step
        cuts |= {long.diverged_at, long.diverged_at + 1}
    for k in sorted(cuts):
        if k <= steps:
            _same_run(long.prefix(k), run(k))
    with pytest.raises(ValueError, match="prefix"):
        long.prefix(steps + 1)


def _default_compiler_twin(program, static: tuple[str, ...]):
    """``program`` compiled again with XLA's default options (its own carry QUICK_COMPILE)."""
    return jax.jit(program.__wrapped__, static_argnames=static)


@pytest.mark.parametrize(
    ("landscape", "optimizer", "dtype", "noise"),
    [
        ("pascanu", "sgd", "float64", None),
        ("pascanu", "adam", "float64", None),
        ("pascanu", "momentum", "float32", None),
        ("ravine", "sgd", "float64", {"sigma": 0.5, "spike_prob": 0.2, "seed": 3}),
    ],
)
def test_the_quickly_compiled_programs_give_the_default_compilers_numbers(
    monkeypatch, landscape, optimizer, dtype, noise
):
    """QUICK_COMPILE (XLA's elemental emitters, half the compile time) changes no bit of the map's
    batched runs, its surface or the narration's clip."""
    from landscapes.core import clipping, mesh
    from landscapes.core._jaxsetup import QUICK_COMPILE

    assert QUICK_COMPILE == {"xla_cpu_use_fusion_emitters": False}
    lrs = np.geomspace(0.01, 30.0, 45)
    window = ls.get_landscape(landscape).window
    points = np.stack(np.meshgrid(np.linspace(*window[0], 37), np.linspace(*window[1], 41)), -1)

    def compute():
        runs = {
            mode: ls.simulate_many(
                landscape, None, lrs, 2.0, 80, clip=mode, optimizer=optimizer, dtype=dtype, noise=noise
            )
            for mode in engine.stateless_modes()
        }
        surface = ls.evaluate_points(landscape, points.reshape(-1, 2))
        clips = [
            np.asarray(clipping.clip_gradient_compiled(np.asarray(g, dtype), mode, 1.5))
            for mode in engine.stateless_modes()
            for g in ((3.0, -40.0), (0.1, 0.2), (1e3, 1e-3))
        ]
        return runs, surface, clips

    quick = compute()
    monkeypatch.setattr(
        engine,
        "_descend_rule_batch",
        _default_compiler_twin(engine._descend_rule_batch, ("landscape", "optimizer", "modes")),
    )
    monkeypatch.setattr(mesh, "_evaluate", _default_compiler_twin(mesh._evaluate, ("landscape",)))
    monkeypatch.setattr(clipping, "_clip_program", _default_compiler_twin(clipping._clip_program, ("mode",)))
    default = compute()

    for mode, runs in quick[0].items():
        assert any(r.diverged or r.n_clipped for r in runs) or mode == "none"
        for a, b in zip(runs, default[0][mode], strict=True):
            for name in ("params", "loss", "grad", "update", "clipped", "clip_threshold", "spiked"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{mode} {name}")
            assert (a.diverged_at, a.reason) == (b.diverged_at, b.reason)
    for a, b in zip(quick[1], default[1], strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(quick[2], default[2], strict=True):
        np.testing.assert_array_equal(a, b)
