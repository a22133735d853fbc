"""Every number the Learn and "Inside the RNN" pages state, recomputed independently."""

import decimal
import math
import re
from fractions import Fraction

import numpy as np
import pytest

import landscapes as ls
from landscapes.core.outcomes import train_tolerance
from landscapes.core.rnn import (
    FIXED_POINT_SLOPE,
    MAX_T,
    nearest_wall_b,
    state_drift,
    unroll_on_wall,
    wall_offset,
)
from landscapes.figures import lessons as lf
from landscapes.lessons import check_band
from landscapes.lessons import learn_text as words

#: Weights from below the critical one to the slider's top, on and off lucky rounding.
WALL_WS = (3.0, 4.3, 4.5, 5.0, 5.4, 6.0, 7.0, 8.0)


def _exp_minus_half() -> Fraction:
    # e^(-1/2) by its Taylor series: 40 terms leave an error below 1e-60.
    term, total = Fraction(1), Fraction(1)
    for k in range(1, 40):
        term *= Fraction(-1, 2) / k
        total += term
    return total


def _wall_fraction(w: float) -> Fraction:
    return Fraction(1, 2) - Fraction(w) / (1 + _exp_minus_half())


# ---------------------------------------------------------------------------
# Item 4: "Put b on the wall" (the RNN page).


@pytest.mark.parametrize("w", [*WALL_WS, 0.5, 4.2553, 6.37, 7.99])
def test_nearest_wall_b_is_the_float64_closest_to_the_line(w):
    b = nearest_wall_b(w)
    wall = _wall_fraction(w)
    error = abs(Fraction(b) - wall)
    # No neighbouring float64 is closer to the line.
    for neighbour in (np.nextafter(b, -np.inf), np.nextafter(b, np.inf)):
        assert error <= abs(Fraction(float(neighbour)) - wall)
    assert error <= Fraction(math.ulp(b)) / 2
    assert float(Fraction(b) - wall) == pytest.approx(wall_offset(w, b), rel=1e-12, abs=1e-300)
    # It is also (at most one ulp from) what the naive float formula gives.
    assert abs(b - float(ls.pascanu_wall_b(w))) <= math.ulp(b)


@pytest.mark.parametrize("w", WALL_WS)
def test_wall_text_states_the_drift_for_every_T_the_slider_allows(w):
    b = nearest_wall_b(w)
    longest = ls.unroll_rnn(w, b, MAX_T)
    for T in range(1, MAX_T + 1):
        run = ls.unroll_rnn(w, b, T)
        np.testing.assert_array_equal(run.states, longest.states[: T + 1])
        text = words.wall_state_text(run)
        assert "float64 number nearest the line" in text
        deviation = np.abs(run.states - 0.5)
        beyond = np.flatnonzero(deviation > 1e-3)
        if not deviation.any():
            assert f"exactly 0.5 at all {words.plural(T, 'step')}" in text
        elif beyond.size == 0:
            assert f"stays within {deviation.max():.1e} of 0.5 for all" in text
            assert "never" not in text.split("irrational")[-1]
        else:
            first = int(beyond[0])
            assert f"until step {first - 1}, leaves at step {first}" in text
            assert f"x_T = {run.states[-1]:.4g}" in text


def _decimal_final_state(w: float, b: float, T: int) -> decimal.Decimal:
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        x, W, B = decimal.Decimal("0.5"), decimal.Decimal(w), decimal.Decimal(b)
        for _ in range(T):
            x = W / (1 + (-x).exp()) + B
        return x


@pytest.mark.parametrize("w", [5.0, 5.4, 4.3])
def test_exact_arithmetic_drift_quoted_for_a_rounding_trap(w):
    """Where float64 rounding holds the state at 0.5, the text says what exact arithmetic does."""
    b = nearest_wall_b(w)
    run = ls.unroll_rnn(w, b, MAX_T)
    assert state_drift(run).left_at is None  # these w are rounding traps at T = 200
    exact = abs(float(_decimal_final_state(w, b, MAX_T)) - 0.5)
    assert exact > 1e3 * state_drift(run).max_deviation  # exact arithmetic does drift
    text = words.wall_state_text(run)
    assert f"would end {exact:.0e} from 0.5 after T = {MAX_T}" in text


@pytest.mark.parametrize("offset", [0.0, 1e-12, -3e-9, 1e-3])
def test_unroll_on_wall_is_the_recurrence_at_that_exact_distance(offset):
    run = unroll_on_wall(5.0, MAX_T, offset)
    if offset == 0:
        assert np.all(run.states == 0.5) and np.ptp(run.factors) == 0
        assert run.factors[0] == pytest.approx(5.0 * FIXED_POINT_SLOPE, rel=1e-15)
    with decimal.localcontext() as ctx:
        ctx.prec = 80
        W = decimal.Decimal("5.0")
        B = decimal.Decimal("0.5") - W / (1 + decimal.Decimal("-0.5").exp())
        B += decimal.Decimal(offset)
        x = decimal.Decimal("0.5")
        states = [x]
        for _ in range(60):
            x = W / (1 + (-x).exp()) + B
            states.append(x)
    exact = [float(s - decimal.Decimal("0.5")) for s in states]
    # The states are stored as 0.5 + u, so they resolve u only to an ulp of 0.5.
    np.testing.assert_allclose(run.states[:61] - 0.5, exact, rtol=1e-9, atol=math.ulp(0.5))
    if offset >= 1e-3:  # far enough that float64 b resolves it: the ordinary unroll agrees
        np.testing.assert_allclose(run.grad, ls.unroll_rnn(5.0, run.b, MAX_T).grad, rtol=1e-6)


# ---------------------------------------------------------------------------
# Item 5: the Learn page's exploding-gradient caption.


def test_exploding_caption_matches_the_picture_for_every_T():
    factor = 5.0 * math.exp(-0.5) / (1 + math.exp(-0.5)) ** 2  # sigma'(0.5) * w
    for T in range(1, MAX_T + 1):
        run = unroll_on_wall(5.0, T)
        fig = ls.rnn_jacobians_figure(run)
        drawn_factors, drawn_product = np.array(fig.data[0].y), np.array(fig.data[1].y)
        np.testing.assert_allclose(drawn_factors, factor, rtol=1e-14)
        assert drawn_product[-1] == pytest.approx(factor**T, rel=1e-12)
        text = words.exploding_caption(run)
        assert f"every one of the {words.plural(T, 'factor')} equals {factor:.4f}" in text
        assert f"after T = {T} is {factor**T:.3g}." in text


# ---------------------------------------------------------------------------
# Item 8: Pascanu's band, run on the default Explorer descent.


def test_band_text_on_the_default_explorer_run():
    tol = train_tolerance("pascanu", T=50)
    base = ls.simulate("pascanu", (4.7, -2.2), 0.5, 60, "norm", 1.0, T=50)
    mean = float(np.mean(np.hypot(base.grad[:, 0], base.grad[:, 1])))
    (x0, x1), (y0, y1) = ls.get_landscape("pascanu").window
    ends = {}
    for name, c in (("bottom", 0.5 * mean), ("top", 10 * mean)):
        run = ls.simulate("pascanu", (4.7, -2.2), 0.5, 60, "norm", c, T=50)
        p = run.params
        outside = np.flatnonzero((p[:, 0] < x0) | (p[:, 0] > x1) | (p[:, 1] < y0) | (p[:, 1] > y1))
        ends[name] = (run.loss[-1] <= tol, int(outside[0]) if outside.size else None, run.loss[-1])
    assert ends["bottom"][0] and ends["bottom"][1] is None  # the band's bottom trains
    assert not ends["top"][0] and ends["top"][1] is not None  # its top is thrown
    check = check_band()
    assert check.run.steps_taken == 60 and check.advice.mean_norm == pytest.approx(mean, rel=1e-12)
    assert (check.bottom.outcome, check.top.outcome) == ("trains", "thrown")
    text = words.band_text(check, 1.0)
    assert "Over the 60 steps of the current Explorer run" in text
    assert f"between **{0.5 * mean:.3g}** and **{10 * mean:.3g}**" in text
    assert f"c = {10 * mean:.3g}, it leaves the window at step {ends['top'][1]}" in text
    assert f"ends at loss {ends['top'][2]:.2g}" in text and "does not train" in text
    assert "Your threshold c = 1 lies outside that band" in text  # 1 < 0.5 * mean here
    # The lesson text says so too, and quotes the paper as a heuristic.
    body = " ".join(ls.learn_section("threshold").body.split())
    assert "the top of the band does not save it" in body and "not a guarantee" in body
    assert "still trained well" not in body
    # "131 against a median near 0.1"
    assert round(float(np.max(base.grad_norm))) == 131 and round(check.advice.median_norm, 1) == 0.1
    assert "(from the catapult start, $131$ against a median near $0.1$)" in body


def test_band_text_when_the_top_trains():
    # A gentle run where every clipped threshold trains: no "does not train" sentence.
    check = check_band("pascanu", (5.5, -2.0), 0.1, 200, 1.0)
    text = words.band_text(check, 1.0)
    assert check.top.outcome == "trains"  # this gentle run: the top of the band trains
    assert "does not train" not in text
    trained = [edge.outcome == "trains" for edge in (check.bottom, check.top)]
    assert text.count("trains (final loss") == sum(trained)


def test_histogram_counts_the_steps_of_the_run_shown():
    check = check_band()
    fig = ls.grad_norm_histogram(check.run, threshold=1.0)
    assert fig.layout.title.text.startswith("Gradient norms over 60 steps")
    one = ls.grad_norm_histogram([2.0])
    assert one.layout.title.text == "Gradient norms over 1 step"
    assert "1 with a zero gradient is not shown" in ls.grad_norm_histogram([0.0, 3.0]).layout.title.text
    assert sum(one.data[0].y) == 1 and "1 step" in list(one.data[0].text)


# ---------------------------------------------------------------------------
# Item 9: the RNN page's other sentences.


@pytest.mark.parametrize("w", [4.0, 4.2, 4.5, 5.0])
def test_peak_heading_and_caption_are_true_for_this_w(w):
    peaks = ls.peak_gradient_vs_T(w, [1, 10, 50, 100, 200])
    heading, caption = words.peak_heading(peaks), words.peak_caption(peaks)
    critical = 1 / (math.exp(-0.5) / (1 + math.exp(-0.5)) ** 2)
    if w > critical:
        assert "exponentially" in heading
        ratio = peaks.peak_norm[-1] / peaks.peak_norm[-2]
        assert ratio > 1.3  # it really grows by a large factor over the last 100 steps
        assert f"×{peaks.growth_per_step:.3f} per extra step" in caption
        assert f"{peaks.peak_norm[-1]:.3g} at T = 200" in caption
    else:
        assert "exponentially" not in heading and "No wall on this line below w = 4.255" in heading
        assert "is no wall" in caption
        assert f"from {peaks.peak_norm[0]:.3g} at T = 1 to {peaks.peak_norm[-1]:.3g} at T = 200" in caption
        grows = peaks.peak_norm[-1] > 1.2 * peaks.peak_norm[-2]  # T = 200 against T = 100
        if w > 4:  # some b give two attractors: three fixed points x = w sigma(x) + b
            assert ("still grows with T" in caption) == grows
            assert "begins only above" in caption
            xs = np.linspace(-6, 6, 200000)
            b = -w / 2  # the map's steepest point x = 0 maps to itself
            crossings = np.sum(np.diff(np.sign(w / (1 + np.exp(-xs)) + b - xs)) != 0)
            assert crossings == 3


@pytest.mark.parametrize("w", [3.0, 3.9, 4.0])
def test_peak_caption_at_or_below_w_4(w):
    peaks = ls.peak_gradient_vs_T(w, [1, 50, 100, 200])
    caption = words.peak_caption(peaks)
    assert f"at most |w|/4 = {w / 4:.3g}" in caption
    levels = peaks.peak_norm[-1] <= 1.2 * peaks.peak_norm[-2]
    assert ("levels off" in caption) == levels
    assert ("still rises slowly" in caption) == (not levels)


def test_wall_explanation_depends_on_the_slope():
    above = words.wall_explanation(ls.unroll_rnn(5.0, -2.6, 50))
    below = words.wall_explanation(ls.unroll_rnn(4.0, -2.0, 50))
    assert "**above 1**" in above and "repels" in above
    assert "**at most 1**" in below and "no wall" in below and "4.2553" in below
    assert f"{5.0 * FIXED_POINT_SLOPE:.3f}" in above and f"{nearest_wall_b(5.0):.6f}" in above


@pytest.mark.parametrize(("w", "b", "T"), [(5.0, -2.6, 50), (5.0, nearest_wall_b(5.0), 200), (3.0, -1.5, 1)])
def test_jacobian_and_contribution_captions(w, b, T):
    run = ls.unroll_rnn(w, b, T)
    f = np.abs(run.factors)
    jac = words.jacobians_caption(run)
    assert f"Here {int(np.sum(f > 1))} of the {words.plural(T, 'factor')} exceed 1" in jac
    assert f"{abs(np.prod(run.factors)):.3g}" in jac
    size = np.abs(run.contrib_w) + np.abs(run.contrib_b)
    con = words.contributions_caption(run)
    assert f"The largest term comes from step {int(np.argmax(size)) + 1} of {T}" in con
    third = max(1, T // 3)
    assert (
        f"the first {words.plural(third, 'step')} carry {100 * size[:third].sum() / size.sum():.0f}%" in con
    )
    if T >= 3 and np.argmax(size) < third:
        assert "early steps win" in con and abs(np.prod(run.factors[1:])) > 1


def test_vanishing_caption():
    run = ls.unroll_rnn(2.0, -1.0, 50)
    text = words.vanishing_caption(run)
    assert np.abs(run.factors).max() < 1
    assert f"at most {np.abs(run.factors).max():.3f}" in text
    ratio = (abs(run.contrib_w[0]) + abs(run.contrib_b[0])) / (
        abs(run.contrib_w[-1]) + abs(run.contrib_b[-1])
    )
    assert ratio < 1e-10 and f"only {ratio:.1e} times step 50's" in text


def test_plural():
    assert words.plural(1, "step") == "1 step" and words.plural(0, "step") == "0 steps"
    assert words.plural(2, "factor") == "2 factors"
    fig = ls.rnn_contributions_figure(ls.unroll_rnn(5.0, -2.6, 1))
    assert "sum of 1 term," in fig.layout.title.text


# ---------------------------------------------------------------------------
# The lesson text against the science notes.


def test_lesson_claims_against_the_science_notes():
    text = " ".join(s.body for s in ls.LEARN_SECTIONS)
    assert "1 to 5" not in text
    assert "0.25 for the AWD-LSTM" in text and "5 for the\n  sequence-to-sequence LSTMs of Sutskever" in text
    refs = " ".join(ls.LEARN_REFERENCES)
    assert "Merity" in refs and "Sutskever" in refs
    # A scaled identity alpha*I has singular values |alpha|, not 1.
    alpha = -0.7
    assert np.allclose(np.linalg.svd(alpha * np.eye(3), compute_uv=False), abs(alpha))
    assert "equal to\n  $|\\alpha|$" in text
    # The loss across the wall at w = 5, T = 50: "from about 0.35 to about 0.01".
    b = nearest_wall_b(5.0)
    left, right = ls.unroll_rnn(5.0, b - 0.01, 50).loss, ls.unroll_rnn(5.0, b + 0.01, 50).loss
    assert round(left, 2) == 0.34 or round(left, 2) == 0.35
    assert round(right, 2) == 0.01
    assert "from about $0.35$ to about $0.01$" in text


def test_zero_grad_text_is_precise_about_set_to_none():
    text = ls.learn_section("placement").body
    assert "default `set_to_none=True`" in text and "`set_to_none=False`" in text
    assert (
        "`clip_grad_norm_` skips it" in text and "optimizers skip\n   parameters without a gradient" in text
    )
    verdict = ls.LOOP_ORDERS["after_zero_grad"].verdict
    assert "set_to_none=True every .grad is None" in verdict and "zero tensor" in verdict


# ---------------------------------------------------------------------------
# Item 5: the figures, as data.


def _lesson_figures():
    run = ls.unroll_rnn(5.0, -2.6, 30)
    yield ls.rnn_states_figure(run)
    yield ls.rnn_jacobians_figure(run)
    yield ls.rnn_contributions_figure(run)
    yield ls.rnn_contributions_figure(run, log_scale=True)
    yield ls.peak_gradient_figure(ls.peak_gradient_vs_T(5.0, [10, 20]))
    yield ls.clip_vector_figure([6.0, 1.5], 1.0)
    yield ls.grad_norm_histogram([1.0, 2.0, 50.0], threshold=1.0)
    yield ls.placement_figure(ls.placement_demos(steps=5))


def test_legend_names_carry_no_raw_markup():
    for fig in _lesson_figures():
        for trace in fig.data:
            name = trace.name or ""
            for mark in ("<", "$", "^", "{", "\\"):
                assert mark not in name, (fig.layout.title.text, name)
            # TeX-style subscripts such as x_t (code names like zero_grad() are fine).
            assert not re.search(r"\b[a-zA-Z]_[a-zA-Z0-9(]", name), name


def test_no_label_sits_on_a_reference_line():
    # The reference lines of the RNN figures are legend entries: no text on the plot at all.
    run = ls.unroll_rnn(5.0, nearest_wall_b(5.0), 200)
    for fig in (ls.rnn_states_figure(run), ls.rnn_jacobians_figure(run)):
        assert not fig.layout.annotations


def test_vector_view_reach():
    assert lf.vector_view_reach([6.0, 1.5], 1.0) == pytest.approx(3.6)
    assert lf.vector_view_reach([0.1, 0.0], 1.0) == pytest.approx(1.2)
    assert lf.vector_view_reach([2.0, 0.0], 1.0) == pytest.approx(2.4)
