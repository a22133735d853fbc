"""The Pascanu RNN unrolled: states, Jacobians, per-step gradient terms, the cliff's height vs T."""

import math

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes import reference

SIG = 1.0 / (1.0 + math.exp(-0.5))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("T", [1, 2, 17, 50, 200])
def test_states_follow_the_recurrence_and_match_the_engine(T):
    run = ls.unroll_rnn(4.7, -2.2, T)
    assert run.states.shape == (T + 1,) and run.factors.shape == (T,) and run.steps.tolist()[-1] == T
    assert run.states[0] == 0.5
    np.testing.assert_allclose(run.states[1:], 4.7 * _sigmoid(run.states[:-1]) - 2.2, rtol=1e-14)
    assert run.states[-1] == float(ls.rnn_states(4.7, -2.2, T))


def test_factors_and_products_are_the_jacobians():
    run = ls.unroll_rnn(5.0, -2.6, 40)
    s = _sigmoid(run.states[:-1])
    np.testing.assert_allclose(run.factors, 5.0 * s * (1 - s), rtol=1e-14)
    np.testing.assert_allclose(run.running_product, np.cumprod(run.factors), rtol=1e-12)
    # dx_T/dx_t: the product of the factors after step t; 1 for the last step.
    expected = np.array([np.prod(run.factors[t:]) for t in range(1, 41)])
    np.testing.assert_allclose(run.to_output, expected, rtol=1e-12)
    assert run.to_output[-1] == 1.0
    np.testing.assert_allclose(run.contrib_b, run.dloss_dstate * run.to_output, rtol=1e-15)
    np.testing.assert_allclose(run.contrib_w, run.contrib_b * s, rtol=1e-15)


@pytest.mark.parametrize(
    ("w", "b", "T"),
    [
        (4.7, -2.2, 50),
        (4.7, -2.5, 50),
        (5.0, float(ls.pascanu_wall_b(5.0)) + 1e-6, 50),
        (3.8, -1.5, 7),
        (6.0, -3.0, 200),
    ],
)
def test_contributions_sum_to_the_gradient_simulate_uses(w, b, T):
    run = ls.unroll_rnn(w, b, T)
    traj = ls.simulate("pascanu", (w, b), lr=0.1, steps=1, T=T)
    np.testing.assert_allclose(run.grad, traj.grad[0], rtol=1e-9, atol=1e-300)
    assert run.loss == pytest.approx(traj.loss[0], rel=1e-13)
    assert run.grad_norm == pytest.approx(traj.grad_norm[0], rel=1e-9)
    # ... and the reverse-mode gradient JAX computes from the landscape's loss.
    scape = ls.get_landscape("pascanu")
    grad = jax.grad(lambda th: scape.loss(th, scape.param_vector({"T": T})))(np.array([w, b]))
    np.testing.assert_allclose(run.grad, np.asarray(grad), rtol=1e-9)


@given(st.floats(3.0, 7.0), st.floats(-4.5, -0.5), st.integers(1, 200))
def test_per_step_terms_match_backprop_through_time_by_hand(w, b, T):
    run = ls.unroll_rnn(w, b, T)
    loss, grad = reference.pascanu_loss_and_grad(w, b, T)
    assert run.loss == pytest.approx(loss, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(run.grad, grad, rtol=1e-8, atol=1e-14 * max(1.0, np.abs(grad).max()))


def test_on_the_wall_the_state_rests_and_early_steps_dominate():
    w = 5.0
    run = ls.unroll_rnn(w, float(ls.pascanu_wall_b(w)), 20)
    # The wall is where 0.5 is a fixed point: the state stays put (up to rounding
    # of b, which the unstable fixed point amplifies by ~1.18 per step).
    np.testing.assert_allclose(run.states, 0.5, atol=1e-12)
    np.testing.assert_allclose(run.factors, w * ls.core.rnn.FIXED_POINT_SLOPE, rtol=1e-10)
    # Each factor is ~1.175 > 1, so the term of step 1 is the largest:
    # the gradient is dominated by the longest-range dependence.
    assert np.all(np.diff(np.abs(run.contrib_b)) < 0)
    assert abs(run.to_output[0]) == pytest.approx((w * ls.core.rnn.FIXED_POINT_SLOPE) ** 19, rel=1e-9)


def test_below_the_critical_weight_products_vanish():
    run = ls.unroll_rnn(3.0, -1.5, 100)
    assert np.all(np.abs(run.factors) < 1)
    assert abs(run.running_product[-1]) < 1e-10
    assert np.all(np.diff(np.abs(run.contrib_b)) > 0)  # the last steps matter most


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(T=0), r"T must lie in \[1, 200\]"),
        (dict(T=201), r"T must lie in \[1, 200\]"),
        (dict(T=2.5), "T must be a whole number"),
        (dict(w=float("nan")), "w must be finite"),
        (dict(b="low"), "b must be a number"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = dict(w=4.7, b=-2.2, T=50) | kwargs
    with pytest.raises(ValueError, match=message):
        ls.unroll_rnn(**args)


@pytest.mark.parametrize("offset", [-0.3, -1e-3, -4.47e-5, 0.0, 2e-6, 0.05])
def test_gradient_across_wall_matches_the_engine(offset):
    w, T = 5.0, 50
    b = float(ls.pascanu_wall_b(w)) + offset
    (g,) = ls.gradient_across_wall(w, [offset], T)
    _, direct = reference.pascanu_loss_and_grad(w, b, T)
    # b rounds to float64 (~4e-16 here) and the cliff amplifies that by up to
    # ~1e4 (at T = 50): compare loosely near the wall, tightly away from it.
    rtol = 1e-6 if abs(offset) < 1e-4 else 1e-9
    np.testing.assert_allclose(g, direct, rtol=rtol)


def test_gradient_across_wall_any_number_of_offsets():
    assert ls.gradient_across_wall(5.0, [], 10).shape == (0, 2)
    many = np.linspace(-0.1, 0.1, 700)
    out = ls.gradient_across_wall(5.0, many, 10)
    assert out.shape == (700, 2)
    np.testing.assert_array_equal(out[123], ls.gradient_across_wall(5.0, many[123:124], 10)[0])
    with pytest.raises(ValueError, match="finite"):
        ls.gradient_across_wall(5.0, [np.inf], 10)


@pytest.fixture(scope="module")
def peaks_w5():
    return ls.peak_gradient_vs_T(5.0, [10, 25, 50, 75, 100, 150, 200])


def test_peak_matches_a_brute_force_scan_in_b(peaks_w5):
    # T = 50: the band is ~2e-5 wide, so 20001 points over 2e-4 resolve it in b itself.
    w = 5.0
    wall = float(ls.pascanu_wall_b(w))
    b = wall + np.linspace(-1.5e-4, 0.5e-4, 20001)
    _, norms = ls.evaluate_points("pascanu", np.column_stack([np.full_like(b, w), b]), T=50)
    i = list(peaks_w5.T).index(50)
    assert peaks_w5.peak_norm[i] == pytest.approx(norms.max(), rel=1e-6)
    assert peaks_w5.peak_norm[i] >= norms.max() * (1 - 1e-9)
    assert peaks_w5.peak_offset[i] == pytest.approx(b[norms.argmax()] - wall, abs=2e-8)
    inside = b[norms >= 0.9 * norms.max()]
    assert peaks_w5.band_width[i] == pytest.approx(inside.max() - inside.min(), rel=0.01)
    assert peaks_w5.peak_b[i] == pytest.approx(wall + peaks_w5.peak_offset[i])


def test_peak_grows_exponentially_with_T(peaks_w5):
    p = peaks_w5
    assert np.all(np.diff(p.peak_norm) > 0)
    assert p.peak_norm[-1] > 1e14  # T = 200: far beyond what a scan in b could resolve
    assert np.all(np.diff(p.band_width) < 0) and p.band_width[-1] < 1e-14
    # The growth per step is the one-step Jacobian on the wall, w sigmoid'(0.5).
    assert p.fixed_point_factor == pytest.approx(5.0 * SIG * (1 - SIG))
    assert p.growth_per_step == pytest.approx(p.fixed_point_factor, rel=0.01)
    ratios = np.exp(np.diff(np.log(p.peak_norm)) / np.diff(p.T))
    np.testing.assert_allclose(ratios[1:], p.fixed_point_factor, rtol=0.01)


@pytest.mark.parametrize(("w", "expected"), [(4.5, 1.6e2), (5.0, 6.8e3), (5.4, 1.7e5)])
def test_peak_heights_from_the_science_notes(w, expected):
    (peak,) = ls.peak_gradient_vs_T(w, [50]).peak_norm
    assert peak == pytest.approx(expected, rel=0.05)


def test_no_wall_below_the_critical_weight():
    p = ls.peak_gradient_vs_T(4.0, [25, 50, 100])
    assert p.peak_norm.max() < 15  # grows only slowly: no exponential cliff
    assert p.growth_per_step < 1.02
    assert p.fixed_point_factor < 1


def test_peak_arguments_are_checked():
    with pytest.raises(ValueError, match="at least one"):
        ls.peak_gradient_vs_T(5.0, [])
    with pytest.raises(ValueError, match="T must lie in"):
        ls.peak_gradient_vs_T(5.0, [0])
    with pytest.raises(ValueError, match="span must be positive"):
        ls.peak_gradient_vs_T(5.0, [10], span=0)
    with pytest.raises(ValueError, match="band_level"):
        ls.peak_gradient_vs_T(5.0, [10], band_level=1.5)
    single = ls.peak_gradient_vs_T(5.0, [10])
    assert math.isnan(single.growth_per_step) and single.T.tolist() == [10]


# ---------------------------------------------------------------------------
# Figures, inspected as data.


def test_states_figure():
    run = ls.unroll_rnn(5.0, -2.6, 30)
    fig = ls.rnn_states_figure(run)
    trace, start, target = fig.data
    assert list(trace.x) == list(range(31))
    np.testing.assert_array_equal(trace.y, run.states)
    assert set(start.y) == {0.5}
    np.testing.assert_allclose(target.y, math.log(0.7 / 0.3), rtol=1e-15)
    assert (start.x[0], start.x[-1]) == (0, 30)
    # The guide lines are named in the legend, not labelled on the plot, where
    # the label would sit on a state resting at 0.5.
    assert not fig.layout.annotations and not fig.layout.shapes
    assert "0.5" in start.name and "0.847" in target.name
    assert "T = 30" in fig.layout.title.text


def test_jacobians_figure_is_log_with_the_unit_line():
    run = ls.unroll_rnn(5.0, -2.6, 30)
    fig = ls.rnn_jacobians_figure(run)
    assert fig.layout.yaxis.type == "log"
    factors, product, unit = fig.data
    np.testing.assert_allclose(factors.y, np.abs(run.factors))
    np.testing.assert_allclose(product.y, np.abs(run.running_product))
    assert list(factors.x) == list(range(1, 31))
    assert list(unit.y) == [1.0, 1.0] and (unit.x[0], unit.x[-1]) == (1, 30)
    assert "size 1" in unit.name and not fig.layout.annotations


def test_jacobians_figure_leaves_gaps_for_underflow():
    run = ls.unroll_rnn(3.0, -30.0, 200)  # deep in saturation: sigmoid' underflows to 0
    fig = ls.rnn_jacobians_figure(run)
    assert (run.running_product == 0).any()
    assert None in fig.data[1].y


@pytest.mark.parametrize("log_scale", [False, True])
def test_contributions_figure(log_scale):
    run = ls.unroll_rnn(5.0, float(ls.pascanu_wall_b(5.0)) + 1e-6, 40)
    fig = ls.rnn_contributions_figure(run, log_scale=log_scale)
    w_bars, b_bars = fig.data
    assert w_bars.type == b_bars.type == "bar" and fig.layout.barmode == "group"
    expected_w, expected_b = run.contrib_w, run.contrib_b
    if log_scale:
        expected_w, expected_b = np.abs(expected_w), np.abs(expected_b)
        assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(np.array(w_bars.y, dtype=float), expected_w)
    np.testing.assert_allclose(np.array(b_bars.y, dtype=float), expected_b)
    np.testing.assert_array_equal(b_bars.customdata, run.contrib_b)  # signed, for the hover
    assert f"{run.grad[0]:.4g}" in fig.layout.title.text


def test_peak_figure(peaks_w5):
    fig = ls.peak_gradient_figure(peaks_w5)
    assert fig.layout.yaxis.type == "log"
    measured, guide = fig.data
    np.testing.assert_array_equal(measured.x, peaks_w5.T)
    np.testing.assert_allclose(measured.y, peaks_w5.peak_norm)
    # The guide grows by w sigma'(0.5) per step and meets the last point.
    assert guide.y[-1] == pytest.approx(peaks_w5.peak_norm[-1])
    ratio = (guide.y[1] / guide.y[0]) ** (1 / (guide.x[1] - guide.x[0]))
    assert ratio == pytest.approx(peaks_w5.fixed_point_factor)
    several = ls.peak_gradient_figure([peaks_w5, ls.peak_gradient_vs_T(4.5, [10, 20])])
    assert len(several.data) == 4 and several.data[0].line.color != several.data[2].line.color
    with pytest.raises(ValueError, match="at least one"):
        ls.peak_gradient_figure([])
