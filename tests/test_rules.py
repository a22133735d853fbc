"""The rules beyond value and norm: registry, formulas, options, references, optax, properties."""

import math

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import landscapes as ls
from landscapes import reference
from landscapes.core import engine
from landscapes.core.clipping import BUILTIN_RULES, CLIP_SPECS
from landscapes.core.stateful_rules import percentile_sorted, skip_large
from landscapes.reference import rules as ref

NEW_STATELESS = ("norm_torch", "per_variable", "normalize")
STATEFUL = ("agc", "autoclip", "zclip", "clip_update", "skip")
ALL_NEW = NEW_STATELESS + STATEFUL

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
vectors = st.lists(finite, min_size=2, max_size=2).map(np.array)
# Components far from the subnormal range (where g c / c is not one rounding of g).
normal_vectors = st.lists(finite.filter(lambda x: x == 0 or abs(x) > 1e-290), min_size=2, max_size=2).map(
    np.array
)
thresholds = st.floats(1e-3, 1e3)


def bptt(w, b):
    return reference.pascanu_loss_and_grad(w, b, 50)


# ---------------------------------------------------------------------------
# The registry


def test_every_new_rule_is_registered_once_with_a_look_of_its_own():
    assert set(ALL_NEW) <= set(CLIP_SPECS)
    specs = list(CLIP_SPECS[name] for name in (*BUILTIN_RULES, *ALL_NEW))
    assert len({s.label for s in specs}) == len(specs)
    assert len({s.color.upper() for s in specs}) == len(specs)
    assert len({(s.dash, s.marker) for s in specs}) == len(specs)
    for spec in specs:
        assert spec.description.endswith(".") and spec.source
    assert {name for name in ALL_NEW if CLIP_SPECS[name].stateful} == set(STATEFUL)
    assert "value clipping" in CLIP_SPECS["per_variable"].description


def test_existing_calls_are_unchanged():
    a = ls.simulate("pascanu", (4.7, -2.2), 0.5, 30, "norm")
    b = ls.simulate("pascanu", (4.7, -2.2), 0.5, 30, "norm", 1.0)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.threshold == 1.0 and a.clip_options == {} and a.noise is None
    np.testing.assert_array_equal(a.clip_threshold, np.full(30, 1.0))
    assert ls.simulate("pascanu", None, 0.5, 3).clip_threshold.tolist() == [math.inf] * 3


# ---------------------------------------------------------------------------
# Stateless rules: their formulas


@given(vectors, thresholds)
def test_torch_rule_is_torchs_formula(g, c):
    ours = np.asarray(ls.clip_gradient(g, "norm_torch", c))
    np.testing.assert_allclose(ours, reference.clip_norm_torch(g, c), rtol=1e-15, atol=1e-300)
    assert np.linalg.norm(ours) <= c * (1 + 1e-15)


def test_torch_rule_shrinks_a_gradient_of_length_exactly_c():
    g = np.array([3.0, 4.0])
    assert np.array_equal(ls.clip_gradient(g, "norm", 5.0), g)
    out = np.asarray(ls.clip_gradient(g, "norm_torch", 5.0))
    assert np.linalg.norm(out) < 5.0
    np.testing.assert_array_equal(out, g * (5.0 / (5.0 + 1e-6)))


@given(normal_vectors, thresholds)
def test_per_variable_is_keras_clipnorm_and_value_clipping_on_scalars(g, c):
    ours = np.asarray(ls.clip_gradient(g, "per_variable", c))
    np.testing.assert_allclose(ours, ref.per_variable(g, c), rtol=2.3e-16, atol=0)
    value = np.asarray(ls.clip_gradient(g, "value", c))
    # The same as value clipping up to the last digit (c * g / |g| against c).
    np.testing.assert_allclose(ours, value, rtol=2.3e-16, atol=0)
    small = np.abs(g) <= c
    np.testing.assert_array_equal(ours[small], g[small])  # kept exactly at or below c


@given(vectors, thresholds, st.sampled_from([1e-6, 1e-3, 1.0]))
def test_normalize_is_its_formula(g, c, beta):
    ours = np.asarray(ls.clip_gradient(g, "normalize", c, {"beta": beta}))
    np.testing.assert_allclose(ours, ref.normalize(g, c, beta), rtol=1e-15, atol=1e-300)


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 1.0), st.floats(1e-2, 10.0))
def test_a_normalized_step_has_length_lr_times_c(w, b, lr, c):
    run = ls.simulate("pascanu", (w, b), lr, 25, "normalize", c)
    beta = run.clip_options["beta"]
    assert (beta == 1e-6 and run.n_clipped == run.steps_taken) or run.grad_norm.min() == 0
    # ||g|| / (||g|| + beta) * lr * c: within 1e-9 of lr c once ||g|| >> beta.
    want = lr * c * run.grad_norm / (run.grad_norm + beta)
    np.testing.assert_allclose(run.step_length, want, rtol=1e-14)
    big = run.grad_norm >= 10 * beta / 1e-9
    assert np.all(np.abs(run.step_length[big] - lr * c) <= 1e-9 * lr * c)


@given(vectors, thresholds)
def test_a_normalized_gradient_has_length_c_when_much_longer_than_beta(g, c):
    assume(np.linalg.norm(g) >= 1e4)  # beta / ||g|| <= 1e-10: well inside 1e-9
    out = np.asarray(ls.clip_gradient(g, "normalize", c))
    assert abs(math.hypot(*out) - c) <= 1e-9 * c


# ---------------------------------------------------------------------------
# Options


@pytest.mark.parametrize(
    ("rule", "options", "message"),
    [
        ("normalize", {"gamma": 1.0}, r"'normalize' has no option 'gamma' \(its options: beta\)"),
        ("norm", {"beta": 1.0}, r"'norm' has no option 'beta' \(its options: none\)"),
        ("normalize", {"beta": 0.0}, r"option 'beta' of 'normalize' must lie in \(0, inf\], got 0.0"),
        ("normalize", {"beta": "small"}, "must be a number, got 'small'"),
        ("normalize", {"beta": True}, "must be a number, got True"),
        ("normalize", {"beta": None}, "must be a number, got None"),
        ("zclip", {"alpha": 1.0}, r"'alpha' of 'zclip' must lie in \(0, 1\)"),
        ("zclip", {"warmup": 2.5}, "'warmup' of 'zclip' must be a whole number, got 2.5"),
        ("zclip", {"warmup": 0}, r"'warmup' of 'zclip' must lie in \[1, 1000\]"),
        ("zclip", {"max_norm": -1}, "'max_norm' of 'zclip' must lie in"),
        ("zclip", {"max_norm": math.nan}, "'max_norm' of 'zclip' must be finite"),
        ("agc", {"eps": 0}, "'eps' of 'agc' must lie in"),
        ("normalize", [("beta", 1.0)], "clip_options must be a mapping"),
    ],
)
def test_bad_options_are_refused_by_name(rule, options, message):
    with pytest.raises(ValueError, match=message):
        ls.simulate("pascanu", None, 0.1, 3, rule, clip_options=options)
    with pytest.raises(ValueError, match=message):
        ls.sweep_starts("pascanu", 0.1, 3, rule, resolution=2, clip_options=options)


@pytest.mark.parametrize(
    ("rule", "threshold", "message"),
    [
        ("autoclip", 101, r"threshold of 'autoclip' \(the percentile p\) must be at most 100, got 101"),
        ("zclip", 0.0, "threshold must be finite and positive"),
    ],
)
def test_bad_thresholds_are_refused_by_name(rule, threshold, message):
    with pytest.raises(ValueError, match=message):
        ls.simulate("pascanu", None, 0.1, 3, rule, threshold)


def test_defaults_fill_in_and_none_means_no_cap():
    run = ls.simulate("pascanu", None, 0.1, 3, "zclip")
    assert run.threshold == 2.5
    assert run.clip_options == {"alpha": 0.97, "warmup": 25.0, "max_norm": math.inf}
    assert ls.simulate("pascanu", None, 0.1, 3, "autoclip").threshold == 10.0
    assert ls.simulate("pascanu", None, 0.1, 3, "agc").threshold == 0.01


def test_option_values_are_traced_not_compiled():
    key = ("pascanu", "sgd", "zclip", "float64")
    ls.simulate("pascanu", (4.7, -2.2), 0.1, 30, "zclip", 2.0, clip_options={"warmup": 5})
    count = engine.TRACE_COUNTS[key]
    ends = set()
    for z, options in [(1.0, {"warmup": 3, "alpha": 0.5}), (3.0, {"max_norm": 0.5}), (0.5, {"warmup": 10})]:
        run = ls.simulate("pascanu", (4.7, -2.2), 0.1, 30, "zclip", z, clip_options=options)
        ends.add(tuple(run.params[-1]))
    assert engine.TRACE_COUNTS[key] == count  # no retrace for new values (the counter itself is tested)
    assert len(ends) == 3  # and the options do change the run
    key = ("pascanu", "sgd", "normalize", "float64")
    a = ls.simulate("pascanu", None, 0.1, 5, "normalize", clip_options={"beta": 1e-6})
    count = engine.TRACE_COUNTS[key]
    b = ls.simulate("pascanu", None, 0.1, 5, "normalize", clip_options={"beta": 1.0})
    assert engine.TRACE_COUNTS[key] == count and not np.array_equal(a.params, b.params)


# ---------------------------------------------------------------------------
# Each rule against its NumPy reference, step by step, on short runs near the wall


REFERENCE_CASES = [
    ("norm_torch", 1.0, {}),
    ("per_variable", 1.0, {}),
    ("normalize", 0.5, {}),
    ("normalize", 0.5, {"beta": 0.01}),
    ("agc", 0.01, {}),
    ("agc", 0.05, {"eps": 0.5}),
    ("autoclip", 10.0, {}),
    ("autoclip", 50.0, {}),
    ("zclip", 2.5, {"warmup": 3}),
    ("zclip", 1.0, {"warmup": 4, "alpha": 0.8, "max_norm": 2.0}),
    ("clip_update", 1.0, {}),
    ("skip", 1.0, {}),
]


@pytest.mark.parametrize(("rule", "c", "options"), REFERENCE_CASES)
@pytest.mark.parametrize(("start", "lr"), [((4.7, -2.2), 0.5), ((5.0, -2.6), 0.1)])
def test_each_rule_matches_its_numpy_reference(rule, c, options, start, lr):
    run = ls.simulate("pascanu", start, lr, 25, rule, c, clip_options=options)
    want = ref.descend(bptt, start, lr, 25, rule, c, **options)
    assert run.steps_taken == len(want["update"]) == 25
    np.testing.assert_array_equal(run.clipped, want["clipped"])
    np.testing.assert_allclose(run.params, want["params"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.clip_threshold, want["threshold"], rtol=1e-9)
    assert run.n_clipped > 0  # every case exercises its rule


@pytest.mark.parametrize("rule", ["clip_update", "skip"])
def test_rules_around_the_optimizer_match_the_reference_with_momentum(rule):
    run = ls.simulate("pascanu", (4.7, -2.2), 0.1, 25, rule, 0.5, "momentum", momentum=0.8)
    want = ref.descend(bptt, (4.7, -2.2), 0.1, 25, rule, 0.5, optimizer="momentum", momentum=0.8)
    np.testing.assert_array_equal(run.clipped, want["clipped"])
    np.testing.assert_allclose(run.params, want["params"], rtol=1e-9, atol=1e-12)


def test_zclip_warms_up_then_draws_its_band():
    run = ls.simulate("pascanu", (5.0, -2.6), 0.1, 40, "zclip", 2.5)
    assert np.all(np.isinf(run.clip_threshold[:25]))  # warm-up: no cap given
    norms = run.grad_norm[:25]
    mu, var = norms.mean(), norms.var()
    assert run.clip_threshold[25] == pytest.approx(mu + 2.5 * (math.sqrt(var) + 1e-6), rel=1e-12)
    assert not run.clipped[:25].any()


# XLA on CPU flushes subnormal results to zero: that is the runtime, not the formula.
@given(
    st.lists(st.floats(0, 1e3, allow_subnormal=False), min_size=1, max_size=40),
    st.floats(0, 100).filter(lambda p: p == 0 or p > 1e-290),
)
def test_the_percentile_is_numpys_to_the_bit(values, p):
    buffer = np.full(1000, np.inf)
    buffer[: len(values)] = np.sort(values)
    got = float(percentile_sorted(jnp.asarray(buffer), jnp.int32(len(values)), jnp.asarray(p)))
    want = np.percentile(np.array(values), p)
    # normal inputs can still interpolate to a subnormal result, which XLA flushes to zero
    assert got == (0.0 if 0 < abs(want) < np.finfo(np.float64).tiny else want)


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 1.0), st.floats(1.0, 100.0))
def test_autoclips_threshold_is_the_percentile_of_the_norms_so_far(w, b, lr, p):
    run = ls.simulate("pascanu", (w, b), lr, 30, "autoclip", p)
    for i in range(run.steps_taken):
        # The norms the engine compared (XLA's) and the reported ones (NumPy's) may differ in the last bit.
        assert run.clip_threshold[i] == pytest.approx(np.percentile(run.grad_norm[: i + 1], p), rel=1e-15)


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 1.0))
def test_autoclip_at_100_is_clipping_at_the_running_max(w, b, lr):
    run = ls.simulate("pascanu", (w, b), lr, 30, "autoclip", 100.0)
    np.testing.assert_allclose(run.clip_threshold, np.maximum.accumulate(run.grad_norm), rtol=1e-15)
    # The running max includes this step's norm, so nothing is ever above it.
    plain = ls.simulate("pascanu", (w, b), lr, 30, "none")
    np.testing.assert_array_equal(run.params, plain.params)
    assert run.n_clipped == 0


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 1.0), st.floats(1e-2, 10.0))
def test_skip_never_moves_on_a_step_with_a_long_gradient(w, b, lr, c):
    run = ls.simulate("pascanu", (w, b), lr, 30, "skip", c)
    long = run.grad_norm > c
    np.testing.assert_array_equal(run.clipped, long)
    assert np.all(run.update[long] == 0)
    np.testing.assert_array_equal(run.params[1:][long], run.params[:-1][long])
    assert np.all(run.step_length[~long] > 0) or not (~long).any()


def test_skip_alone_parks_a_run_at_the_cliff_edge():
    run = ls.simulate("pascanu", (4.7, -2.2), 0.5, 50, "skip", 1.0)
    first = int(np.argmax(run.clipped))
    assert run.clipped[first:].all() and first > 0  # once skipped, skipped for good
    assert np.all(run.params[first:] == run.params[first])


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 1.0), st.floats(1e-3, 0.1))
def test_agc_bounds_each_gradient_by_c_times_the_parameter_norm(w, b, lr, c):
    run = ls.simulate("pascanu", (w, b), lr, 25, "agc", c)
    clipped_norm = run.step_length / lr
    level = c * np.maximum(np.linalg.norm(run.params[:-1], axis=1), 1e-3)
    np.testing.assert_allclose(run.clip_threshold, level, rtol=1e-15)
    assert np.all(clipped_norm <= level * (1 + 1e-12))


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 1.0), st.floats(1e-2, 10.0))
def test_torch_rule_bounds_every_plain_step_by_lr_times_c(w, b, lr, c):
    run = ls.simulate("pascanu", (w, b), lr, 25, "norm_torch", c)
    assert np.all(run.step_length <= lr * c * (1 + 1e-12))


# ---------------------------------------------------------------------------
# Against optax where it has the rule


def _optax_run(tx, start, steps, landscape="pascanu", **params):
    """Descent with the optax transformation ``tx`` (updates include -lr), the engine's gradient."""
    scape = ls.get_landscape(landscape)
    vg = ls.value_and_grad_fn(scape)
    p = scape.param_vector(scape.resolve_params(**params), np.float64)
    theta = jnp.asarray(start, jnp.float64)
    state = tx.init(theta)
    points = [np.asarray(theta)]
    for _ in range(steps):
        _, g = vg(theta, p)
        update, state = tx.update(g, state, theta)
        theta = theta + update
        points.append(np.asarray(theta))
    return np.array(points)


def test_agc_is_optax_adaptive_grad_clip():
    run = ls.simulate("pascanu", (4.7, -2.2), 0.5, 20, "agc", 0.02)
    tx = optax.chain(optax.adaptive_grad_clip(0.02, eps=1e-3), optax.sgd(0.5))
    np.testing.assert_allclose(run.params, _optax_run(tx, (4.7, -2.2), 20), rtol=1e-13)
    assert run.n_clipped > 10


@given(vectors, vectors, st.floats(1e-3, 10.0), st.sampled_from([1e-3, 0.1]))
def test_agcs_formula_is_optaxs_on_one_step(g, theta, c, eps):
    from landscapes.core.stateful_rules import adaptive_grad_clip

    assume(np.linalg.norm(g) < 1e150 and np.linalg.norm(theta) < 1e150)
    ours = adaptive_grad_clip(c, eps)
    got, state = ours.update(jnp.asarray(g), ours.init(jnp.asarray(theta)), jnp.asarray(theta))
    want, _ = optax.adaptive_grad_clip(c, eps).update(jnp.asarray(g), optax.EmptyState(), jnp.asarray(theta))
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-300)
    assert float(state.threshold) == pytest.approx(c * max(np.linalg.norm(theta), eps), rel=1e-15)


@pytest.mark.parametrize(
    ("optimizer", "scaling"),
    [("momentum", optax.trace(decay=0.9)), ("adam", optax.scale_by_adam())],
)
def test_clip_update_is_the_chained_after_scaling_form(optimizer, scaling):
    lr = 0.1 if optimizer == "momentum" else 0.05
    run = ls.simulate("pascanu", (4.7, -2.2), lr, 25, "clip_update", 0.5, optimizer)
    tx = optax.chain(scaling, optax.clip_by_global_norm(0.5), optax.scale(-lr))
    # optax divides then multiplies (and clips at ||d|| == c too): the last digits only.
    np.testing.assert_allclose(run.params, _optax_run(tx, (4.7, -2.2), 25), rtol=1e-12)
    assert run.n_clipped > 0


def test_clip_update_is_norm_clipping_for_plain_descent():
    a = ls.simulate("pascanu", (4.7, -2.2), 0.5, 60, "clip_update", 1.0)
    b = ls.simulate("pascanu", (4.7, -2.2), 0.5, 60, "norm", 1.0)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.clipped, b.clipped)


@pytest.mark.parametrize("optimizer", list(ls.OPTIMIZERS))
def test_each_optimizer_is_its_direction_then_minus_lr(optimizer):
    from landscapes.core.optimizers import OPTIMIZER_DIRECTIONS

    whole = ls.OPTIMIZERS[optimizer](0.05, 0.9)
    split = optax.chain(OPTIMIZER_DIRECTIONS[optimizer](0.9), optax.scale(-0.05))
    theta = jnp.array([4.7, -2.2])
    s1, s2 = whole.init(theta), split.init(theta)
    for g in ([1.0, -2.0], [30.0, 4.0], [-0.1, 0.2]):
        u1, s1 = whole.update(jnp.array(g), s1, theta)
        u2, s2 = split.update(jnp.array(g), s2, theta)
        np.testing.assert_array_equal(u1, u2)


def test_skip_treats_non_finite_gradients_as_optax_apply_if_finite_does():
    inner = optax.sgd(0.1, momentum=0.9)
    ours = skip_large(inner, 1e300)
    theirs = optax.apply_if_finite(inner, max_consecutive_errors=10**6)
    theta = jnp.array([1.0, 2.0])
    s_ours, s_theirs = ours.init(theta), theirs.init(theta)
    for g in ([0.5, -1.0], [math.nan, 1.0], [math.inf, 0.0], [0.25, 0.25]):
        g = jnp.array(g)
        u_ours, s_ours = ours.update(g, s_ours, theta)
        u_theirs, s_theirs = theirs.update(g, s_theirs, theta)
        np.testing.assert_array_equal(u_ours, u_theirs)
        np.testing.assert_array_equal(s_ours.inner[0].trace, s_theirs.inner_state[0].trace)
    assert int(s_ours.n_skipped) == int(s_theirs.total_notfinite) == 2


# ---------------------------------------------------------------------------
# Non-finite gradients: every rule reports divergence at that step


@pytest.fixture(scope="module")
def kink():
    """A landscape with a finite loss and a NaN gradient at u = 0 (sqrt |u|)."""
    from landscapes.core import registry

    base = ls.get_landscape("ravine")
    scape = ls.Landscape(
        name="test_kink",
        title="kink",
        formula="",
        description="",
        source="",
        param_names=("u", "v"),
        axis_labels=("u", "v"),
        window=((-1.0, 1.0), (-1.0, 1.0)),
        default_start=(0.0, 0.5),
        loss=lambda theta, p: jnp.sqrt(jnp.abs(theta[0])) + theta[1] ** 2,
        params=(),
        walls=base.walls,
    )
    ls.register(scape)
    yield scape.name
    del registry._REGISTRY[scape.name]


@pytest.mark.parametrize("rule", list(BUILTIN_RULES) + list(ALL_NEW))
def test_a_non_finite_gradient_is_divergence_at_that_step_for_every_rule(kink, rule):
    run = ls.simulate(kink, (0.0, 0.5), 0.1, 10, rule)
    assert run.diverged_at == 0 and "gradient there is not finite" in run.reason
    assert np.isfinite(run.params).all() and run.steps_taken == 0


def test_what_each_rule_makes_of_an_infinite_component():
    g = np.array([math.inf, 1.0])
    assert np.isfinite(ls.clip_gradient(g, "value", 1.0)).all()  # clamps inf to c
    for rule in ("norm", "norm_torch", "normalize", "per_variable"):
        assert not np.isfinite(ls.clip_gradient(g, rule, 1.0)).all(), rule  # inf / inf: NaN, as in torch


# ---------------------------------------------------------------------------
# AdamW


def test_adamw_is_optax_adamw_and_decay_zero_is_adam():
    run = ls.simulate("ravine", None, 0.05, 60, "norm", 1.0, "adamw", optimizer_options={"weight_decay": 0.1})
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(0.05, weight_decay=0.1))
    np.testing.assert_allclose(
        run.params, _optax_run(tx, ls.get_landscape("ravine").default_start, 60, "ravine"), rtol=1e-12
    )
    zero = ls.simulate(
        "ravine", None, 0.05, 60, "none", 1.0, "adamw", optimizer_options={"weight_decay": 0.0}
    )
    adam = ls.simulate("ravine", None, 0.05, 60, "none", 1.0, "adam")
    np.testing.assert_array_equal(zero.params, adam.params)
    assert run.optimizer_options == {"weight_decay": 0.1}


def test_weight_decay_moves_the_minimum_and_is_traced():
    key = ("ravine", "adamw", "none", "float64")
    ends = []
    for wd in (0.0, 0.01, 0.3):
        run = ls.simulate(
            "ravine", None, 0.02, 1000, "none", None, "adamw", optimizer_options={"weight_decay": wd}
        )
        ends.append(np.linalg.norm(run.params[-1]))
    assert engine.TRACE_COUNTS[key] == 1
    assert ends[0] > ends[1] > ends[2]  # the decay pulls the end point towards 0


def test_bad_optimizer_options_are_refused():
    with pytest.raises(
        ValueError, match=r"optimizer 'adam' has no option 'weight_decay' \(its options: none\)"
    ):
        ls.simulate("ravine", None, 0.1, 3, optimizer="adam", optimizer_options={"weight_decay": 0.1})
    with pytest.raises(ValueError, match="'weight_decay' of 'adamw' must be finite and at least 0"):
        ls.simulate("ravine", None, 0.1, 3, optimizer="adamw", optimizer_options={"weight_decay": -1})


# ---------------------------------------------------------------------------
# Noise


@pytest.mark.parametrize("rule", ["none", "norm", "normalize", "autoclip", "zclip", "skip"])
def test_zero_noise_is_the_noiseless_run_bit_for_bit(rule):
    plain = ls.simulate("pascanu", (4.7, -2.2), 0.3, 60, rule)
    quiet = ls.simulate(
        "pascanu", (4.7, -2.2), 0.3, 60, rule, noise={"sigma": 0.0, "spike_prob": 0.0, "seed": 7}
    )
    for key in ("params", "loss", "grad", "update", "clipped", "clip_threshold"):
        np.testing.assert_array_equal(getattr(plain, key), getattr(quiet, key))


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    noise = {"sigma": 0.05, "spike_prob": 0.1, "spike_scale": 20.0, "seed": 3}
    a = ls.simulate("pascanu", (5.0, -2.6), 0.1, 100, "norm", 1.0, noise=noise)
    b = ls.simulate("pascanu", (5.0, -2.6), 0.1, 100, "norm", 1.0, noise=noise)
    c = ls.simulate("pascanu", (5.0, -2.6), 0.1, 100, "norm", 1.0, noise=noise | {"seed": 4})
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    # A shorter run is the start of the longer one (the noise is folded by step).
    short = ls.simulate("pascanu", (5.0, -2.6), 0.1, 40, "norm", 1.0, noise=noise)
    np.testing.assert_array_equal(short.params, a.params[:41])


def test_noise_has_the_scale_and_the_spikes_it_is_given():
    scape = ls.get_landscape("ravine")
    vg = ls.value_and_grad_fn(scape)
    p = scape.param_vector(scape.resolve_params(), np.float64)
    noise = {"sigma": 0.2, "spike_prob": 0.25, "spike_scale": 3.0, "seed": 11}
    run = ls.simulate("ravine", None, 1e-4, 1000, "none", None, noise=noise)
    true = np.array([np.asarray(vg(jnp.asarray(theta), p)[1]) for theta in run.params[:-1]])
    scale = np.where(run.spiked, 3.0, 1.0)[:, None]
    residual = (run.grad / scale - true) / 0.2
    assert abs(residual.mean()) < 0.1 and abs(residual.std() - 1.0) < 0.1
    assert abs(run.spiked.mean() - 0.25) < 0.05


def test_a_spike_multiplies_the_gradient():
    plain = ls.simulate("pascanu", (4.7, -2.2), 0.1, 1, "none")
    spiked = ls.simulate(
        "pascanu", (4.7, -2.2), 0.1, 1, "none", noise={"spike_prob": 1.0, "spike_scale": 4.0}
    )
    assert spiked.spiked.tolist() == [True]
    np.testing.assert_array_equal(spiked.grad[0], 4.0 * plain.grad[0])


@pytest.mark.parametrize(
    ("noise", "message"),
    [
        ({"sigma": -1}, "noise sigma must be at least 0"),
        ({"spike_prob": 2}, r"noise spike_prob must lie in \[0, 1\]"),
        ({"seed": 1.5}, "noise seed must be a whole number"),
        ({"mu": 1}, "noise has no setting 'mu'"),
        ({"sigma": math.inf}, "noise sigma must be finite"),
        (0.1, "noise must be None or a mapping"),
    ],
)
def test_bad_noise_is_refused(noise, message):
    with pytest.raises(ValueError, match=message):
        ls.simulate("pascanu", None, 0.1, 3, noise=noise)


def test_noise_values_never_recompile():
    key = ("pascanu", "sgd", "norm", "float64", "noise")
    ls.simulate("pascanu", None, 0.1, 5, "norm", noise={"sigma": 0.1})
    count = engine.TRACE_COUNTS[key]
    for noise in ({"sigma": 0.0, "seed": 9}, {"spike_prob": 0.5, "spike_scale": 100.0, "seed": 2**32 - 1}):
        ls.simulate("pascanu", None, 0.1, 5, "norm", noise=noise)
    assert engine.TRACE_COUNTS[key] == count  # no retrace for new values (the counter itself is tested)


# ---------------------------------------------------------------------------
# One compile per (landscape, optimizer, rule, dtype); simulate_modes and simulate_many


@pytest.mark.parametrize("rule", STATEFUL)
def test_a_stateful_rule_compiles_once_for_every_value(rule):
    key = ("staircase", "momentum", rule, "float64")
    spec = CLIP_SPECS[rule]
    ls.simulate("staircase", None, 0.1, 10, rule, None, "momentum")
    count = engine.TRACE_COUNTS[key]
    for lr, factor, steps in [(0.5, 0.5, 200), (1e-3, 2.0, 1000), (3.0, 1.0, 0)]:
        c = min(spec.default_threshold * factor, spec.threshold_max)
        ls.simulate("staircase", (1.0, 1.0), lr, steps, rule, c, "momentum", momentum=0.5)
    assert engine.TRACE_COUNTS[key] == count  # no retrace for new values (the counter itself is tested)


def test_simulate_modes_mixes_stateless_and_stateful_rules():
    modes = ("none", "norm", "normalize", "zclip", "autoclip")
    thresholds = {"norm": 0.5, "zclip": 2.0}
    options = {"zclip": {"warmup": 5}, "normalize": {"beta": 0.01}}
    runs = ls.simulate_modes("pascanu", (4.7, -2.2), 0.3, 60, thresholds, "sgd", modes, clip_options=options)
    assert list(runs) == list(modes)
    for mode, run in runs.items():
        c = thresholds.get(mode)
        single = ls.simulate("pascanu", (4.7, -2.2), 0.3, 60, mode, c, clip_options=options.get(mode))
        assert run.threshold == single.threshold and run.clip_options == single.clip_options
        np.testing.assert_array_equal(run.clipped, single.clipped)
        np.testing.assert_allclose(run.params, single.params, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(run.clip_threshold, single.clip_threshold, rtol=1e-9)
    with pytest.raises(ValueError, match="clip_options names 'skip', which is not among the modes"):
        ls.simulate_modes("pascanu", None, 0.3, 5, modes=("none",), clip_options={"skip": {}})


def test_simulate_many_runs_a_stateful_rule_for_each_value():
    runs = ls.simulate_many("pascanu", (4.7, -2.2), 0.3, [5.0, 50.0, 90.0], 40, "autoclip")
    for c, run in zip([5.0, 50.0, 90.0], runs, strict=True):
        single = ls.simulate("pascanu", (4.7, -2.2), 0.3, 40, "autoclip", c)
        np.testing.assert_allclose(run.params, single.params, rtol=1e-9, atol=1e-12)
        assert run.threshold == c


def test_stateful_rules_run_in_float32():
    for rule in STATEFUL:
        run = ls.simulate("pascanu", (4.7, -2.2), 0.3, 30, rule, dtype="float32")
        assert run.params.dtype == np.float32 and run.clip_threshold.dtype == np.float32
        assert np.isfinite(run.params).all()


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown clipping mode 'zclipp'"):
        ls.simulate("pascanu", None, 0.1, 3, "zclipp")


@given(
    st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 0.5), st.floats(0.5, 4.0), st.integers(1, 10)
)
def test_zclip_clips_exactly_the_norms_above_its_band_and_below_it(w, b, lr, z, warmup):
    run = ls.simulate("pascanu", (w, b), lr, 25, "zclip", z, clip_options={"warmup": warmup})
    after = np.arange(run.steps_taken) >= warmup
    band = run.clip_threshold
    assert np.all(np.isinf(band[~after])) and not run.clipped[~after].any()
    above = after & (run.grad_norm > band * (1 + 1e-12))
    below = after & (run.grad_norm < band * (1 - 1e-12))
    assert run.clipped[above].all() and not run.clipped[below].any()
    # A clipped norm lands below the band: mu + z^2 sigma / z_t < mu + z sigma.
    assert np.all(run.step_length[above] / lr <= band[above] * (1 + 1e-12))


@given(st.floats(4.3, 6.0), st.floats(-3.5, -1.5), st.floats(1e-3, 0.5), st.floats(1e-2, 10.0))
def test_clipped_momentum_bounds_every_step_by_lr_times_c(w, b, lr, c):
    run = ls.simulate("pascanu", (w, b), lr, 25, "clip_update", c, "momentum")
    assert np.all(run.step_length <= lr * c * (1 + 1e-12))


def test_simulate_modes_and_many_take_the_noise_too():
    noise = {"sigma": 0.1, "spike_prob": 0.3, "seed": 2}
    runs = ls.simulate_modes("pascanu", (4.7, -2.2), 0.2, 40, 1.0, modes=("norm", "skip"), noise=noise)
    many = ls.simulate_many("pascanu", (4.7, -2.2), [0.2], 1.0, 40, "norm", noise=noise)
    for mode, run in runs.items():
        single = ls.simulate("pascanu", (4.7, -2.2), 0.2, 40, mode, 1.0, noise=noise)
        np.testing.assert_allclose(run.params, single.params, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(run.spiked, single.spiked)
        assert run.noise == single.noise
    np.testing.assert_allclose(many[0].params, runs["norm"].params, rtol=1e-9, atol=1e-12)
