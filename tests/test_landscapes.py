"""Each landscape: its metadata, that its cliff is really there, and where its minimum is."""

import itertools
import math

import numpy as np
import pytest

import landscapes as ls
from landscapes import reference

NAMES = ["pascanu", "ravine", "deep_product", "staircase"]


def test_registry_lists_the_four_landscapes():
    assert [s.name for s in ls.list_landscapes()][:4] == NAMES
    with pytest.raises(ValueError, match="unknown landscape 'nope'"):
        ls.get_landscape("nope")
    with pytest.raises(ValueError, match="registered already"):
        ls.register(ls.get_landscape("pascanu"))


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete_and_consistent(name):
    scape = ls.get_landscape(name)
    for text in (scape.title, scape.formula, scape.description, scape.source, scape.minimum):
        assert isinstance(text, str) and len(text) > 10
    assert len(scape.param_names) == len(scape.axis_labels) == 2
    (x0, x1), (y0, y1) = scape.window
    assert x0 < scape.default_start[0] < x1 and y0 < scape.default_start[1] < y1
    assert scape.params, "every landscape has a tunable parameter"
    for spec in scape.params:
        assert spec.low <= spec.default <= spec.high
        assert spec.validate(spec.default) == spec.default
        assert spec.clamp(spec.high * 10) == spec.high and spec.clamp(spec.low - 10) == spec.low
    loss, _ = ls.evaluate_points(scape, [scape.default_start])
    assert np.isfinite(loss).all()


def _peak_and_median(name, resolution=400, **params):
    """Peak gradient norm (on a mesh plus points on the analytic walls) vs the mesh median."""
    scape = ls.get_landscape(name)
    surface = ls.loss_surface(scape, resolution, **params)
    values = scape.resolve_params(**params)
    peak = surface.grad_norm.max()
    for wall in scape.walls(values, scape.window):
        # Sample densely across each wall too: a wall can be thinner than the mesh.
        dense = np.concatenate([np.linspace(a, b, 400) for a, b in itertools.pairwise(wall)])
        shifts = np.column_stack([np.linspace(-0.05, 0.05, 201), np.zeros(201)])
        _, g = ls.evaluate_points(scape, (dense[None, :, :] + shifts[:, None, :]).reshape(-1, 2), **values)
        peak = max(peak, np.nanmax(g))
    return peak, np.median(surface.grad_norm)


@pytest.mark.parametrize(
    ("name", "ratio"), [("pascanu", 1e3), ("ravine", 30), ("deep_product", 1e3), ("staircase", 8)]
)
def test_each_cliff_is_really_there(name, ratio):
    peak, median = _peak_and_median(name)
    assert peak > ratio * median, (peak, median)


# --- pascanu ---------------------------------------------------------------


def test_pascanu_loss_matches_the_hand_written_rnn():
    for w, b, T in [(4.7, -2.2, 50), (5.0, -2.6, 10), (3.6, -1.2, 1)]:
        loss, _ = ls.evaluate_points("pascanu", [(w, b)], T=T)
        expected, _ = reference.pascanu_loss_and_grad(w, b, T)
        assert loss[0] == pytest.approx(expected, rel=1e-12)


def test_pascanu_wall_line_and_critical_weight():
    assert ls.PASCANU_CRITICAL_W == pytest.approx(4.2553, abs=1e-4)
    assert ls.pascanu_wall_b(5.0) == pytest.approx(0.5 - 5.0 * 0.6224593, abs=1e-6)
    # On the line, x0 = 0.5 is a fixed point: the state does not move.
    x_T = ls.rnn_states(5.0, float(ls.pascanu_wall_b(5.0)), 50)
    assert float(x_T) == pytest.approx(0.5, abs=1e-6)
    (wall,) = ls.get_landscape("pascanu").walls({"T": 50}, ((3.5, 6.5), (-4, -1)))
    assert wall[0, 0] == pytest.approx(ls.PASCANU_CRITICAL_W)
    np.testing.assert_allclose(wall[:, 1], ls.pascanu_wall_b(wall[:, 0]))


@pytest.mark.parametrize(("w", "peak"), [(4.5, 1.6e2), (5.0, 6.8e3), (5.4, 1.7e5)])
def test_pascanu_peak_gradient_on_the_wall(w, peak):
    b0 = float(ls.pascanu_wall_b(w))
    b = b0 + np.linspace(-2e-3, 2e-3, 40001)
    _, g = ls.evaluate_points("pascanu", np.column_stack([np.full_like(b, w), b]))
    assert g.max() == pytest.approx(peak, rel=0.15)


def test_pascanu_has_no_wall_below_the_critical_weight():
    b = np.linspace(-4, -1, 20001)
    _, g = ls.evaluate_points("pascanu", np.column_stack([np.full_like(b, 4.0), b]))
    assert g.max() < 10


def test_pascanu_cliff_sharpens_exponentially_with_T():
    peaks = []
    for T in (10, 20, 30, 40):
        b = float(ls.pascanu_wall_b(5.0)) + np.linspace(-0.05, 0.05, 40001)
        _, g = ls.evaluate_points("pascanu", np.column_stack([np.full_like(b, 5.0), b]), T=T)
        peaks.append(g.max())
    growth = np.diff(np.log(peaks))
    assert np.all(growth > 1.0)  # more than e-fold per 10 steps, every time


def test_pascanu_levels_and_ravine():
    # "Left" of the falling wall line is below it (smaller w at the same b).
    left, _ = ls.evaluate_points("pascanu", [(5.0, -3.5), (6.0, -3.5), (4.5, -2.5)])
    right, _ = ls.evaluate_points("pascanu", [(5.0, -2.0), (5.0, -2.5), (6.0, -3.2)])
    assert np.all(left > 0.3) and np.all(right < 0.06)
    # The ravine is a hair's width: scan b at w = 4.647 for the science notes' 1e-8.
    b = np.linspace(-2.40, -2.38, 20001)
    loss, _ = ls.evaluate_points("pascanu", np.column_stack([np.full_like(b, 4.647), b]))
    assert loss.min() < 1e-7 and b[loss.argmin()] == pytest.approx(-2.392, abs=1e-3)
    surface = ls.loss_surface("pascanu", 300)
    j, i = np.unravel_index(surface.loss.argmin(), surface.loss.shape)
    w, b = surface.x[i], surface.y[j]
    assert surface.loss.min() < 1e-6
    assert 0 < b - ls.pascanu_wall_b(w) < 0.3  # just right of (above) the wall line


# --- ravine ----------------------------------------------------------------


def test_ravine_steepness_spans_three_orders_of_magnitude():
    low, _ = _peak_and_median("ravine", 200, steepness=1.0)
    high, _ = _peak_and_median("ravine", 200, steepness=1e4)
    assert high / low > 1e3


def test_ravine_minimum_at_the_foot_of_the_wall():
    for s in (100.0, 1e3, 1e4):
        x = np.linspace(-0.5, 1.5, 4001)
        loss, _ = ls.evaluate_points("ravine", np.column_stack([x, np.zeros_like(x)]), steepness=s)
        assert x[loss.argmin()] == pytest.approx(0.5, abs=0.01)
        _, g = ls.evaluate_points("ravine", [(0.5, 0.0)], steepness=s)
        assert g[0] < 0.01


def test_plain_descent_is_thrown_by_the_ravine_wall_and_clipping_is_not():
    scape = ls.get_landscape("ravine")
    plain = ls.simulate(scape, None, lr=1.5, steps=50)
    clipped = ls.simulate(scape, None, lr=1.5, steps=50, clip="norm", threshold=1.0)
    assert plain.left_window_at(scape.window) is not None and plain.longest_step > 50
    assert clipped.left_window_at(scape.window) is None and clipped.final_loss < plain.final_loss


# --- deep product ----------------------------------------------------------


def test_deep_product_wall_steepens_exponentially_with_depth():
    depths = np.array([4, 8, 12, 16, 20, 24])
    peaks = [_peak_and_median("deep_product", 200, depth=int(n))[0] for n in depths]
    slope, intercept = np.polyfit(depths, np.log(peaks), 1)
    fitted = slope * depths + intercept
    r2 = 1 - np.sum((np.log(peaks) - fitted) ** 2) / np.sum((np.log(peaks) - np.log(peaks).mean()) ** 2)
    assert slope > math.log(1.3) and r2 > 0.98


def test_deep_product_minimum_is_the_described_curve():
    w = np.linspace(0.8, 1.5, 50)
    a = np.arctanh(0.5) / w**12
    loss, _ = ls.evaluate_points("deep_product", np.column_stack([w, a]))
    assert loss.max() < 1e-20
    surface = ls.loss_surface("deep_product", 300)
    assert surface.loss.min() < 1e-4


# --- staircase -------------------------------------------------------------


def test_staircase_path_meets_several_cliffs():
    scape = ls.get_landscape("staircase")
    run = ls.simulate(scape, None, lr=0.05, steps=1000, clip="norm", threshold=1.0)
    position = run.params[:, 0] + 0.4 * run.params[:, 1]
    crossed = [k for k in range(3) if position.max() > 1.2 * k > position.min()]
    assert len(crossed) == 3
    assert run.n_clipped >= 3  # each edge fires the clip


def test_staircase_minimum_below_the_last_cliff():
    surface = ls.loss_surface("staircase", 341)
    j, i = np.unravel_index(surface.loss.argmin(), surface.loss.shape)
    assert surface.x[i] == pytest.approx(-1.0, abs=0.05) and surface.y[j] == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize("scape", ls.list_landscapes(), ids=lambda s: s.name)
def test_a_points_numbers_do_not_depend_on_the_block_it_is_evaluated_in(scape):
    """evaluate_points runs in fixed blocks (one compiled program for every grid): a point alone,
    in the 64 x 64 grid of the trains bar or past the first block has the same numbers, to the bit."""
    from landscapes.core.mesh import EVALUATION_BLOCK

    (x0, x1), (y0, y1) = scape.window
    rng = np.random.default_rng(7)
    many = np.column_stack(
        [rng.uniform(x0, x1, EVALUATION_BLOCK + 500), rng.uniform(y0, y1, EVALUATION_BLOCK + 500)]
    )
    loss, gnorm = ls.evaluate_points(scape, many)
    assert loss.shape == gnorm.shape == (len(many),)
    for index in (0, 4095, EVALUATION_BLOCK - 1, EVALUATION_BLOCK, len(many) - 1):
        one_loss, one_gnorm = ls.evaluate_points(scape, many[index : index + 1])
        assert one_loss[0] == loss[index] or (np.isnan(one_loss[0]) and np.isnan(loss[index]))
        assert one_gnorm[0] == gnorm[index] or (np.isnan(one_gnorm[0]) and np.isnan(gnorm[index]))
    empty = ls.evaluate_points(scape, np.zeros((0, 2)))
    assert empty[0].shape == empty[1].shape == (0,)
