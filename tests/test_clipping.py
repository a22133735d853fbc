"""Clipping rules: invariants, references (optax, torch's documented rule), edge cases."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes import reference

# XLA on CPU flushes subnormal floats to zero, so they are left out: that is
# the runtime's arithmetic, not the clipping rule's.
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
vectors = st.lists(finite, min_size=2, max_size=2).map(np.array)
thresholds = st.floats(1e-3, 1e3)


@given(vectors, thresholds)
def test_norm_clip_never_exceeds_threshold(g, c):
    out = np.asarray(ls.clip_gradient(g, "norm", c))
    assert np.linalg.norm(out) <= c * (1 + 1e-12)


@given(vectors, thresholds)
def test_norm_clip_keeps_direction(g, c):
    out = np.asarray(ls.clip_gradient(g, "norm", c))
    # Parallel and same orientation: zero cross product, positive dot product.
    assert abs(g[0] * out[1] - g[1] * out[0]) <= 1e-9 * np.linalg.norm(g) * np.linalg.norm(out) + 1e-300
    assert g @ out >= 0


@given(vectors, thresholds)
def test_identity_below_threshold(g, c):
    for mode, size in (("norm", np.linalg.norm(g)), ("value", np.max(np.abs(g)))):
        out = np.asarray(ls.clip_gradient(g, mode, c))
        if size <= c:
            np.testing.assert_array_equal(out, g)
        else:
            assert not np.array_equal(out, g)


@given(vectors, thresholds)
def test_value_clip_bounds_each_component(g, c):
    out = np.asarray(ls.clip_gradient(g, "value", c))
    assert np.all(np.abs(out) <= c)
    np.testing.assert_array_equal(out, reference.clip_value(g, c))


@given(vectors, thresholds)
def test_matches_optax(g, c):
    value, _ = optax.clip(c).update(jnp.asarray(g), None)
    norm, _ = optax.clip_by_global_norm(c).update(jnp.asarray(g), optax.EmptyState())
    np.testing.assert_array_equal(ls.clip_gradient(g, "value", c), value)
    # optax divides before multiplying, so results under ~1e-300 may round differently.
    np.testing.assert_allclose(ls.clip_gradient(g, "norm", c), norm, rtol=1e-14, atol=1e-300)


@given(vectors, thresholds)
def test_torch_rule_differs_only_by_its_epsilon(g, c):
    # torch scales by c / (||g|| + 1e-6) always; ours only when ||g|| > c, with no epsilon.
    ours = np.asarray(ls.clip_gradient(g, "norm", c))
    torch_like = reference.clip_norm_torch(g, c)
    np.testing.assert_allclose(ours, torch_like, rtol=2e-6 / c + 1e-12, atol=1e-300)


def test_edge_at_exactly_the_threshold():
    g = np.array([3.0, 4.0])  # norm exactly 5
    np.testing.assert_array_equal(ls.clip_gradient(g, "norm", 5.0), g)
    assert np.linalg.norm(reference.clip_norm_torch(g, 5.0)) < 5.0  # torch still shrinks it


def test_zero_gradient_stays_zero():
    for mode in ("none", "value", "norm"):
        np.testing.assert_array_equal(ls.clip_gradient(np.zeros(2), mode, 1.0), np.zeros(2))


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, -math.inf, "abc", None])
def test_bad_threshold_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="threshold") as info:
        ls.clip_gradient(np.ones(2), "norm", bad)
    assert repr(bad) in str(info.value)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match=r"unknown clipping mode 'sign'.*none, value, norm"):
        ls.clip_gradient(np.ones(2), "sign", 1.0)


def test_jittable_with_traced_threshold():
    clip = jax.jit(ls.clip_gradient, static_argnames="mode")
    np.testing.assert_allclose(clip(jnp.array([3.0, 4.0]), "norm", 1.0), [0.6, 0.8])
    np.testing.assert_allclose(clip(jnp.array([3.0, 4.0]), "norm", 2.0), [1.2, 1.6])


def test_a_new_rule_is_one_function():
    @ls.clip_rule("sign")
    def clip_sign(g, c):  # signSGD, scaled by c
        return c * jnp.sign(g)

    try:
        run = ls.simulate("ravine", None, lr=0.1, steps=3, clip="sign", threshold=0.5)
        np.testing.assert_allclose(np.abs(run.update), 0.05)
    finally:
        del ls.CLIP_RULES["sign"]


@given(
    st.floats(4.3, 6.0),
    st.floats(-3.5, -1.5),
    st.floats(1e-3, 10.0),
    st.floats(1e-2, 1e2),
)
def test_every_norm_clipped_plain_step_is_at_most_lr_times_c(w, b, lr, c):
    run = ls.simulate("pascanu", (w, b), lr=lr, steps=40, clip="norm", threshold=c)
    assert np.all(run.step_length <= lr * c * (1 + 1e-12))
    assert not np.isnan(run.params).any()
