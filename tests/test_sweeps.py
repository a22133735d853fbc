"""Sweeps: every cell is the run simulate makes, divergence, outcome classes, compiles, validation."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes.core import outcomes, sweep_program
from landscapes.core.engine import value_and_grad_fn
from landscapes.reference import sweeps as reference_sweeps

# One small non-square grid for most tests: 6 columns (x) by 5 rows (y), so a
# transposed layout cannot pass, and every test reuses the same compiled program.
GRID = (6, 5)
# 6 learning rates x 5 thresholds: an hparam sweep with as many cells, so the same program.
LRS = [0.02, 0.1, 0.3, 0.5, 1.0, 3.0]
THRESHOLDS = [0.05, 0.3, 1.0, 5.0, 50.0]


def expected_cell(run: ls.Trajectory, window) -> dict:
    left = run.left_window_at(window)
    return dict(
        final_x=run.params[-1, 0],
        final_y=run.params[-1, 1],
        final_loss=run.final_loss,
        start_loss=run.loss[0],
        longest_step=run.longest_step,
        steps_taken=run.steps_taken,
        diverged_at=-1 if run.diverged_at is None else run.diverged_at,
        left_at=-1 if left is None else left,
        n_clipped=run.n_clipped,
    )


def assert_cell_matches(sweep: ls.Sweep, j: int, i: int, run: ls.Trajectory) -> None:
    for key, want in expected_cell(run, sweep.window).items():
        got = getattr(sweep, key)[j, i]
        if isinstance(want, int):
            assert got == want, (key, j, i)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15, err_msg=f"{key} at {(j, i)}")


# (landscape, lr, steps, threshold, params): each crosses its cliff somewhere on
# the grid. Every mode on two landscapes, two modes on the others (each
# combination is a compile of its own).
START_CASES = {
    "pascanu": (0.5, 60, 1.0, {"T": 50}),
    "ravine": (0.05, 40, 0.5, {}),
    "deep_product": (0.3, 40, 0.2, {}),
    "staircase": (0.5, 40, 0.5, {}),
}
MODES = {"pascanu": ["none", "value", "norm"], "ravine": ["none", "value", "norm"]}


@pytest.mark.parametrize(
    ("name", "clip"),
    [(name, clip) for name in START_CASES for clip in MODES.get(name, ["none", "norm"])],
)
def test_every_cell_of_a_start_map_is_the_run_simulate_makes(name, clip):
    lr, steps, threshold, params = START_CASES[name]
    sweep = ls.sweep_starts(name, lr, steps, clip, threshold, resolution=GRID, **params)
    assert sweep.shape == (5, 6) and sweep.x.shape == (6,) and sweep.y.shape == (5,)
    (x0, x1), (y0, y1) = ls.get_landscape(name).window
    np.testing.assert_allclose(sweep.x, np.linspace(x0, x1, 6))
    np.testing.assert_allclose(sweep.y, np.linspace(y0, y1, 5))
    for j in range(5):
        for i in range(6):
            run = ls.simulate(name, (sweep.x[i], sweep.y[j]), lr, steps, clip, threshold, **params)
            assert_cell_matches(sweep, j, i, run)


@pytest.mark.parametrize(("optimizer", "lr"), [("momentum", 0.05), ("adam", 0.02)])
def test_optimizers_with_state_match_simulate(optimizer, lr):
    sweep = ls.sweep_starts("pascanu", lr, 40, "norm", 0.5, optimizer, resolution=GRID, momentum=0.8)
    for j, i in [(0, 0), (2, 3), (4, 5), (3, 1)]:
        run = ls.simulate("pascanu", (sweep.x[i], sweep.y[j]), lr, 40, "norm", 0.5, optimizer, momentum=0.8)
        assert_cell_matches(sweep, j, i, run)


@pytest.mark.parametrize("clip", ["none", "value", "norm"])
def test_every_cell_of_an_hparam_sweep_is_the_run_simulate_makes(clip):
    lrs, thresholds = LRS, THRESHOLDS
    sweep = ls.sweep_hparams("pascanu", (4.7, -2.2), lrs, thresholds, 60, clip, T=50)
    assert sweep.kind == "hparams" and sweep.shape == (5, 6)
    np.testing.assert_array_equal(sweep.x, lrs)
    np.testing.assert_array_equal(sweep.y, thresholds)
    for j, c in enumerate(thresholds):
        for i, lr in enumerate(lrs):
            assert_cell_matches(sweep, j, i, ls.simulate("pascanu", (4.7, -2.2), lr, 60, clip, c, T=50))
    if clip == "none":  # the threshold does nothing without clipping
        assert (sweep.final_loss == sweep.final_loss[0]).all()


def test_long_runs_on_a_large_map_are_bit_for_bit_simulate():
    # Near the wall a last-digit difference in one clipped gradient grows into
    # another path within a few hundred steps, so "the same numbers" has to
    # mean the same arithmetic, also at the sizes the app uses.
    sweep = ls.sweep_starts("pascanu", 0.5, 200, "norm", 1.0, resolution=64)
    rng = np.random.default_rng(7)
    for k in rng.choice(64 * 64, size=120, replace=False):
        j, i = divmod(int(k), 64)
        run = ls.simulate("pascanu", (sweep.x[i], sweep.y[j]), 0.5, 200, "norm", 1.0)
        assert (sweep.final_x[j, i], sweep.final_y[j, i]) == tuple(run.params[-1]), (j, i)
        assert sweep.final_loss[j, i] == run.final_loss and sweep.n_clipped[j, i] == run.n_clipped


@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1e-3, 0.1, 1.0, 30.0, 1e3, 1e-170, 1e200, 1e300]),
    st.floats(1e-2, 1e2),
)
def test_batched_norm_clipping_is_bitwise_the_one_cell_rule(seed, scale, c):
    # Also at scales where the squares overflow or underflow (the scaled norm).
    c = c * scale
    # 4096 rows: from about 2048 up XLA compiles a vmapped jnp.linalg.norm to
    # different arithmetic than the one-cell rule (the reason for _clip_cells).
    grads = np.random.default_rng(seed).standard_normal((4096, 2)) * scale
    batched = np.asarray(_clip_cells_norm(grads, np.full(4096, c)))
    for k in range(0, 4096, 41):
        np.testing.assert_array_equal(batched[k], np.asarray(_clip_one(grads[k], c)))


_clip_cells_norm = jax.jit(lambda g, c: sweep_program._clip_cells("norm", g, c))
_clip_one = jax.jit(lambda g, c: ls.clip_gradient(g, "norm", c))


def test_the_catapult_in_an_hparam_sweep():
    # science.md: lr 0.5 from (4.7, -2.2) throws the path to (39.04, 53.44)
    # unclipped; norm clipping at c = 1 keeps it near the ravine.
    wild = ls.sweep_hparams("pascanu", None, [0.5], [1.0], 10, "none")
    safe = ls.sweep_hparams("pascanu", None, [0.5], [1.0], 10, "norm")
    assert wild.left_at[0, 0] == 4 and outcomes.OUTCOMES[wild.outcome[0, 0]] == "thrown"
    np.testing.assert_allclose([wild.final_x[0, 0], wild.final_y[0, 0]], [39.04, 53.44], atol=0.01)
    assert wild.final_loss[0, 0] == pytest.approx(0.09, abs=1e-12)
    assert safe.left_at[0, 0] == -1 and safe.n_clipped[0, 0] >= 1
    assert safe.longest_step[0, 0] == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# The pascanu fast path: the same numbers, bit for bit.


_UNROLLS = (1, 3, sweep_program.PASCANU_UNROLL)
_fast_value_and_grad = {k: jax.jit(sweep_program._cell_value_and_grad("pascanu", k)) for k in _UNROLLS}
_generic_value_and_grad = jax.jit(value_and_grad_fn(ls.get_landscape("pascanu")))


@given(
    st.floats(3.0, 7.0),
    st.floats(-4.5, -0.5),
    st.integers(1, 200),
    st.sampled_from(_UNROLLS),
)
def test_fast_pascanu_gradient_is_bitwise_the_generic_one(w, b, T, unroll):
    theta, p = np.array([w, b]), np.array([float(T)])
    fast = _fast_value_and_grad[unroll](theta, p)
    generic = _generic_value_and_grad(theta, p)
    for a, g in zip(fast, generic, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(g))


@pytest.mark.parametrize("T", [1, 9, 10, 50, 123])
def test_fast_path_is_the_registered_loss(T):
    loss = ls.get_landscape("pascanu").loss
    for theta in ([4.647, -2.392], [4.7, -2.2], [39.04, 53.44], [3.6, -1.2]):
        theta, p = np.array(theta), np.array([float(T)])
        assert float(sweep_program.pascanu_loss_unrolled(theta, p)) == float(loss(theta, p))


def test_fast_path_map_equals_generic_map_exactly():
    kwargs = dict(resolution=GRID, T=37, window=((4.0, 6.0), (-3.5, -1.5)))  # T % unroll != 0
    fast = ls.sweep_starts("pascanu", 0.5, 60, "norm", 1.0, **kwargs)
    slow = ls.sweep_starts("pascanu", 0.5, 60, "norm", 1.0, fast=False, **kwargs)
    for key in ("final_x", "final_y", "final_loss", "longest_step", "steps_taken", "left_at", "n_clipped"):
        np.testing.assert_array_equal(getattr(fast, key), getattr(slow, key), err_msg=key)


@pytest.mark.parametrize("clip", ["none", "value", "norm"])
def test_the_numpy_bptt_reference_draws_the_same_map(clip):
    # An independent implementation (reverse mode by hand, NumPy's exp): the
    # same map to rounding over a few dozen steps. Over hundreds of steps the
    # bouncing in the ravine amplifies last-digit differences (chaos), so
    # the benchmark's long runs agree on classes, not on digits.
    sweep = ls.sweep_starts("pascanu", 0.5, 25, clip, 1.0, resolution=GRID)
    xx, yy = np.meshgrid(sweep.x, sweep.y)
    ref = reference_sweeps.pascanu_start_map(np.column_stack([xx.ravel(), yy.ravel()]), 0.5, 25, clip, 1.0)
    for key in ("final_x", "final_y", "final_loss"):
        np.testing.assert_allclose(ref[key].reshape(5, 6), getattr(sweep, key), rtol=1e-7, atol=1e-12)
    np.testing.assert_array_equal(ref["n_clipped"].reshape(5, 6), sweep.n_clipped)
    np.testing.assert_array_equal(ref["steps_taken"].reshape(5, 6), sweep.steps_taken)


# ---------------------------------------------------------------------------
# Blocks and shards: how the cells are cut up changes the speed, never a number.


@given(st.integers(1, 300_000), st.integers(1, 8))
def test_the_layout_covers_every_cell_with_little_padding(n, workers):
    shards, blocks, cells = sweep_program._layout(n, workers, on_cpu=True)
    assert 1 <= shards <= workers and cells <= sweep_program.BLOCK_CELLS
    padded = shards * blocks * cells
    assert n <= padded < n + shards * blocks  # under one cell of padding per block
    assert sweep_program._layout(n, workers, on_cpu=False) == (1, 1, n)


def test_shards_and_blocks_give_the_same_map_as_one_pass(monkeypatch):
    # 45 x 47 = 2115 cells: two shards of one block each, one cell of padding.
    assert sweep_program._layout(45 * 47, 2, on_cpu=True) == (2, 1, 1058)
    kwargs = dict(resolution=(45, 47), window=((4.0, 5.5), (-3.0, -1.5)))
    monkeypatch.setattr(sweep_program, "WORKERS", 2)
    sharded = ls.sweep_starts("pascanu", 0.5, 60, "norm", 1.0, **kwargs)
    monkeypatch.setattr(sweep_program, "WORKERS", 1)
    monkeypatch.setattr(sweep_program, "BLOCK_CELLS", 10_000)
    single = ls.sweep_starts("pascanu", 0.5, 60, "norm", 1.0, **kwargs)
    for key in ("final_x", "final_y", "final_loss", "longest_step", "steps_taken", "left_at", "n_clipped"):
        np.testing.assert_array_equal(getattr(sharded, key), getattr(single, key), err_msg=key)


# ---------------------------------------------------------------------------
# Divergence: a cell stops where simulate stops, keeps finite values, is marked.


def test_divergence_is_marked_like_simulate_and_never_nan():
    # A depth-30 product hit with lr 1e12: some starts are thrown past w = 1,
    # where w**30 overflows and the next gradient is not finite; others are
    # thrown where it stays finite. Each cell must stop where simulate stops.
    window = ((0.9, 1.3), (-0.5, 0.5))
    sweep = ls.sweep_starts("deep_product", 1e12, 50, resolution=GRID, window=window, depth=30)
    assert sweep.diverged.any() and not sweep.diverged.all()
    for j in range(5):
        for i in range(6):
            run = ls.simulate("deep_product", (sweep.x[i], sweep.y[j]), 1e12, 50, depth=30)
            assert_cell_matches(sweep, j, i, run)
    assert (sweep.outcome[sweep.diverged] == outcomes.DIVERGED).all()
    assert (sweep.steps_taken[sweep.diverged] == sweep.diverged_at[sweep.diverged]).all()
    for key in ("final_x", "final_y", "final_loss", "start_loss", "longest_step"):
        assert np.isfinite(getattr(sweep, key)).all(), key


def test_an_update_to_infinity_stops_at_step_zero():
    # On the ravine's 1e4 wall an update of 1e306 * 1e4 overflows to inf.
    # (6 learning rates x 5 thresholds: the 30-cell program the other tests compiled.)
    lrs = [1e-3, 1e-2, 0.1, 1.0, 1e100, 1e306]
    sweep = ls.sweep_hparams("ravine", (-1.0, 0.0), lrs, THRESHOLDS, 5, "none", steepness=1e4)
    run = ls.simulate("ravine", (-1.0, 0.0), 1e306, 5, steepness=1e4)
    assert "infinity" in run.reason
    assert_cell_matches(sweep, 0, 5, run)
    assert (sweep.diverged_at[:, 5] == 0).all() and not sweep.diverged[:, :4].any()
    assert (sweep.final_x[:, 5] == -1.0).all() and (sweep.longest_step[:, 5] == 0.0).all()


def test_overflowing_gradient_diverges_at_the_step_simulate_reports():
    # science/engine test: a depth-30 product thrown past w = 1 overflows w**30.
    lrs = [1e3, 1e6, 1e9, 1e10, 1e11, 1e12]
    sweep = ls.sweep_hparams("deep_product", (1.2, 0.01), lrs, THRESHOLDS, 50, "none", depth=30)
    for i, lr in enumerate(sweep.x):
        run = ls.simulate("deep_product", (1.2, 0.01), lr, 50, depth=30)
        assert_cell_matches(sweep, 0, i, run)
    assert sweep.diverged[0, -1] and not sweep.diverged[0, 0]
    assert np.isfinite(sweep.final_loss).all()


@given(st.floats(-3.0, 12.0), st.sampled_from(["none", "norm"]), st.integers(0, 60))
def test_no_sweep_array_ever_holds_nan(exponent, clip, steps):
    # Learning rates up to 1e14 on a depth-30 product: plenty of overflow.
    lrs = 10.0 ** (exponent + np.linspace(0.0, 2.0, 6))
    sweep = ls.sweep_hparams("deep_product", (1.2, 0.01), lrs, np.logspace(-2, 2, 5), steps, clip, depth=30)
    for key in ("final_x", "final_y", "final_loss", "start_loss", "longest_step"):
        assert np.isfinite(getattr(sweep, key)).all(), key
    assert ((sweep.outcome == outcomes.DIVERGED) == sweep.diverged).all()
    done = np.where(sweep.diverged, sweep.diverged_at, steps)
    np.testing.assert_array_equal(sweep.steps_taken, done)
    assert (sweep.n_clipped <= sweep.steps_taken).all()


def test_a_start_whose_loss_is_not_finite_is_diverged_at_step_zero():
    # simulate refuses this start; a sweep marks it and reports inf, never NaN.
    sweep = ls.sweep_hparams("deep_product", (1e300, 0.0), LRS, THRESHOLDS, 5, "norm", depth=30)
    assert (sweep.diverged_at == 0).all() and (sweep.steps_taken == 0).all()
    assert (sweep.final_loss == np.inf).all() and (sweep.start_loss == np.inf).all()
    assert (sweep.outcome == outcomes.DIVERGED).all()
    for key in ("final_x", "final_y", "longest_step"):
        assert np.isfinite(getattr(sweep, key)).all()


# ---------------------------------------------------------------------------
# Compiles: values never retrace; a new number of cells compiles once.


def test_no_recompile_when_only_values_change():
    def traces():
        return sum(n for key, n in sweep_program.SWEEP_TRACE_COUNTS.items() if key[0] == "pascanu")

    ls.sweep_starts("pascanu", 0.5, 10, "norm", 1.0, resolution=GRID)
    before = traces()
    for lr, c, steps, window, T, tol in [
        (0.1, 2.0, 0, ((3.6, 6.0), (-3.0, -1.5)), 1, None),
        (2.0, 0.01, 200, ((4.0, 5.0), (-2.5, -2.0)), 200, 1e-3),
        (1, 3, 7, ((4, 5), (-3, -2)), 17, 0.5),  # ints where floats were: still no retrace
    ]:
        ls.sweep_starts("pascanu", lr, steps, "norm", c, resolution=GRID, window=window, T=T, tolerance=tol)
    # An hparam sweep with as many cells reuses the same program.
    ls.sweep_hparams("pascanu", (4.2, -2.0), np.logspace(-2, 0, 6), np.logspace(-1, 1, 5), 30, "norm", T=9)
    assert traces() == before
    # A new grid shape is a new program, compiled once.
    ls.sweep_starts("pascanu", 0.5, 5, "norm", 1.0, resolution=(3, 2))
    after = traces()
    assert after == before + 1
    ls.sweep_starts("pascanu", 0.2, 9, "norm", 3.0, resolution=(2, 3), T=4)
    assert traces() == after


# ---------------------------------------------------------------------------
# Outcome classes.


@given(
    st.lists(
        st.tuples(
            st.floats(0, 1, allow_nan=False) | st.just(np.inf),
            st.integers(-1, 5),
            st.integers(-1, 5),
        ),
        min_size=1,
        max_size=40,
    ),
    st.floats(1e-6, 0.5),
)
def test_classes_follow_their_documented_order(cells, tol):
    loss, diverged_at, left_at = (np.array(column) for column in zip(*cells, strict=True))
    outcome = outcomes.classify(loss, diverged_at, left_at, tol)
    for code, lo, d, left in zip(outcome, loss, diverged_at, left_at, strict=True):
        if d >= 0:
            assert code == outcomes.DIVERGED
        elif lo <= tol:
            assert code == outcomes.TRAINS
        elif left >= 0:
            assert code == outcomes.THROWN
        else:
            assert code == outcomes.STUCK


def test_norm_clipping_trains_more_starts_than_no_clipping_on_the_cliff():
    # The app's headline, at a coarse 64 x 64: unclipped, a large share of the
    # starts is thrown off the cliff; norm clipping keeps them and they train.
    wild = ls.sweep_starts("pascanu", 0.5, 200, "none", resolution=64)
    safe = ls.sweep_starts("pascanu", 0.5, 200, "norm", 1.0, resolution=64)
    assert wild.share("thrown") > 0.3
    assert safe.share("thrown") < 0.02
    assert safe.share("trains") > wild.share("trains") + 0.2
    assert sum(wild.counts().values()) == 64 * 64
    # Nearly every unclipped run that left the window was thrown by one long
    # step (a few just walk over the edge); clipped steps are at most lr * c.
    assert np.mean(wild.longest_step[wild.left_window] > 1.0) > 0.9
    assert (safe.longest_step <= 0.5 * (1 + 1e-12)).all()


@given(st.floats(0.01, 3.0), st.floats(0.01, 10.0))
def test_norm_clipping_bounds_every_step_by_lr_times_c(lr, c):
    sweep = ls.sweep_hparams("pascanu", (4.7, -2.2), [lr], [c], 30, "norm")
    assert sweep.longest_step[0, 0] <= lr * c * (1 + 1e-12)


def test_tolerance_is_relative_to_the_landscape():
    tol = ls.train_tolerance("pascanu")
    surface = ls.loss_surface("pascanu", 64)
    assert tol == pytest.approx(outcomes.TRAIN_FRACTION * np.median(surface.loss))
    # Between the bouncing-in-the-ravine losses and the two failure levels
    # (0.09 thrown onto the dead plateau, 0.35 in the wrong basin).
    assert 1e-3 < tol < 0.05
    assert ls.train_tolerance("pascanu", T=10) != tol
    assert ls.train_tolerance("ravine") > 10 * tol  # a landscape with larger losses gets a larger bar
    sweep = ls.sweep_starts("pascanu", 0.5, 10, resolution=GRID, tolerance=0.2)
    assert sweep.tolerance == 0.2
    np.testing.assert_array_equal(
        sweep.outcome, outcomes.classify(sweep.final_loss, sweep.diverged_at, sweep.left_at, 0.2)
    )


def test_a_clicked_point_locates_its_cell():
    sweep = ls.sweep_starts("ravine", 0.1, 0, resolution=GRID)
    for j in range(5):
        for i in range(6):
            assert sweep.locate(sweep.x[i], sweep.y[j]) == (j, i)
    assert sweep.locate(1e9, -1e9) == (0, 5)


def test_zero_steps_reports_the_starts():
    sweep = ls.sweep_starts("ravine", 0.1, 0, resolution=GRID)
    xx, yy = np.meshgrid(sweep.x, sweep.y)
    np.testing.assert_array_equal(sweep.final_x, xx)
    np.testing.assert_array_equal(sweep.final_y, yy)
    np.testing.assert_array_equal(sweep.final_loss, sweep.start_loss)
    assert (sweep.steps_taken == 0).all() and (sweep.longest_step == 0).all()
    assert (sweep.left_at == -1).all()  # the grid's edges lie inside the window


def test_float32_is_available():
    sweep = ls.sweep_starts("pascanu", 0.5, 20, "norm", 1.0, resolution=GRID, dtype="float32")
    assert sweep.dtype == "float32" and sweep.final_x.dtype == np.float32
    assert np.isfinite(sweep.final_loss).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ls.sweep_starts("cliffy", 0.1, 5), "unknown landscape 'cliffy'"),
        (lambda: ls.sweep_starts("pascanu", 0.0, 5), "learning rate must be finite and positive"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 1001), r"steps must lie in \[0, 1000\]"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, "norm", -1.0), "threshold must be finite and positive"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, "both"), "unknown clipping mode 'both'"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, optimizer="rmsprop"), "unknown optimizer 'rmsprop'"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, resolution=1), r"resolution must lie in \[2, 1024\]"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, resolution=2.5), "resolution must lie in"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, resolution="big"), "resolution must be a whole number"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, window=((1, 0), (0, 1))), "window must be"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, window="all"), "window must be"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, T=0), r"T must lie in \[1, 200\]"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, depth=3), "has no parameter depth"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, dtype="float16"), "dtype must be float64 or float32"),
        (lambda: ls.sweep_starts("pascanu", 0.1, 5, tolerance=0), "tolerance must be finite and positive"),
        (lambda: ls.sweep_hparams("pascanu", None, [], [1.0], 5, "norm"), "learning rates must be a non"),
        (lambda: ls.sweep_hparams("pascanu", None, [0.1, -1], [1.0], 5, "norm"), "learning rate must be"),
        (lambda: ls.sweep_hparams("pascanu", None, [0.1], [1.0, 0.0], 5, "norm"), "threshold must be finite"),
        (lambda: ls.sweep_hparams("pascanu", None, [[0.1]], [1.0], 5, "norm"), "must be a non-empty 1-D"),
        (lambda: ls.sweep_hparams("pascanu", (1.0,), [0.1], [1.0], 5, "norm"), "start must be two numbers"),
    ],
)
def test_bad_arguments_raise_clear_messages(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_package_exports_the_sweep_api():
    for name in (
        "sweep_starts",
        "sweep_hparams",
        "Sweep",
        "classify",
        "train_tolerance",
        "start_maps_figure",
        "hparams_figure",
        "start_maps_caption",
        "hparams_caption",
        "pick_traces",
    ):
        assert name in ls.__all__ and callable(getattr(ls, name)), name
    assert ls.OUTCOMES == ("trains", "stuck", "thrown", "diverged")
