"""The Learn page's demonstrations and figures: clip placement, threshold advice, value vs norm."""

import ast
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes.figures.palette import ACCENT, MODE_COLORS
from landscapes.lessons import learn_text as words

FIELDS = ("params", "loss", "grad", "update", "grad_norm")


@pytest.fixture(scope="module")
def demos():
    return ls.placement_demos()  # pascanu, catapult start (4.7, -2.2), lr 0.5, c = 1, norm clipping


def test_the_four_loops_are_the_documented_orders(demos):
    assert list(demos) == ["unclipped", "correct", "after_step", "after_zero_grad"]
    ops = {name: demo.order.operations for name, demo in demos.items()}
    assert ops["correct"] == ("zero_grad", "backward", "clip", "step")
    assert ops["after_step"] == ("zero_grad", "backward", "step", "clip")
    assert ops["after_zero_grad"] == ("zero_grad", "clip", "backward", "step")
    assert "clip" not in ops["unclipped"]
    for demo in demos.values():
        ast.parse(demo.order.code)
        assert demo.order.verdict and demo.order.title
    code = demos["correct"].order.code
    assert code.index("backward()") < code.index("clip_grad_norm_") < code.index("optimizer.step()")


@pytest.mark.parametrize("wrong", ["after_step", "after_zero_grad"])
def test_misplaced_clipping_reproduces_the_unclipped_run_exactly(demos, wrong):
    bad, reference = demos[wrong].trajectory, demos["unclipped"].trajectory
    for key in FIELDS:
        np.testing.assert_array_equal(getattr(bad, key), getattr(reference, key), err_msg=key)
    assert not bad.clipped.any()
    # Both are thrown off the cliff onto the dead plateau at step 3.
    np.testing.assert_allclose(bad.params[4], [39.04, 53.44], atol=0.01)
    assert bad.final_loss == pytest.approx(0.09)


def test_clip_after_step_fires_but_changes_nothing(demos):
    fired = demos["after_step"].clip_fired
    assert fired[3] and fired.sum() == 1  # the 131-long gradient was clipped... after use
    assert not demos["after_zero_grad"].clip_fired.any()  # a zero vector is never clipped


def test_correct_placement_matches_the_engine_and_survives(demos):
    good = demos["correct"].trajectory
    engine = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=30, clip="norm", threshold=1.0)
    for key in (*FIELDS, "clipped"):
        np.testing.assert_array_equal(getattr(good, key), getattr(engine, key), err_msg=key)
    np.testing.assert_allclose(good.params[4], [4.84, -1.92], atol=0.01)
    assert good.step_length.max() <= 0.5 + 1e-12  # lr * c
    assert good.best_loss < 1e-3 < demos["unclipped"].trajectory.best_loss


def test_unclipped_loop_matches_the_engine(demos):
    engine = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=30)
    for key in (*FIELDS, "clipped"):
        np.testing.assert_array_equal(getattr(demos["unclipped"].trajectory, key), getattr(engine, key))
    assert demos["unclipped"].trajectory.clip == "none" and demos["correct"].trajectory.clip == "norm"


def test_value_clipping_demo_and_other_landscapes():
    runs = ls.placement_demos("ravine", (3.0, 2.5), lr=0.05, threshold=0.5, steps=10, clip="value")
    for key in FIELDS:
        np.testing.assert_array_equal(
            getattr(runs["after_zero_grad"].trajectory, key), getattr(runs["unclipped"].trajectory, key)
        )
    engine = ls.simulate("ravine", (3.0, 2.5), lr=0.05, steps=10, clip="value", threshold=0.5)
    np.testing.assert_array_equal(runs["correct"].trajectory.params, engine.params)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(clip="none"), "clip must be 'norm' or 'value'"),
        (dict(threshold=0.0), "threshold must be finite and positive"),
        (dict(lr=-1.0), "learning rate must be finite and positive"),
        (dict(steps=0), "steps must be a whole number"),
        (dict(steps=2.5), "steps must be a whole number"),
        (dict(steps="many"), "steps must be a whole number"),
        (dict(start=(1.0,)), "start must be two finite numbers"),
        (dict(T=0), "T must lie in"),
    ],
)
def test_placement_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ls.placement_demos(**kwargs)


# ---------------------------------------------------------------------------
# Threshold advice.


def test_threshold_advice_from_a_run():
    run = ls.simulate("pascanu", None, lr=0.5, steps=200, clip="norm", threshold=1.0)
    advice = ls.threshold_advice(run)
    assert advice.mean_norm == pytest.approx(run.grad_norm.mean())
    assert (advice.low, advice.high) == pytest.approx((0.5 * advice.mean_norm, 10 * advice.mean_norm))
    assert advice.median_norm < advice.mean_norm  # one spike of 131 pulls the mean up
    assert advice.n_steps == 200
    assert advice.clip_fraction(1.0) == pytest.approx(run.clipped.mean())
    assert advice.contains(1.0) and not advice.contains(100.0)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=50))
def test_threshold_advice_properties(norms):
    advice = ls.threshold_advice(norms)
    assert advice.low <= advice.mean_norm * (1 + 1e-12) and advice.high >= advice.mean_norm
    assert advice.high == pytest.approx(20 * advice.low)
    assert advice.clip_fraction(advice.high) <= advice.clip_fraction(advice.low)
    assert advice.clip_fraction(advice.high) < 1  # not every norm can exceed 10x the mean


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [-1.0]])
def test_threshold_advice_rejects_bad_norms(bad):
    with pytest.raises(ValueError):
        ls.threshold_advice(bad)


def test_threshold_advice_rejects_a_run_without_steps():
    with pytest.raises(ValueError, match="no steps"):
        ls.threshold_advice(ls.simulate("ravine", None, lr=0.1, steps=0))


# ---------------------------------------------------------------------------
# Value vs norm clipping on one vector.


def test_clip_comparison_example():
    cmp = ls.clip_comparison([3.0, 1.0], 1.0)
    np.testing.assert_array_equal(cmp.value_clipped, [1.0, 1.0])
    np.testing.assert_allclose(cmp.norm_clipped, np.array([3.0, 1.0]) / math.sqrt(10))
    assert cmp.value_angle == pytest.approx(45 - math.degrees(math.atan(1 / 3)))
    assert cmp.norm_angle == pytest.approx(0, abs=1e-6)


# XLA on CPU flushes subnormal floats to zero (see test_clipping): leave them out.
component = st.floats(-1e3, 1e3, allow_subnormal=False)
vectors = st.tuples(component, component)


@given(vectors, st.floats(1e-2, 1e2))
def test_clip_comparison_properties(g, c):
    cmp = ls.clip_comparison(g, c)
    assert np.abs(cmp.value_clipped).max() <= c
    assert np.hypot(*cmp.norm_clipped) <= c * (1 + 1e-12)
    assert 0 <= cmp.value_angle < 90  # clamping never flips a component's sign
    assert cmp.norm_angle == pytest.approx(0, abs=1e-6)
    if np.abs(g).max() <= c:
        assert cmp.value_angle == 0


def test_angle_between():
    assert ls.angle_between([1, 0], [0, 2]) == pytest.approx(90)
    assert ls.angle_between([1, 0], [-1, 1e-9]) == pytest.approx(180)
    assert ls.angle_between([0, 0], [1, 1]) == 0
    with pytest.raises(ValueError, match="two finite numbers"):
        ls.clip_comparison([1.0, 2.0, 3.0], 1.0)
    with pytest.raises(ValueError, match="threshold"):
        ls.clip_comparison([1.0, 2.0], 0.0)


# ---------------------------------------------------------------------------
# Figures, inspected as data.


def _vector_traces(fig):
    box, circle, raw, by_value, by_norm, arc = fig.data
    return box, circle, raw, by_value, by_norm, arc


def test_clip_vector_figure():
    fig = ls.clip_vector_figure([3.0, 1.0], 1.0)
    box, circle, raw, by_value, by_norm, arc = _vector_traces(fig)
    assert (raw.x[-1], raw.y[-1]) == (3.0, 1.0)  # 3 = 3c: still drawn whole
    assert (by_value.x[-1], by_value.y[-1]) == (1.0, 1.0)
    assert by_norm.x[-1] == pytest.approx(3 / math.sqrt(10))
    assert raw.line.color == MODE_COLORS["none"]
    assert by_value.line.color == MODE_COLORS["value"] and by_norm.line.color == MODE_COLORS["norm"]
    np.testing.assert_array_equal(np.abs(box.x), 1.0)
    np.testing.assert_array_equal(np.abs(box.y), 1.0)
    np.testing.assert_allclose(np.hypot(circle.x, circle.y), 1.0)
    assert box.line.color == circle.line.color == ACCENT
    assert "26.6°" in arc.name and not fig.layout.annotations  # nothing written over the arrows
    assert fig.layout.yaxis.scaleanchor == "x"
    # The arc runs from g's direction to the value-clipped direction.
    assert math.atan2(arc.y[0], arc.x[0]) == pytest.approx(math.atan2(1, 3))
    assert math.atan2(arc.y[-1], arc.x[-1]) == pytest.approx(math.pi / 4)


@pytest.mark.parametrize(
    ("g", "c"),
    [((6.0, 1.5), 1.0), ((-10.0, 10.0), 0.1), ((10.0, -0.1), 5.0), ((0.3, -0.2), 1.0), ((2, 0.5), 1)],
)
def test_clip_vector_figure_is_zoomed_to_the_threshold(g, c):
    """The view is a few times c: the clipped vectors, the box and the circle fill it."""
    fig = ls.clip_vector_figure(g, c)
    box, circle, raw, by_value, by_norm, arc = _vector_traces(fig)
    reach = fig.layout.xaxis.range[1]
    assert tuple(fig.layout.xaxis.range) == tuple(fig.layout.yaxis.range) == (-reach, reach)
    assert 1.2 * c <= reach <= 3.6 * c + 1e-12
    for trace in (box, circle, raw, by_value, by_norm, arc):
        assert np.all(np.abs(np.asarray(trace.x, dtype=float)) <= reach + 1e-12)
        assert np.all(np.abs(np.asarray(trace.y, dtype=float)) <= reach + 1e-12)
    length = math.hypot(*g)
    assert f"|g| = {length:.3g}" in raw.name  # the true length, even when drawn cut
    tip = np.array([raw.x[-1], raw.y[-1]])
    # Drawn in g's own direction; cut only if it reaches beyond 3c.
    assert ls.angle_between(tip, g) == pytest.approx(0, abs=1e-9)
    if max(map(abs, g)) > 3 * c:
        assert "cut" in raw.name and np.abs(tip).max() == pytest.approx(3 * c)
    else:
        np.testing.assert_allclose(tip, g)


def test_clip_vector_figure_inside_the_box_has_no_turn():
    fig = ls.clip_vector_figure([0.3, -0.2], 1.0)
    assert "0.0°" in fig.data[-1].name
    assert fig.layout.xaxis.range == (-1.2, 1.2)


def test_clip_table_states_the_comparison():
    cmp = ls.clip_comparison([6.0, 1.5], 1.0)
    table = words.clip_table(cmp)
    assert f"| value clipping | (1, 1) | {math.sqrt(2):.3g} | {cmp.value_angle:.1f}° |" in table
    assert f"{math.hypot(6, 1.5):.3g}" in table and "c = 1." in table
    assert cmp.value_angle == pytest.approx(45 - math.degrees(math.atan(0.25)))


def test_grad_norm_histogram():
    run = ls.simulate("pascanu", None, lr=0.5, steps=200, clip="norm", threshold=1.0)
    advice = ls.threshold_advice(run)
    fig = ls.grad_norm_histogram(run, threshold=1.0)
    bars, band, mean, mine = fig.data
    assert sum(bars.y) == 200
    (shape,) = fig.layout.shapes  # the band, drawn under the bars
    assert shape.x0 == pytest.approx(math.log10(advice.low)) and shape.x1 == pytest.approx(
        math.log10(advice.high)
    )
    assert (
        shape.layer == "below" and shape.fillcolor == band.marker.color == "rgba(230, 159, 0, 0.25)"
    )  # ACCENT
    np.testing.assert_allclose(mean.x, math.log10(advice.mean_norm), rtol=1e-12)
    assert set(mine.x) == {0.0}
    # Everything is named in the legend; nothing is written on the plot to collide.
    assert not fig.layout.annotations and fig.layout.showlegend is not False
    assert f"{advice.mean_norm:.3g}" in mean.name and "10×" in band.name and "your c = 1" in mine.name
    assert f"clips {advice.clip_fraction(1.0):.0%} of steps" in mine.name
    # The lines reach the top of the y range, which holds the tallest bar.
    assert max(mean.y) == fig.layout.yaxis.range[1] >= max(bars.y)
    # Log-scale tick labels
    assert "0.01" in fig.layout.xaxis.ticktext and "100" in fig.layout.xaxis.ticktext


def test_grad_norm_histogram_counts_zero_gradients_in_the_title():
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=20)  # dead after the catapult
    fig = ls.grad_norm_histogram(run)
    assert sum(fig.data[0].y) == 4
    assert "16 with a zero gradient" in fig.layout.title.text


def test_grad_norm_histogram_of_a_dead_run():
    # Start on the plateau the catapult lands on: every gradient is exactly zero.
    run = ls.simulate("pascanu", (39.0, 53.0), lr=0.5, steps=5)
    assert not run.grad_norm.any()
    fig = ls.grad_norm_histogram(run, threshold=1.0)
    assert sum(fig.data[0].y) == 0 and "5 with a zero gradient" in fig.layout.title.text
    assert [t.name.split(" ")[0] for t in fig.data[1:]] == ["your"]  # no average, no band
    assert not fig.layout.shapes


def test_placement_figure(demos):
    fig = ls.placement_figure(demos)
    assert [t.name for t in fig.data] == [d.order.title for d in demos.values()]
    assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[1].y, demos["correct"].trajectory.loss)
    # The misplaced loops overlap the unclipped curve, so they must look different.
    styles = {(t.line.color, t.line.dash, t.marker.symbol) for t in fig.data}
    assert len(styles) == 4


# ---------------------------------------------------------------------------
# The Learn page's text.


def test_sections_are_complete_and_point_at_real_figures():
    keys = [s.key for s in ls.LEARN_SECTIONS]
    assert keys == ["exploding", "value_vs_norm", "placement", "threshold", "beyond", "limits"]
    for section in ls.LEARN_SECTIONS:
        assert section.title and len(section.body) > 500 and section.sources
        assert section.figure is None or callable(getattr(ls, section.figure))
        assert ls.learn_section(section.key) is section
    with pytest.raises(KeyError, match="exploding"):
        ls.learn_section("nope")
    assert len(ls.LEARN_REFERENCES) >= 4


@pytest.mark.parametrize("section", ls.LEARN_SECTIONS, ids=lambda s: s.key)
def test_markdown_math_and_code_are_balanced(section):
    body = section.body
    assert body.count("```") % 2 == 0
    prose = "".join(body.split("```")[::2])  # math outside code blocks only
    assert prose.count("$$") % 2 == 0
    assert prose.replace("$$", "").count("$") % 2 == 0
    for block in body.split("```")[1::2]:
        ast.parse(block.removeprefix("python\n"))
    # Inside a list item (an indented line) Streamlit's Markdown splits a
    # display formula at line breaks: such formulas must open and close on one line.
    for line in prose.splitlines():
        if line.startswith(" ") and "$$" in line:
            assert line.count("$$") == 2, line


def test_every_topic_of_the_brief_is_covered():
    text = " ".join(s.body for s in ls.LEARN_SECTIONS).lower()
    for phrase in [
        "explod",
        "vanish",
        "cliff",
        "value clipping",
        "norm clipping",
        "after `backward()` and\nbefore `step()`",
        "zero_grad()",
        "half to ten times",
        "1.0 for transformers",
        "0.25 to 5 for recurrent",
        "set_to_none=true",
        "set_to_none=false",
        "lstm",
        "gru",
        "initialisation",
        "normalisation",
        "residual",
        "warmup",
        "regulariser",
    ]:
        assert phrase.lower() in text, phrase


def test_numbers_quoted_in_the_text_match_the_package():
    text = " ".join(s.body for s in ls.LEARN_SECTIONS)
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.5, steps=5)
    assert f"about ${run.grad_norm[3]:.0f}$" in text
    assert f"$({run.params[4][0]:.0f}, {run.params[4][1]:.0f})$" in text
    assert f"{ls.clip_comparison([3.0, 1.0], 1.0).value_angle:.1f}^\\circ" in text
    assert f"{ls.PASCANU_CRITICAL_W:.2f}" in text
    assert f"{ls.core.rnn.FIXED_POINT_SLOPE:.3f}" in text
    (peak,) = ls.peak_gradient_vs_T(5.0, [50]).peak_norm
    assert round(peak, -3) == 7e3 and "7 \\times 10^3" in text
    off_wall = np.hypot(*ls.gradient_across_wall(5.0, [-0.01, 0.01], 50).T)
    assert np.all(np.abs(off_wall - 0.2) < 0.05) and "a hundredth away" in text
