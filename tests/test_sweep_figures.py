"""Sweep figures and captions, inspected as data (go.Figure objects and strings)."""

import itertools
import math
import re
from dataclasses import replace

import jax
import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import landscapes as ls
from landscapes.core import outcomes
from landscapes.core import sweeps as sw
from landscapes.core.outcomes import DIVERGED, OUTCOMES, STUCK, THROWN, TRAINS
from landscapes.core.sweeps import Sweep
from landscapes.figures import sweeps as sf
from landscapes.figures.palette import ACCENT, MODE_COLORS, WALL_COLOR

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
    assert [t.name for t in legend] == [ls.core.outcomes.OUTCOME_LABELS[n] for n in OUTCOMES]
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


# ---------------------------------------------------------------------------
# The outcome vocabulary, the chaos caption, and "click any cell to open that exact run".


def test_the_outcome_legend_names_each_class_with_the_computed_cut_off():
    for name, params in (("pascanu", {"T": 50}), ("ravine", {"steepness": 100.0}), ("staircase", {})):
        tol = ls.train_tolerance(name, **params)
        scape = ls.get_landscape(name)
        # The typical loss, recomputed independently: the median of the loss on a 64 x 64 grid.
        (x0, x1), (y0, y1) = scape.window
        xx, yy = np.meshgrid(np.linspace(x0, x1, 64), np.linspace(y0, y1, 64))
        values = scape.resolve_params(**params)
        p = scape.param_vector(values)
        points = np.column_stack([xx.ravel(), yy.ravel()])
        loss = np.asarray(jax.jit(jax.vmap(lambda theta, p=p, scape=scape: scape.loss(theta, p)))(points))
        typical = float(np.median(loss[np.isfinite(loss)]))
        assert tol == pytest.approx(0.1 * typical, rel=1e-9)
        lines = outcomes.outcome_legend(name, **params)
        assert [line.split(":")[0] for line in lines] == [outcomes.OUTCOME_LABELS[k] for k in OUTCOMES]
        assert f"at most 10 % of the landscape's typical loss ({typical:.2g} here)" in lines[0]
        assert f"so at most {tol:.2g}" in lines[0]
        assert all(f"above {tol:.2g}" in line for line in lines[1:3])
    assert outcomes.OUTCOME_LABELS["thrown"] == "thrown off the map"


def test_the_legend_on_a_sweep_uses_the_sweeps_own_cut_off():
    sweep = ls.sweep_starts("ravine", 0.05, 5, "none", resolution=(6, 5), tolerance=0.5)
    text = sf.outcome_legend_markdown(sweep)
    assert "at most 0.5," in text and "typical" not in text
    default = ls.sweep_starts("ravine", 0.05, 5, "none", resolution=(6, 5))
    assert f"so at most {default.tolerance:.2g}" in sf.outcome_legend_markdown(default)


def test_runs_that_reach_a_tiny_loss_while_drifting_off_the_map_count_as_trains():
    # Adam on the ravine from its default start at lr 1.2 leaves the map at
    # step 14 and comes back to a loss far under the cut-off; heavy-ball
    # momentum on the RNN from (3.5, -4) leaves at step 19 and ends outside
    # the map with a loss near 1e-8. Neither is "thrown".
    cases = [
        ("ravine", (3.0, 2.5), 1.2, 200, "adam", {"steepness": 100.0}),
        ("pascanu", (3.5, -4.0), 0.5, 200, "momentum", {"T": 50}),
    ]
    for name, start, lr, steps, optimizer, params in cases:
        window = ls.get_landscape(name).window
        tol = ls.train_tolerance(name, **params)
        run = ls.simulate(name, start, lr, steps, "none", 1.0, optimizer, **params)
        assert run.left_window_at(window) is not None and run.final_loss < 1e-3 * tol
        code = ls.classify(
            np.array([run.final_loss]), np.array([-1]), np.array([run.left_window_at(window)]), tol
        )
        assert OUTCOMES[code[0]] == "trains"
        cell = ls.sweep_hparams(name, start, [lr], [1.0], steps, "none", optimizer, **params)
        assert cell.left_at[0, 0] >= 0 and OUTCOMES[cell.outcome[0, 0]] == "trains"


def test_the_ravine_momentum_run_at_lr_1_2_really_is_thrown():
    # The example setting: without clipping it is hurled to u ~ 55
    # and ends with a loss in the thousands: "thrown" is the truth there.
    run = ls.simulate("ravine", (3.0, 2.5), 1.2, 60, "none", 1.0, "momentum", steepness=100.0)
    cell = ls.sweep_hparams("ravine", (3.0, 2.5), [1.2], [1.0], 60, "none", "momentum", steepness=100.0)
    assert run.final_loss > 100 * cell.tolerance and run.params[-1, 0] > 3.5
    assert OUTCOMES[cell.outcome[0, 0]] == "thrown"


def _sensitivity_maps(steps=60, resolution=32):
    sweeps = [ls.sweep_starts("pascanu", 0.5, steps, mode, 1.0, resolution=resolution) for mode in sf_modes()]
    return sweeps, [sw.sweep_sensitivity(s) for s in sweeps]


def sf_modes():
    return ("none", "value", "norm")


def test_sweep_sensitivity_counts_the_cells_a_nudge_changes():
    sweeps, sens = _sensitivity_maps()
    for sweep, z in zip(sweeps, sens, strict=True):
        # Independently: rerun each nudged start with simulate and classify it.
        changed = np.zeros(sweep.shape, dtype=bool)
        after = np.zeros(sweep.shape, dtype=int)
        for j, i in itertools.product(range(sweep.shape[0]), range(sweep.shape[1])):
            start = np.array([sweep.x[i], sweep.y[j]])
            centre = np.array([5.0, -2.5])
            nudged = start + np.where(start > centre, -1.0, 1.0) * 1e-12 * np.abs(start)
            run = ls.simulate("pascanu", nudged, 0.5, 60, sweep.clip, 1.0)
            left = run.left_window_at(sweep.window)
            code = ls.classify(
                np.array([run.final_loss]),
                np.array([-1 if run.diverged_at is None else run.diverged_at]),
                np.array([-1 if left is None else left]),
                sweep.tolerance,
            )[0]
            after[j, i] = code
            changed[j, i] = code != sweep.outcome[j, i]
        np.testing.assert_array_equal(z.outcome, after)
        np.testing.assert_array_equal(z.changed, changed)
        assert z.changed_share == changed.mean()
        for code, name in enumerate(OUTCOMES):
            assert z.shares_after[name] == np.mean(after == code)
            assert z.shares_before[name] == np.mean(sweep.outcome == code)
    assert any(z.changed.any() for z in sens)  # the defaults do have chaotic pixels


def test_nudged_starts_stay_inside_the_window():
    sweep = ls.sweep_starts("pascanu", 0.5, 0, "none", resolution=(6, 5))
    xx, yy = np.meshgrid(sweep.x, sweep.y)
    moved = sw.nudge_points(np.column_stack([xx.ravel(), yy.ravel()]), 1e-12, sweep.window)
    (x0, x1), (y0, y1) = sweep.window
    assert ((moved[:, 0] >= x0) & (moved[:, 0] <= x1) & (moved[:, 1] >= y0) & (moved[:, 1] <= y1)).all()
    assert (moved != np.column_stack([xx.ravel(), yy.ravel()])).all()
    # With zero steps nothing can change.
    assert not sw.sweep_sensitivity(sweep).changed.any()


def test_the_chaos_caption_quotes_the_recomputed_figures():
    sweeps, sens = _sensitivity_maps()
    text = sf.sensitivity_caption(sweeps, sens)
    total = sum(z.changed.size for z in sens)
    changed = sum(int(z.changed.sum()) for z in sens)
    assert changed > 0
    # Recompute each figure from the raw masks, independently of the properties.
    share = changed / total
    assert f"changed the class of {sf._fine_pct(share)} of the cells" in text
    assert f"all {total:,} descents" in text
    for z, mode in zip(sens, ("no clipping", "value clipping", "norm clipping"), strict=True):
        assert f"{mode} {sf._fine_pct(z.changed.mean())}" in text
    neighbours = 0
    for z, sweep in zip(sens, sweeps, strict=True):
        for j, i in zip(*np.nonzero(z.changed), strict=True):
            block = sweep.outcome[max(j - 1, 0) : j + 2, max(i - 1, 0) : i + 2]
            neighbours += bool((block != sweep.outcome[j, i]).any())
    assert f"{sf._fine_pct(neighbours / changed)} of those sat where neighbouring cells" in text
    shift = max(
        abs(np.mean(z.outcome == code) - np.mean(s.outcome == code))
        for z, s in zip(sens, sweeps, strict=True)
        for code in range(4)
    )
    assert f"moved by at most {100 * shift:.2g} percentage points" in text
    assert "12th digit" in text


def test_the_chaos_caption_says_so_when_nothing_changed():
    sweeps = [ls.sweep_starts("pascanu", 0.5, 0, mode, 1.0, resolution=(6, 5)) for mode in sf_modes()]
    text = sf.sensitivity_caption(sweeps, [sw.sweep_sensitivity(s) for s in sweeps])
    assert "changed no cell's class" in text


def _decoded(data) -> np.ndarray:
    """An array from Plotly's JSON: a typed array ({"dtype", "bdata", "shape"}) or plain lists."""
    import base64

    if isinstance(data, dict) and "bdata" in data:
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = [int(k) for k in str(data.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(data, dtype=float)


def test_every_cell_of_the_default_sweeps_map_opens_as_the_same_run_in_the_explorer():
    # What a click does (pages/sweeps.py): the pick point's customdata start,
    # put into the page's Explorer config, through the URL (to_query ->
    # from_query) into the Explorer, which runs every mode. The class of that
    # run must be the cell's class. Needs start floats that round-trip exactly.
    import json

    from landscapes.views import config as cf
    from landscapes.views import explorer
    view = cf.SweepView()
    e = view.explorer
    sweeps = [
        ls.sweep_starts(e.landscape, e.lr, e.steps, mode, e.threshold, e.optimizer, 32, **e.params)
        for mode in cf.PATH_MODES
    ]
    fig = json.loads(sf.start_maps_figure(sweeps, "outcome").to_json())
    picks = [t for t in fig["data"] if isinstance(t.get("meta"), dict) and t["meta"].get("pick")]
    for trace in picks:
        trace["customdata"] = _decoded(trace["customdata"])
    assert sum(len(t["customdata"]) for t in picks) == 3 * 32 * 32
    window = e.scape.window
    tol = sweeps[0].tolerance
    mismatched = []
    for trace in picks:
        clip, want = trace["meta"]["clip"], trace["meta"]["outcome"]
        for x, y, _ in trace["customdata"]:
            config = replace(e, start=(float(x), float(y)), paths=cf.PATH_MODES)
            opened, notices = cf.from_query(cf.to_query(config))
            assert not notices
            run = explorer.run_modes(opened).runs[clip]
            for trajectory in (
                run,
                ls.simulate(
                    opened.landscape,
                    opened.start,
                    opened.lr,
                    opened.steps,
                    clip,
                    opened.threshold,
                    opened.optimizer,
                    **opened.params,
                ),
            ):
                left = trajectory.left_window_at(window)
                code = ls.classify(
                    np.array([trajectory.final_loss]),
                    np.array([-1 if trajectory.diverged_at is None else trajectory.diverged_at]),
                    np.array([-1 if left is None else left]),
                    tol,
                )[0]
                if OUTCOMES[code] != want:
                    mismatched.append((clip, x, y, want, OUTCOMES[code]))
    assert not mismatched, f"{len(mismatched)} cells open as another run, e.g. {mismatched[:3]}"
