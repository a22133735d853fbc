"""The loss slice at a gradient spike: its centre, its directions, its grid and the projected path."""

import numpy as np
import pytest

import landscapes as ls
from landscapes.core import network
from landscapes.core.network_slice import gradient_spikes
from landscapes.reference import network as ref

T, H, B = 8, 6, 4


@pytest.fixture(scope="module")
def run():
    return ls.train_rnn(T=T, hidden=H, batch=B, steps=40, lr=0.3, clip="norm", threshold=0.5, rec_scale=2.0,
                        seed=1, dtype="float64", record_params=True)  # fmt: skip


@pytest.fixture(scope="module")
def sl(run):
    return ls.network_loss_slice(run, resolution=65)


def test_the_slice_is_at_the_largest_spike_and_its_centre_is_the_loss_there(run, sl):
    k = int(np.argmax(run.grad_norm))
    assert sl.step == k == ls.spike_step(run)
    theta = {n: run.param_history[n][k] for n in network.PARAM_NAMES}
    x, y = ls.rnn_task_batch("adding", T, B, 1, k)
    loss, grads = ref.loss_and_grad(theta, x, y)
    assert sl.loss.shape == (65, 65) and sl.alphas[32] == 0 and sl.betas[32] == 0
    assert sl.loss[32, 32] == pytest.approx(loss, rel=1e-12) == sl.centre_loss
    assert sl.centre_loss == pytest.approx(run.loss[k], rel=1e-12)
    g = np.concatenate([grads[n].ravel() for n in network.PARAM_NAMES])
    assert sl.grad_norm == pytest.approx(np.linalg.norm(g), rel=1e-9)
    d1 = np.concatenate([sl.d1[n].ravel() for n in network.PARAM_NAMES])
    np.testing.assert_allclose(d1, g / np.linalg.norm(g), rtol=1e-8, atol=1e-12)


def test_the_directions_are_unit_and_orthogonal_and_the_random_one_filter_normalised(run, sl):
    flat = lambda d: np.concatenate([d[n].ravel() for n in network.PARAM_NAMES])  # noqa: E731
    d1, d2, raw = flat(sl.d1), flat(sl.d2), flat(sl.random_direction)
    assert np.linalg.norm(d1) == pytest.approx(1.0, rel=1e-12)
    assert abs(d1 @ d2) < 1e-12 * np.linalg.norm(d2)
    np.testing.assert_allclose(d2, raw - (raw @ d1) * d1, rtol=1e-12, atol=1e-15)
    theta = {n: run.param_history[n][sl.step] for n in network.PARAM_NAMES}
    for n in ("W_in", "W_rec"):  # row by row: one hidden unit's incoming weights
        np.testing.assert_allclose(
            np.linalg.norm(sl.random_direction[n], axis=1), np.linalg.norm(theta[n], axis=1), rtol=1e-12
        )
    for n in ("b", "W_out", "b_out"):  # a vector or the scalar is one filter
        assert np.linalg.norm(sl.random_direction[n]) == pytest.approx(np.linalg.norm(theta[n]), rel=1e-12)


def test_filter_normalisation_gives_a_zero_filter_a_zero_direction():
    params = ls.init_rnn(H, seed=0)  # biases start at zero
    d = ls.filter_normalized_direction(params, seed=3)
    assert np.all(d["b"] == 0) and np.all(d["b_out"] == 0)
    assert np.all(np.linalg.norm(d["W_rec"], axis=1) > 0)


def test_every_grid_point_is_the_loss_at_its_parameters(run, sl):
    x, y = ls.rnn_task_batch("adding", T, B, 1, sl.step)
    theta = {n: run.param_history[n][sl.step] for n in network.PARAM_NAMES}
    for i, j in [(0, 0), (64, 64), (5, 50), (40, 3)]:
        p = {n: theta[n] + sl.alphas[j] * sl.d1[n] + sl.betas[i] * sl.d2[n] for n in network.PARAM_NAMES}
        assert sl.loss[i, j] == pytest.approx(ref.loss_and_grad(p, x, y)[0], rel=1e-10)
    # Both axes cover the same distance in parameter space.
    d2_norm = np.sqrt(sum(np.sum(v * v) for v in sl.d2.values()))
    assert sl.betas[-1] * d2_norm == pytest.approx(sl.alphas[-1], rel=1e-12)


def test_the_next_steps_are_projected_onto_the_plane_exactly(run, sl):
    k = sl.step
    assert sl.path_steps[0] == k and np.all(sl.path[0] == 0)
    for row, j in enumerate(sl.path_steps):
        delta = np.concatenate(
            [(run.param_history[n][j] - run.param_history[n][k]).ravel() for n in network.PARAM_NAMES]
        )
        d1 = np.concatenate([sl.d1[n].ravel() for n in network.PARAM_NAMES])
        d2 = np.concatenate([sl.d2[n].ravel() for n in network.PARAM_NAMES])
        back = sl.path[row, 0] * d1 + sl.path[row, 1] * d2
        assert np.linalg.norm(delta - back) == pytest.approx(sl.path_off_plane[row], rel=1e-9, abs=1e-12)
        assert abs((delta - back) @ d1) < 1e-9 and abs((delta - back) @ d2) < 1e-9 * np.linalg.norm(d2)
    first = np.concatenate(
        [(run.param_history[n][k + 1] - run.param_history[n][k]).ravel() for n in network.PARAM_NAMES]
    )
    assert sl.step_length == pytest.approx(np.linalg.norm(first), rel=1e-12)
    # The default span keeps every projected step inside the plot.
    assert np.all(np.abs(sl.path[:, 0]) <= sl.alphas[-1]) and np.all(np.abs(sl.path[:, 1]) <= sl.betas[-1])


def test_the_slice_needs_the_recorded_path_and_a_real_step():
    run = ls.train_rnn(T=T, hidden=H, batch=B, steps=5, lr=0.1)
    with pytest.raises(ValueError, match="record_params"):
        ls.network_loss_slice(run)
    recorded = ls.train_rnn(T=T, hidden=H, batch=B, steps=5, lr=0.1, record_params=True)
    with pytest.raises(ValueError, match="no step 9"):
        ls.network_loss_slice(recorded, 9)


def test_spikes_are_the_steps_above_ten_times_the_median():
    norms = np.array([1.0, 2.0, 1.5, 30.0, 1.0, 1.5, 15.1, np.nan])
    # median of the finite norms: 1.5, so the bar is 15
    assert gradient_spikes(norms).tolist() == [3, 6]
    assert gradient_spikes(np.array([np.nan])).tolist() == []
