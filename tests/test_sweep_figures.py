"""Sweep figures and captions, inspected as data (go.Figure objects and strings)."""

import itertools
import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import landscapes as ls
from landscapes import sweep_figures as sf
from landscapes.palette import ACCENT, MODE_COLORS, WALL_COLOR
from landscapes.sweeps import DIVERGED, OUTCOMES, STUCK, THROWN, TRAINS, Sweep

WINDOW = ((3.5, 6.5), (-4.0, -1.0))


def fake_sweep(clip="none", *, kind="starts", outcome=None, loss=None, clipped=None, shape=(5, 6), **extra):
    """A Sweep built by hand: figures are pure functions of its arrays."""
    ny, nx = shape
    rng = np.random.default_rng(len(clip) + nx)
    if kind == "starts":
        x, y = np.linspace(*WINDOW[0], nx), np.linspace(*WINDOW[1], ny)
        names, lr, threshold, start = ("w", "b"), 0.5, 1.0, None
    else:
        x, y = np.logspace(-2, 1, nx), np.logspace(-2, 2, ny)
        names, lr, threshold, start = ("lr", "threshold"), None, None, (4.7, -2.2)
    outcome = rng.integers(0, 4, shape) if outcome is None else np.asarray(outcome)
    loss = 10.0 ** rng.uniform(-9, -0.5, shape) if loss is None else np.asarray(loss, dtype=float)
    clipped = rng.integers(0, 50, shape) if clipped is None else np.asarray(clipped)
    fields = dict(
        kind=kind,
        x=x,
        y=y,
        x_name=names[0],
        y_name=names[1],
        final_loss=loss,
        final_x=np.zeros(shape),
        final_y=np.zeros(shape),
        start_loss=np.ones(shape),
        steps_taken=np.full(shape, 200),
        diverged_at=np.where(outcome == DIVERGED, 3, -1),
        left_at=np.where(outcome == THROWN, 4, -1),
        n_clipped=clipped,
        longest_step=np.ones(shape),
        outcome=outcome.astype(np.int8),
        tolerance=0.0084,
        landscape="pascanu",
        clip=clip,
        optimizer="sgd",
        steps=200,
        lr=lr,
        threshold=threshold,
        start=start,
        window=WINDOW,
        landscape_params={"T": 50.0},
    )
    return Sweep(**(fields | extra))


def three_modes(**kwargs):
    return [fake_sweep(mode, **kwargs) for mode in ("none", "value", "norm")]


def heatmaps(fig):
    return [t for t in fig.data if isinstance(t, go.Heatmap)]


def pick_cells(fig, clip=None):
    rows = [
        tuple(row[:2])
        for t in sf.pick_traces(fig)
        if clip is None or t.meta["clip"] == clip
        for row in np.asarray(t.customdata)
    ]
    return rows


def colour_at(colorscale, value):
    """The colour a piecewise-constant Plotly colour scale gives at ``value`` in [0, 1]."""
    for (lo, colour), (hi, _) in itertools.pairwise(colorscale):
        if lo <= value < hi:
            return colour
    return colorscale[-1][1]


# ---------------------------------------------------------------------------
# (a) start maps


def test_loss_maps_share_one_log_colour_scale_labelled_in_loss_units():
    sweeps = three_modes()
    fig = sf.start_maps_figure(sweeps, "loss")
    maps = heatmaps(fig)
    assert len(maps) == 3 and {m.coloraxis for m in maps} == {"coloraxis"}
    axis = fig.layout.coloraxis
    logs = np.log10(np.concatenate([s.final_loss.ravel() for s in sweeps]))
    assert axis.cmin == pytest.approx(logs.min()) and axis.cmax == pytest.approx(logs.max())
    for heatmap, sweep in zip(maps, sweeps, strict=True):
        np.testing.assert_allclose(heatmap.z, np.log10(sweep.final_loss), rtol=1e-6)
        np.testing.assert_array_equal(heatmap.x, sweep.x)
        np.testing.assert_array_equal(heatmap.y, sweep.y)
        assert heatmap.z.shape == sweep.shape  # (ny, nx), Plotly's layout
    ticks, labels = axis.colorbar.tickvals, axis.colorbar.ticktext
    assert all(axis.cmin <= t <= axis.cmax and t == int(t) for t in ticks)
    for tick, label in zip(ticks, labels, strict=True):
        assert float(label.lstrip("≤")) == pytest.approx(10.0**tick)


def test_panels_are_titled_and_coloured_by_mode_with_fixed_axes():
    fig = sf.start_maps_figure(three_modes(), "loss")
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["no clipping", "value clipping, c = 1", "norm clipping, c = 1"]
    assert [a.font.color for a in fig.layout.annotations] == [
        MODE_COLORS[m] for m in ("none", "value", "norm")
    ]
    for name in ("xaxis", "xaxis2", "xaxis3"):
        assert tuple(fig.layout[name].range) == WINDOW[0]
    assert tuple(fig.layout.yaxis.range) == WINDOW[1]


def test_wall_lines_follow_the_analytic_wall_on_every_panel():
    fig = sf.start_maps_figure(three_modes(), "loss")
    walls = [t for t in fig.data if isinstance(t, go.Scatter) and t.legendgroup == "wall"]
    assert len(walls) == 3 and sum(bool(t.showlegend) for t in walls) == 1
    for wall in walls:
        assert wall.line.color == WALL_COLOR
        np.testing.assert_allclose(wall.y, ls.pascanu_wall_b(np.asarray(wall.x)))
    assert not [
        t for t in sf.start_maps_figure(three_modes(), show_walls=False).data if t.legendgroup == "wall"
    ]


def test_the_start_open_in_the_explorer_is_marked_on_every_panel():
    fig = sf.start_maps_figure(three_modes(), "loss", current=(4.7, -2.2))
    stars = [t for t in fig.data if t.name == "open in the Explorer"]
    assert [(t.x, t.y) for t in stars] == [((4.7,), (-2.2,))] * 3
    assert [t.marker.color for t in stars] == [MODE_COLORS[m] for m in ("none", "value", "norm")]
    assert sum(bool(t.showlegend) for t in stars) == 1
    assert [t.xaxis for t in stars] == ["x", "x2", "x3"]
    assert not [t for t in sf.start_maps_figure(three_modes()).data if t.name == "open in the Explorer"]


def test_outcome_maps_use_categorical_colours_and_a_legend():
    sweeps = three_modes()
    fig = sf.start_maps_figure(sweeps, "outcome")
    axis = fig.layout.coloraxis
    assert (axis.cmin, axis.cmax) == (-0.5, 3.5) and axis.showscale is False
    for heatmap, sweep in zip(heatmaps(fig), sweeps, strict=True):
        np.testing.assert_array_equal(heatmap.z, sweep.outcome)
    scale = [list(step) for step in axis.colorscale]
    for code, name in enumerate(OUTCOMES):
        position = (code - axis.cmin) / (axis.cmax - axis.cmin)
        assert colour_at(scale, position) == sf.OUTCOME_COLORS[name]
    legend = [t for t in fig.data if t.showlegend and t.legendgroup and t.legendgroup.startswith("outcome")]
    assert [t.marker.color for t in legend] == [sf.OUTCOME_COLORS[n] for n in OUTCOMES]
    assert [t.name for t in legend] == [ls.sweeps.OUTCOME_LABELS[n] for n in OUTCOMES]
    # No class colour is a clipping-mode colour (or the accent): a map never looks like a mode.
    assert not set(sf.OUTCOME_COLORS.values()) & {*MODE_COLORS.values(), ACCENT, WALL_COLOR}


def test_clipped_maps_count_steps_on_one_scale():
    sweeps = [fake_sweep(m, clipped=np.full((5, 6), k)) for k, m in enumerate(("none", "value", "norm"))]
    sweeps[2].n_clipped[0, 0] = 40
    fig = sf.start_maps_figure(sweeps, "clipped")
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 40)
    for heatmap, sweep in zip(heatmaps(fig), sweeps, strict=True):
        np.testing.assert_array_equal(heatmap.z, sweep.n_clipped)
    assert "of 200" in fig.layout.coloraxis.colorbar.title.text


def test_pick_grid_carries_every_start_exactly_and_its_class():
    sweeps = three_modes()
    fig = sf.start_maps_figure(sweeps, "outcome")
    expected = {(x, y) for y in sweeps[0].y for x in sweeps[0].x}
    for sweep in sweeps:
        cells = pick_cells(fig, sweep.clip)
        assert len(cells) == sweep.final_loss.size and set(cells) == expected  # exact float64 values
    for trace in sf.pick_traces(fig):
        assert trace.marker.color == "rgba(0,0,0,0)" and trace.showlegend is False
        sweep = next(s for s in sweeps if s.clip == trace.meta["clip"])
        for x, y, loss in np.asarray(trace.customdata):
            j, i = list(sweep.y).index(y), list(sweep.x).index(x)
            assert OUTCOMES[sweep.outcome[j, i]] == trace.meta["outcome"]
            assert loss == sweep.final_loss[j, i]


def test_pick_grid_is_subsampled_on_large_maps_but_keeps_real_cells():
    big = [fake_sweep(m, shape=(130, 150)) for m in ("none", "norm")]
    fig = sf.start_maps_figure(big, "loss", pick_resolution=20)
    cells = pick_cells(fig, "norm")
    assert len(cells) == 20 * 20
    xs, ys = {c[0] for c in cells}, {c[1] for c in cells}
    assert xs <= set(big[0].x) and ys <= set(big[0].y)
    assert {big[0].x[0], big[0].x[-1], big[0].y[0], big[0].y[-1]} <= xs | ys  # the corners are pickable


def test_a_128_map_of_three_modes_stays_a_small_payload():
    big = [fake_sweep(m, shape=(128, 128)) for m in ("none", "value", "norm")]
    assert len(sf.start_maps_figure(big, "loss").to_json()) < 1_500_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(kind="hparams"), "start sweeps"),
        (dict(x=np.linspace(0, 1, 6)), "one grid"),
        (dict(lr=0.1), "share the learning rate"),
    ],
)
def test_start_maps_refuse_mixed_sweeps(change, message):
    odd = fake_sweep("norm", **change)
    with pytest.raises(ValueError, match=message):
        sf.start_maps_figure([fake_sweep("none"), odd])
    with pytest.raises(ValueError, match="quantity"):
        sf.start_maps_figure([fake_sweep("none")], "speed")
    with pytest.raises(ValueError, match="at least one"):
        sf.start_maps_figure([])


# ---------------------------------------------------------------------------
# (b) the learning-rate x threshold diagram


def hparam_sweep(clip="norm"):
    outcome = np.full((5, 6), TRAINS)
    outcome[:, 4:] = THROWN  # large learning rates are thrown
    outcome[0, 5] = DIVERGED
    outcome[4, :2] = STUCK
    return fake_sweep(clip, kind="hparams", outcome=outcome)


def test_hparam_diagram_has_log_axes_an_outline_and_the_current_marker():
    sweep = hparam_sweep()
    fig = sf.hparams_figure(sweep, current=(0.5, 1.0))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    lo, hi = fig.layout.xaxis.range
    assert lo < math.log10(sweep.x.min()) and hi > math.log10(sweep.x.max())
    (heatmap,) = heatmaps(fig)
    np.testing.assert_array_equal(heatmap.x, sweep.x)
    (outline,) = [t for t in fig.data if isinstance(t, go.Contour)]
    np.testing.assert_array_equal(outline.z, np.isin(sweep.outcome, [THROWN, DIVERGED]))
    assert outline.contours.start == outline.contours.end == 0.5
    assert outline.contours.coloring == "none" and outline.showlegend
    (marker,) = [t for t in fig.data if t.name == "open in the Explorer"]
    assert (marker.x, marker.y) == ((0.5,), (1.0,)) and marker.marker.color == MODE_COLORS["norm"]
    cells = pick_cells(fig)
    assert set(cells) == {(lr, c) for c in sweep.y for lr in sweep.x}
    assert {t.meta["kind"] for t in sf.pick_traces(fig)} == {"hparams"}


def test_hparam_diagram_without_an_edge_or_marker():
    calm = fake_sweep("norm", kind="hparams", outcome=np.full((5, 6), TRAINS))
    fig = sf.hparams_figure(calm, "outcome")
    assert not [t for t in fig.data if isinstance(t, go.Contour)]
    assert not [t for t in fig.data if t.name == "open in the Explorer"]
    np.testing.assert_array_equal(heatmaps(fig)[0].z, calm.outcome)
    none = sf.hparams_figure(hparam_sweep("none"))
    assert "no effect" in none.layout.yaxis.title.text
    with pytest.raises(ValueError, match="sweep_hparams"):
        sf.hparams_figure(fake_sweep("norm"))


# ---------------------------------------------------------------------------
# (c) captions are computed from the data


def test_start_map_caption_reports_the_shares_it_was_given():
    quarter = np.full((4, 4), STUCK)
    quarter[0] = TRAINS  # 25 % train
    thrown = quarter.copy()
    thrown[1:3] = THROWN  # and 50 % thrown
    most = np.full((4, 4), TRAINS)
    most[0, :2] = STUCK  # 87.5 % train
    sweeps = [
        fake_sweep("none", outcome=thrown, shape=(4, 4)),
        fake_sweep("value", outcome=quarter, shape=(4, 4)),
        fake_sweep("norm", outcome=most, shape=(4, 4)),
    ]
    text = sf.start_maps_caption(sweeps)
    assert "16 starts" in text and "200 steps" in text and "learning rate 0.5" in text
    assert "Without clipping, 25 % train and 50 % are thrown off the map or diverge" in text
    assert "with norm clipping (c = 1), 88 % train and none are thrown" in text
    assert "rises by 62 percentage points" in text  # 87.5 - 25
    assert "0.0084" in text


def test_start_map_caption_says_so_when_clipping_does_not_help():
    same = three_modes(outcome=np.full((5, 6), TRAINS))
    assert "almost no difference" in sf.start_maps_caption(same)


def test_hparam_caption_names_the_first_rate_that_throws_and_the_current_cell():
    sweep = hparam_sweep()
    text = sf.hparams_caption(sweep, current=(sweep.x[1], sweep.y[2]))
    assert f"of the {sweep.outcome.size} (learning rate, threshold) pairs" in text
    first = f"{sweep.x[4]:.3g}"
    assert (
        f"With c = 0.01, the smallest learning rate that throws it off the map or makes it diverge is {first}"
        in text
    )
    assert "lies in a cell that trains" in text
    assert "outside this diagram" in sf.hparams_caption(sweep, current=(100.0, 1.0))
    assert "Without clipping the threshold does nothing" in sf.hparams_caption(hparam_sweep("none"))


# ---------------------------------------------------------------------------
# colour scale helpers


@given(hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(1e-30, 10.0)))
def test_log_scale_spans_the_data_and_labels_decades(losses):
    cmin, cmax, ticks, labels = sf.log_loss_scale([losses])
    values = sf.log10_loss(losses)
    assert cmin <= values.min() + 1e-12 and values.max() <= cmax + 1e-12
    assert len(ticks) == len(labels) >= 1
    for tick, label in zip(ticks, labels, strict=True):
        assert re.fullmatch(r"≤?(\d+(\.\d+)?|1e-?\d+)", label)
        assert float(label.lstrip("≤")) == pytest.approx(10.0**tick)


def test_zero_and_infinite_losses_are_drawn_at_the_ends():
    losses = np.array([0.0, 1e-3, np.inf])
    cmin, cmax, _, labels = sf.log_loss_scale([losses])
    z = sf.log10_loss(losses, cmax)
    assert z[0] == math.log10(sf.LOSS_FLOOR) == cmin and z[2] == cmax
    assert labels[0] == "≤1e-12"


# ---------------------------------------------------------------------------
# with real sweeps


def test_figures_from_real_sweeps():
    sweeps = [
        ls.sweep_starts("pascanu", 0.5, 30, m, 1.0, resolution=(6, 5)) for m in ("none", "value", "norm")
    ]
    for quantity in ("loss", "outcome", "clipped"):
        fig = sf.start_maps_figure(sweeps, quantity)
        assert len(heatmaps(fig)) == 3
        fig.to_json()
    assert sf.start_maps_caption(sweeps).startswith("Each pixel is one run of 30 steps")
    grid = ls.sweep_hparams("pascanu", None, np.logspace(-2, 0.5, 6), np.logspace(-1, 1, 5), 30, "norm")
    fig = sf.hparams_figure(grid, current=(0.5, 1.0))
    fig.to_json()
    assert "lies in a cell that" in sf.hparams_caption(grid, current=(0.5, 1.0))
