"""The small RNN on the adding problem: model, task, training, clipping scopes, the float64 BPTT reference."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes.core import network
from landscapes.reference import network as ref

# Small sizes keep the compiles few and short; every test below shares them.
T, H, B = 8, 6, 4


def _jax_params(params):
    return {n: jnp.asarray(v, jnp.float64) for n, v in params.items()}


# ---------------------------------------------------------------------------
# Model and task


@pytest.mark.parametrize("rec_scale", [0.5, 1.0, 3.0])
def test_init_rnn_shapes_and_spectral_radius(rec_scale):
    p = ls.init_rnn(H, seed=3, rec_scale=rec_scale)
    assert {n: v.shape for n, v in p.items()} == {
        "W_in": (H, 2),
        "W_rec": (H, H),
        "b": (H,),
        "W_out": (H,),
        "b_out": (),
    }
    assert max(abs(np.linalg.eigvals(p["W_rec"]))) == pytest.approx(rec_scale, rel=1e-12)
    again = ls.init_rnn(H, seed=3, rec_scale=rec_scale)
    assert all(np.array_equal(p[n], again[n]) for n in p)


@given(
    T=st.integers(2, 120),
    batch=st.integers(1, 16),
    seed=st.integers(0, 2**31 - 1),
    step=st.integers(0, 10**6),
)
def test_adding_batch_two_markers_one_per_half_target_their_sum(T, batch, seed, step):
    x, y = ls.rnn_task_batch("adding", T, batch, seed, step)
    assert x.shape == (batch, T, 2) and y.shape == (batch,)
    u, m = x[..., 0], x[..., 1]
    assert np.all((u >= 0) & (u < 1))
    assert set(np.unique(m)) <= {0.0, 1.0}
    half = T // 2
    assert np.all(m[:, :half].sum(axis=1) == 1) and np.all(m[:, half:].sum(axis=1) == 1)
    assert np.array_equal(y, (u * m).sum(axis=1))
    # A pure function of (seed, step): the same batch again, a different one at the next step.
    x2, y2 = ls.rnn_task_batch("adding", T, batch, seed, step)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, _ = ls.rnn_task_batch("adding", T, batch, seed, step + 1)
    assert not np.array_equal(x, x3)


def test_heldout_batch_is_fixed_and_the_constant_one_scores_about_a_sixth():
    x, y = ls.rnn_heldout_batch("adding", 50)
    assert x.shape == (1000, 50, 2)
    x2, y2 = ls.rnn_heldout_batch("adding", 50)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    # The sum of two U(0,1) has variance 2/12: the constant 1 scores about 1/6, far above "solved".
    constant = float(np.mean((y - 1.0) ** 2))
    assert abs(constant - 1 / 6) < 0.02
    assert constant > 4 * ls.SOLVED_LOSS


def test_bad_task_arguments_are_refused_with_the_value():
    with pytest.raises(ValueError, match="'copy'"):
        ls.rnn_task_batch("copy", 10, 4, 0, 0)
    with pytest.raises(ValueError, match="T must lie"):
        ls.rnn_task_batch("adding", 1, 4, 0, 0)
    with pytest.raises(ValueError, match="scope"):
        ls.train_rnn(T=T, hidden=H, batch=B, steps=2, clip="norm", scope="layer")
    with pytest.raises(ValueError, match="per-tensor thresholds"):
        ls.train_rnn(T=T, hidden=H, batch=B, steps=2, clip="norm", threshold={"W_rec": 1.0})
    with pytest.raises(ValueError, match="clipping threshold"):
        ls.train_rnn(T=T, hidden=H, batch=B, steps=2, clip="norm", threshold=-1.0)


# ---------------------------------------------------------------------------
# The float64 reference


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bptt_gradients_equal_jax_grad_in_float64(seed):
    params = ls.init_rnn(H, seed=seed, rec_scale=1.5)
    params["b"] = np.linspace(-0.3, 0.3, H)  # non-zero biases, so their gradient is tested too
    x, y = ls.rnn_task_batch("adding", T, B, seed, 7)
    loss, grads = ref.loss_and_grad(params, x, y)
    jax_loss, jax_grads = jax.value_and_grad(network.rnn_loss)(
        _jax_params(params), jnp.asarray(x), jnp.asarray(y)
    )
    assert loss == pytest.approx(float(jax_loss), rel=1e-12)
    for n in network.PARAM_NAMES:
        np.testing.assert_allclose(grads[n], np.asarray(jax_grads[n]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("clip", "threshold", "scope", "optimizer"),
    [
        ("none", None, "global", "sgd"),
        ("norm", 0.5, "global", "sgd"),
        ("norm", 0.5, "per_tensor", "sgd"),
        ("value", 0.05, "global", "momentum"),
    ],
)
def test_a_replayed_run_matches_the_reference_step_by_step_in_float64(clip, threshold, scope, optimizer):
    run = ls.train_rnn(
        T=T, hidden=H, batch=B, steps=20, lr=0.3, clip=clip, threshold=threshold, scope=scope,
        optimizer=optimizer, rec_scale=1.2, seed=5, dtype="float64", record_params=True,
    )  # fmt: skip
    assert run.steps_taken == 20
    replay = ref.train(
        run.init_params, T=T, batch=B, seed=5, steps=20, lr=0.3, clip_mode=clip,
        threshold=run.threshold, scope=scope, momentum=0.9 if optimizer == "momentum" else None,
    )  # fmt: skip
    np.testing.assert_allclose(run.loss, replay["loss"], rtol=1e-9)
    np.testing.assert_allclose(run.grad_norm, replay["grad_norm"], rtol=1e-9)
    for n in network.PARAM_NAMES:
        np.testing.assert_allclose(run.params[n], replay["params"][-1][n], rtol=1e-9, atol=1e-12)
        # Step by step: the parameters after every step (row 0 is the start, the last row the end).
        path = run.param_history[n]
        assert path.shape == (21, *run.params[n].shape)
        np.testing.assert_array_equal(path[0], run.init_params[n])
        np.testing.assert_array_equal(path[-1], run.params[n])
        expected = np.stack([step[n] for step in replay["params"]])
        np.testing.assert_allclose(path[1:], expected, rtol=1e-9, atol=1e-12)
    if clip != "none":
        assert run.clipped.any()  # the rule acted, so the comparison covers it


# ---------------------------------------------------------------------------
# Clipping scopes


def _grads(seed=0, rec_scale=2.5):
    params = ls.init_rnn(H, seed=seed, rec_scale=rec_scale)
    x, y = ls.rnn_task_batch("adding", T, B, seed, 0)
    return jax.grad(network.rnn_loss)(_jax_params(params), jnp.asarray(x), jnp.asarray(y))


def _norm(g):
    return math.sqrt(float(np.sum(np.asarray(g) ** 2)))


def test_global_norm_clipping_rescales_every_tensor_by_one_factor():
    g = _grads()
    total = math.sqrt(sum(_norm(v) ** 2 for v in g.values()))
    c = total / 4
    out = ls.clip_network_gradient(g, "norm", c, scope="global")
    for n in network.PARAM_NAMES:
        np.testing.assert_allclose(np.asarray(out[n]), np.asarray(g[n]) * (c / total), rtol=1e-12)


def test_per_tensor_norm_clipping_clips_each_tensor_to_its_own_threshold():
    g = _grads()
    norms = {n: _norm(v) for n, v in g.items()}
    # Thresholds between the tensors' norms: some tensors clipped, others untouched.
    c = sorted(norms.values())[2]
    out = ls.clip_network_gradient(g, "norm", c, scope="per_tensor")
    for n in network.PARAM_NAMES:
        expected = np.asarray(g[n]) * (c / norms[n]) if norms[n] > c else np.asarray(g[n])
        np.testing.assert_allclose(np.asarray(out[n]), expected, rtol=1e-12)
    # ... which is not global clipping: the factors differ between tensors.
    glob = ls.clip_network_gradient(g, "norm", c, scope="global")
    factors = {_norm(out[n]) / norms[n] for n in network.PARAM_NAMES}
    assert len({round(f, 9) for f in factors}) > 1
    assert not np.allclose(np.asarray(glob["W_rec"]), np.asarray(out["W_rec"]))
    # Per-tensor thresholds: each tensor its own.
    levels = {n: norms[n] / (k + 2) for k, n in enumerate(network.PARAM_NAMES)}
    own = ls.clip_network_gradient(g, "norm", levels, scope="per_tensor")
    for n in network.PARAM_NAMES:
        assert _norm(own[n]) == pytest.approx(levels[n], rel=1e-12)


def test_value_clipping_is_the_same_globally_and_per_tensor():
    g = _grads()
    a = ls.clip_network_gradient(g, "value", 0.01, scope="global")
    b = ls.clip_network_gradient(g, "value", 0.01, scope="per_tensor")
    for n in network.PARAM_NAMES:
        np.testing.assert_array_equal(np.asarray(a[n]), np.clip(np.asarray(g[n]), -0.01, 0.01))
        np.testing.assert_array_equal(np.asarray(a[n]), np.asarray(b[n]))


def test_agc_is_unit_wise_by_rows():
    g = _grads()
    params = _jax_params(ls.init_rnn(H, seed=0, rec_scale=2.5))
    c, eps = 0.05, 1e-3
    out, fired = network.agc_unitwise(g, params, c, eps)
    assert bool(fired)
    w, gw = np.asarray(params["W_rec"]), np.asarray(g["W_rec"])
    for row in range(H):
        level = c * max(np.linalg.norm(w[row]), eps)
        gn = np.linalg.norm(gw[row])
        expected = gw[row] * (level / gn) if gn >= level else gw[row]
        np.testing.assert_allclose(np.asarray(out["W_rec"])[row], expected, rtol=1e-12)


def test_gradient_centralization_zeroes_each_matrix_rows_mean():
    out = network.gradient_centralize(_grads())
    for n in ("W_in", "W_rec"):
        np.testing.assert_allclose(np.asarray(out[n]).mean(axis=1), 0.0, atol=1e-15)
    g = _grads()
    np.testing.assert_array_equal(np.asarray(out["W_out"]), np.asarray(g["W_out"]))


def test_a_one_step_run_applies_the_per_tensor_rule_exactly():
    run = ls.train_rnn(
        T=T, hidden=H, batch=B, steps=1, lr=0.3, clip="norm", threshold=0.05, scope="per_tensor",
        rec_scale=2.5, seed=0, dtype="float64",
    )  # fmt: skip
    g = _grads(seed=0, rec_scale=2.5)
    expected = ls.clip_network_gradient(g, "norm", 0.05, scope="per_tensor")
    for n in network.PARAM_NAMES:
        np.testing.assert_allclose(
            run.params[n], run.init_params[n] - 0.3 * np.asarray(expected[n]), rtol=1e-12, atol=1e-15
        )
        assert run.tensor_norms[n][0] == pytest.approx(_norm(g[n]), rel=1e-12)


# ---------------------------------------------------------------------------
# Runs


def test_a_seeded_run_is_reproducible_and_another_seed_differs():
    a = ls.train_rnn(T=T, hidden=H, batch=B, steps=30, lr=0.1, clip="norm", threshold=1.0, seed=4)
    b = ls.train_rnn(T=T, hidden=H, batch=B, steps=30, lr=0.1, clip="norm", threshold=1.0, seed=4)
    c = ls.train_rnn(T=T, hidden=H, batch=B, steps=30, lr=0.1, clip="norm", threshold=1.0, seed=5)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.params["W_rec"], b.params["W_rec"])
    assert not np.array_equal(a.loss, c.loss)
    assert a.loss.dtype == np.float32


def test_divergence_is_reported_with_the_step_and_the_arrays_finite_up_to_it():
    run = ls.train_rnn(T=T, hidden=H, batch=B, steps=200, lr=50.0, clip="none", rec_scale=4.0, seed=0)
    assert run.diverged and run.diverged_at is not None and run.diverged_at < 200
    assert f"step {run.diverged_at}" in run.reason and "diverged" in run.reason
    assert run.steps_taken == run.diverged_at
    assert np.all(np.isfinite(run.loss)) and np.all(np.isfinite(run.grad_norm))
    assert all(np.all(np.isfinite(v)) for v in run.params.values())
    assert not run.solved
    # Norm clipping at the same settings keeps the run finite.
    clipped = ls.train_rnn(
        T=T, hidden=H, batch=B, steps=200, lr=50.0, clip="norm", threshold=0.01, rec_scale=4.0, seed=0
    )
    assert not clipped.diverged and clipped.reason == "completed all 200 steps"


def test_several_rules_trained_together_equal_each_trained_alone():
    settings = [
        ls.RuleSetting("none"),
        ls.RuleSetting("norm", 0.5),
        ls.RuleSetting("norm", 0.2, scope="per_tensor", seed=1),
        ls.RuleSetting("autoclip", 10.0),
    ]
    kw = dict(T=T, hidden=H, batch=B, steps=25, lr=0.2, rec_scale=1.5, dtype="float64")
    together = ls.train_rnn_many(settings, **kw)
    for s, run in zip(settings, together, strict=True):
        alone = ls.train_rnn(clip=s.clip, threshold=s.threshold, scope=s.scope, seed=s.seed, **kw)
        np.testing.assert_allclose(run.loss, alone.loss, rtol=1e-12)
        np.testing.assert_array_equal(run.clipped, alone.clipped)
    assert together[0].n_clipped == 0 and together[1].n_clipped > 0


@pytest.mark.parametrize("clip", ["agc", "zclip", "skip", "clip_update", "normalize", "norm_torch"])
def test_every_rule_trains_the_network(clip):
    run = ls.train_rnn(T=T, hidden=H, batch=B, steps=40, lr=0.05, clip=clip, rec_scale=1.5)
    assert run.steps_taken == 40 and np.all(np.isfinite(run.loss))
    assert len(run.clip_threshold) == 40


def test_autoclip_on_the_network_clips_to_the_percentile_of_the_norms_so_far():
    run = ls.train_rnn(
        T=T,
        hidden=H,
        batch=B,
        steps=30,
        lr=0.1,
        clip="autoclip",
        threshold=25.0,
        rec_scale=1.5,
        dtype="float64",
    )
    for k in range(30):
        assert run.clip_threshold[k] == pytest.approx(np.percentile(run.grad_norm[: k + 1], 25.0), rel=1e-12)
    assert np.array_equal(run.clipped, run.grad_norm > run.clip_threshold)


def test_heldout_loss_is_recorded_every_k_steps_and_at_the_end():
    run = ls.train_rnn(T=T, hidden=H, batch=B, steps=30, lr=0.1, clip="norm", threshold=1.0, eval_every=10)
    assert run.heldout_steps.tolist() == [0, 10, 20, 30]
    hx, hy = ls.rnn_heldout_batch("adding", T)
    final = float(network.rnn_loss(_jax_params(run.params), jnp.asarray(hx), jnp.asarray(hy)))
    assert run.heldout_loss[-1] == pytest.approx(final, rel=1e-5)
    start = float(network.rnn_loss(_jax_params(run.init_params), jnp.asarray(hx), jnp.asarray(hy)))
    assert run.heldout_loss[0] == pytest.approx(start, rel=1e-5)
    assert run.rec_radius[0] == pytest.approx(1.0, rel=1e-6)
    assert run.solved == (run.heldout_loss[-1] < ls.SOLVED_LOSS)


# ---------------------------------------------------------------------------
# Resumable training: chunks equal one call bit for bit


def _assert_runs_identical(a, b):
    for name in (
        "loss",
        "grad_norm",
        "clipped",
        "clip_threshold",
        "heldout_steps",
        "heldout_loss",
        "rec_radius",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for n in network.PARAM_NAMES:
        np.testing.assert_array_equal(a.tensor_norms[n], b.tensor_norms[n])
        np.testing.assert_array_equal(a.params[n], b.params[n])
        if a.param_history is not None:
            np.testing.assert_array_equal(a.param_history[n], b.param_history[n])
    assert (a.diverged_at, a.reason) == (b.diverged_at, b.reason)


@pytest.mark.parametrize("chunks", [[5, 13, 1, 100], [37], [1] * 10 + [50]])
def test_a_chunked_run_equals_the_one_call_run_bit_for_bit(chunks):
    settings = [ls.RuleSetting("none"), ls.RuleSetting("norm", 0.5), ls.RuleSetting("autoclip", 10.0)]
    kw = dict(T=T, hidden=H, batch=B, steps=37, lr=0.3, rec_scale=1.5, eval_every=7, record_params=True)
    whole = ls.train_rnn_many(settings, **kw)
    training = ls.start_training(settings, **kw)
    for n in chunks:
        assert not training.done
        training.advance(n)
    assert training.done and training.step == 37
    for a, b in zip(whole, training.runs(), strict=True):
        _assert_runs_identical(a, b)


def test_a_run_read_mid_training_is_the_prefix_of_the_finished_run():
    kw = dict(T=T, hidden=H, batch=B, steps=30, lr=0.2, eval_every=5)
    training = ls.start_training([ls.RuleSetting("norm", 0.5)], **kw)
    (part,) = training.advance(12).runs()
    (whole,) = training.advance(100).runs()
    assert part.steps_taken == 12 and part.reason == "12 of 30 steps so far" and not part.diverged
    np.testing.assert_array_equal(part.loss, whole.loss[:12])
    np.testing.assert_array_equal(part.heldout_loss, whole.heldout_loss[:3])  # steps 0, 5, 10
    assert whole.reason == "completed all 30 steps" and len(whole.heldout_loss) == 7


def test_a_diverged_training_is_done_before_its_last_step():
    training = ls.start_training(
        [ls.RuleSetting("none")], T=T, hidden=H, batch=B, steps=200, lr=50.0, rec_scale=4.0
    )
    while not training.done:
        training.advance(7)
    (run,) = training.runs()
    assert run.diverged and training.step < 200
    alone = ls.train_rnn(T=T, hidden=H, batch=B, steps=200, lr=50.0, rec_scale=4.0)
    assert alone.diverged_at == run.diverged_at


# ---------------------------------------------------------------------------
# The temporal order task


@given(
    T=st.integers(2, 150),
    batch=st.integers(1, 16),
    seed=st.integers(0, 2**31 - 1),
    step=st.integers(0, 10**6),
)
def test_temporal_order_batch_marks_two_symbols_in_their_windows_and_targets_their_order(
    T, batch, seed, step
):
    x, y = ls.rnn_task_batch("temporal_order", T, batch, seed, step)
    assert x.shape == (batch, T, 2) and y.shape == (batch,)
    v, m = x[..., 0], x[..., 1]
    assert set(np.unique(v)) <= {0.0, 1.0} and set(np.unique(m)) <= {0.0, 1.0}
    (a0, a1), (b0, b1) = ls.temporal_order_windows(T)
    assert 0 <= a0 < a1 <= b0 < b1 <= T
    assert np.all(m.sum(axis=1) == 2)
    assert np.all(m[:, a0:a1].sum(axis=1) == 1) and np.all(m[:, b0:b1].sum(axis=1) == 1)
    first = (v[:, a0:a1] * m[:, a0:a1]).sum(axis=1)
    second = (v[:, b0:b1] * m[:, b0:b1]).sum(axis=1)
    np.testing.assert_allclose(y, (2 * first + second) / 3, rtol=0, atol=1e-15)
    x2, _ = ls.rnn_task_batch("temporal_order", T, batch, seed, step)
    assert np.array_equal(x, x2)


def test_temporal_order_windows_follow_hochreiter_at_T_100_and_order_matters():
    assert ls.temporal_order_windows(100) == ((10, 20), (50, 60))
    x, y = ls.rnn_task_batch("temporal_order", 100, 4000, 0, 0)
    # All four classes occur, about equally often; XY (1/3) and YX (2/3) are told apart.
    classes, counts = np.unique(np.round(3 * y).astype(int), return_counts=True)
    assert classes.tolist() == [0, 1, 2, 3] and counts.min() > 800
    # Predicting the constant 1/2 scores 5/36 on the fixed held-out batch, within sampling error.
    _, hy = ls.rnn_heldout_batch("temporal_order", 100)
    assert np.mean((hy - 0.5) ** 2) == pytest.approx(5 / 36, abs=0.01)
    # The distractors are fair coins too: only the markers tell the two symbols apart.
    v, m = x[..., 0], x[..., 1]
    assert abs(v[m == 0].mean() - 0.5) < 0.01


def test_temporal_order_training_matches_the_reference_step_by_step_in_float64():
    init = ls.init_rnn(H, seed=2, rec_scale=1.2)
    run = ls.train_rnn(task="temporal_order", T=12, hidden=H, batch=B, steps=15, lr=0.3, clip="norm",
                       threshold=0.5, seed=2, rec_scale=1.2, dtype="float64", record_params=True)  # fmt: skip
    replay = ref.train(init, T=12, batch=B, seed=2, steps=15, lr=0.3, clip_mode="norm", threshold=0.5,
                       task="temporal_order")  # fmt: skip
    np.testing.assert_allclose(run.loss, replay["loss"], rtol=1e-9)
    np.testing.assert_allclose(
        run.param_history["W_rec"][-1], replay["params"][-1]["W_rec"], rtol=1e-9, atol=1e-12
    )
