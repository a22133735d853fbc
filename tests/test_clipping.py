"""Clipping rules: invariants, references (optax, torch's documented rule), edge cases."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import landscapes as ls
from landscapes import reference
from landscapes.core.clipping import CLIP_SPECS, vector_norms

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
        CLIP_SPECS.pop("sign")


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


# ---------------------------------------------------------------------------
# Norms beyond the square's range: the norm is computed scaled by a power of
# two, so huge gradients clip to length c (not to a zero step) and tiny ones
# still clip below a tiny threshold.


def test_a_huge_gradient_clips_to_its_direction_times_c():
    g = np.array([3e200, 4e200])  # g0**2 overflows: the unscaled norm would be inf
    with np.errstate(over="ignore"):
        assert not np.isfinite(g[0] ** 2)
    out = np.asarray(ls.clip_gradient(g, "norm", 1.0))
    np.testing.assert_allclose(out, g / math.hypot(*g), rtol=1e-15)
    np.testing.assert_allclose(out, [0.6, 0.8], rtol=1e-15)


def test_a_tiny_gradient_still_clips_below_a_tiny_threshold():
    g = np.array([3e-170, 4e-170])  # g0**2 underflows to 0: the unscaled norm would be 0
    with np.errstate(under="ignore"):
        assert g[0] ** 2 == 0.0
    out = np.asarray(ls.clip_gradient(g, "norm", 1e-170))
    assert math.hypot(*out) == pytest.approx(1e-170, rel=1e-15)
    np.testing.assert_allclose(out, g * (1e-170 / math.hypot(*g)), rtol=1e-15)


@pytest.mark.parametrize("exponent", [-600, -300, 0, 300, 700])
def test_the_threshold_test_is_exact_at_every_scale(exponent):
    # (3, 4) * 2^k has length exactly 5 * 2^k: at c equal to it nothing
    # changes; one ulp below it clips to length c.
    k = 2.0**exponent
    g = np.array([3.0, 4.0]) * k
    c = 5.0 * k
    np.testing.assert_array_equal(ls.clip_gradient(g, "norm", c), g)
    below = np.nextafter(c, 0.0)
    out = np.asarray(ls.clip_gradient(g, "norm", below))
    assert not np.array_equal(out, g)
    assert math.hypot(*out) == pytest.approx(below, rel=2e-16)


# Components far from the subnormal range, so that XLA's flush-to-zero of a
# subnormal result (runtime arithmetic, not the rule) cannot come into it.
normal_vectors = st.lists(finite.filter(lambda x: x == 0 or abs(x) > 1e-290), min_size=2, max_size=2).map(
    np.array
)


@given(normal_vectors, thresholds)
def test_ordinary_norms_are_the_plain_formula_bit_for_bit(g, c):
    # The scaling is by 1 in the ordinary range (largest component between
    # about 1e-150 and 1e150): every existing run is unchanged.
    assume(np.all(g == 0) or np.max(np.abs(g)) > 1e-150)
    norm = np.sqrt(g[0] * g[0] + g[1] * g[1])
    want = g * (c / norm) if norm > c else g
    np.testing.assert_array_equal(ls.clip_gradient(g, "norm", c), want)
    assert vector_norms(g[None, :])[0] == norm


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1.0, 1e160, 1e300])
def test_vector_norms_never_overflow_or_underflow(scale):
    v = np.array([[3.0, 4.0], [-1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]) * scale
    want = [math.hypot(*row) for row in v]
    np.testing.assert_allclose(vector_norms(v), want, rtol=1e-15)
    assert np.all(np.isfinite(vector_norms(v)))


def _linear_landscape(name: str, slope: float) -> ls.Landscape:
    """A plane with gradient slope * (3, 4): the simplest run with a huge or tiny gradient."""
    base = ls.get_landscape("ravine")
    return ls.Landscape(
        name=name,
        title=name,
        formula="",
        description="",
        source="",
        param_names=("u", "v"),
        axis_labels=("u", "v"),
        window=((-1.0, 1.0), (-1.0, 1.0)),
        default_start=(0.0, 0.0),
        loss=lambda theta, p: slope * (3.0 * theta[0] + 4.0 * theta[1]),
        params=(),
        walls=base.walls,
    )


@pytest.fixture(scope="module", params=[(1e200, 1.0), (1e-170, 1e-171)], ids=["huge", "tiny"])
def plane(request):
    from landscapes.core import registry
    slope, c = request.param
    name = f"test_plane_{request.param_index}"
    ls.register(_linear_landscape(name, slope))
    yield name, slope, c
    del registry._REGISTRY[name]


def test_the_engine_clips_and_reports_huge_and_tiny_gradients(plane):
    name, slope, c = plane
    run = ls.simulate(name, (0.1, -0.2), lr=0.1, steps=5, clip="norm", threshold=c)
    assert run.diverged_at is None and run.n_clipped == 5
    # The pre-clip norm is reported finite and right (5 * slope), not inf or 0.
    np.testing.assert_allclose(run.grad_norm, 5.0 * slope, rtol=1e-15)
    # Every step is lr * c long, along -(3, 4) / 5.
    np.testing.assert_allclose(run.step_length, 0.1 * c, rtol=1e-15)
    np.testing.assert_allclose(run.update, np.tile([-0.06 * c, -0.08 * c], (5, 1)), rtol=1e-14)


def test_a_sweep_clips_huge_and_tiny_gradients_bit_for_bit_like_simulate(plane):
    name, _slope, c = plane
    sweep = ls.sweep_starts(name, 0.1, 5, "norm", c, resolution=(3, 2))
    assert (sweep.n_clipped == 5).all() and not sweep.diverged.any()
    np.testing.assert_allclose(sweep.longest_step, 0.1 * c, rtol=1e-15)
    for j in range(2):
        for i in range(3):
            run = ls.simulate(name, (sweep.x[i], sweep.y[j]), 0.1, 5, "norm", c)
            assert (sweep.final_x[j, i], sweep.final_y[j, i]) == tuple(run.params[-1])
            assert sweep.longest_step[j, i] == run.longest_step


def test_these_tests_run_under_strict_dtype_promotion():
    """tests/conftest.py turns on strict promotion here: an implicit float/int mix raises."""
    import jax
    import jax.numpy as jnp

    assert jax.config.jax_numpy_dtype_promotion == "strict"
    with pytest.raises(jax.dtypes.TypePromotionError):
        jnp.arange(3) * 1.5
