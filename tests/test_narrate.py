"""The narration is generated from the run's numbers."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import landscapes as ls
from landscapes.lessons.narrate import decay_parts, narrate, turn_angle, weight_decay_notes
from landscapes.views.config import ExplorerConfig
from landscapes.views.explorer import run_modes


def test_catapult_story_quotes_the_runs():
    result = run_modes(ExplorerConfig())
    text = "\n".join(narrate(result))
    plain = result.runs["none"]
    assert "Step 3 is the decisive moment" in text
    assert f"|g| = {plain.grad_norm[3]:.3g}" in text
    assert f"moved the parameters {plain.step_length[3]:.3g}" in text
    assert "thrown" not in text or "(39, 53.4)" in text
    assert "ended at (39, 53.4) with loss 0.09" in text and "gradient there is zero" in text
    assert "turning it by 13.3°" in text


def test_changes_when_the_numbers_change():
    a = "\n".join(narrate(run_modes(ExplorerConfig(threshold=2.0))))
    b = "\n".join(narrate(run_modes(ExplorerConfig(threshold=0.5))))
    assert a != b and "c = 2" in a and "c = 0.5" in b


def test_gentle_start_says_clipping_never_fired():
    text = "\n".join(narrate(run_modes(ExplorerConfig(start=(6.0, -1.5)))))
    assert "clipping never fired" in text


def test_zero_steps():
    assert narrate(run_modes(ExplorerConfig(steps=0)))[0].startswith("No steps were taken")


def test_divergence_is_told():
    config = ExplorerConfig(
        landscape="deep_product", params={"depth": 30}, start=(1.5, 1.5), lr=10.0, steps=1000
    )
    result = run_modes(config)
    text = "\n".join(narrate(result))
    diverged = [m for m, r in result.runs.items() if r.diverged_at is not None]
    for mode in diverged:
        assert f"diverged at step {result.runs[mode].diverged_at}" in text


@pytest.mark.parametrize(
    ("g", "c", "angle"), [((3.0, 0.0), 1.0, 0.0), ((2.0, 1.0), 1.0, 18.43), ((10.0, -1.0), 1.0, 39.29)]
)
def test_turn_angle(g, c, angle):
    g = np.array(g)
    assert turn_angle(g, np.clip(g, -c, c)) == pytest.approx(angle, abs=0.01)


# --- AdamW: the decay moves the minimum, and clipping leaves it alone -------------------------


ADAMW_VIEW = ExplorerConfig(optimizer="adamw", lr=0.05, steps=200, weight_decay=0.02)


def _pt(p):
    return f"({p[0]:.3g}, {p[1]:.3g})"


def _engine(config, mode, optimizer=None, **options):
    return ls.simulate(
        config.landscape,
        config.start,
        config.lr,
        config.steps,
        mode,
        config.threshold,
        optimizer or config.optimizer,
        optimizer_options=options or None,
        **config.params,
    )


def _replay(tx, run):
    """The updates optax's ``tx`` makes from the run's own raw gradients at the run's own points."""
    state = tx.init(jnp.asarray(run.params[0]))
    out = []
    for k in range(run.steps_taken):
        update, state = tx.update(jnp.asarray(run.grad[k]), state, jnp.asarray(run.params[k]))
        out.append(np.asarray(update))
    return np.array(out)


def test_an_adamw_step_is_adams_step_for_the_clipped_gradient_plus_the_whole_decay():
    config, wd, c = ADAMW_VIEW, ADAMW_VIEW.weight_decay, ADAMW_VIEW.threshold
    run = _engine(config, "norm", weight_decay=wd)
    clipped = np.flatnonzero(run.clipped)
    assert clipped.size > 0  # the claim is about clipped steps: the run has some
    # optax's own AdamW behind optax's own clip reproduces the run ...
    np.testing.assert_allclose(
        _replay(optax.chain(optax.clip_by_global_norm(c), optax.adamw(config.lr, weight_decay=wd)), run),
        run.update,
        rtol=1e-12,
        atol=1e-15,
    )
    # ... and every step, clipped or not, is -lr·(Adam's direction of the clipped gradients) - lr·wd·θ_k
    adam = _replay(optax.chain(optax.clip_by_global_norm(c), optax.scale_by_adam()), run)
    decay = -config.lr * wd * run.params[:-1]
    np.testing.assert_allclose(run.update, -config.lr * adam + decay, rtol=1e-12, atol=1e-15)
    gradient_part, decay_part = decay_parts(run, wd)
    np.testing.assert_allclose(gradient_part, -config.lr * adam, rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(decay_part, decay)


def test_the_adamw_notes_quote_the_runs_with_and_without_decay():
    config, wd = ADAMW_VIEW, ADAMW_VIEW.weight_decay
    result = run_modes(config)
    text = "\n".join(weight_decay_notes(result))
    assert "**The decay moves where the descent settles.**" in text
    assert f"lr·wd = {config.lr * wd:.3g}" in text and f"weight decay {wd:.3g}" in text
    for mode in config.paths:
        with_decay = _engine(config, mode, weight_decay=wd)
        adam = _engine(config, mode, optimizer="adam")  # no decay: AdamW at wd = 0 is exactly Adam
        np.testing.assert_array_equal(_engine(config, mode, weight_decay=0.0).params, adam.params)
        gap = np.linalg.norm(with_decay.params[-1] - adam.params[-1])
        assert (
            f"ends at {_pt(with_decay.params[-1])} instead of {_pt(adam.params[-1])}, {gap:.3g} away" in text
        )
        assert gap > 0.5  # on this view the decay moves every end point visibly
    # The clipped step quoted: norm clipping's steepest clipped gradient, split with optax.
    run = _engine(config, "norm", weight_decay=wd)
    clipped = np.flatnonzero(run.clipped)
    k = int(clipped[np.argmax(run.grad_norm[clipped])])
    adam_step = (
        -config.lr * _replay(optax.chain(optax.clip_by_global_norm(1.0), optax.scale_by_adam()), run)[k]
    )
    pull = -config.lr * wd * run.params[k]
    vec = lambda v: f"({v[0]:.3g}, {v[1]:.3g})"  # noqa: E731
    assert f"clipping fired on {int(run.clipped.sum())} of {run.steps_taken} steps" in text
    assert f"At step {k} it cut the gradient (|g| = {run.grad_norm[k]:.3g}) to length 1;" in text
    assert (
        f"the step taken, {vec(run.update[k])}, is Adam's step for the clipped gradients, {vec(adam_step)}"
        in text
    )
    assert f"−lr·wd·θ = {vec(pull)}, of length lr·wd·|θ| = {np.linalg.norm(pull):.3g}" in text


def test_the_adamw_notes_say_nothing_for_other_optimizers_and_say_so_at_zero_decay():
    assert weight_decay_notes(run_modes(ExplorerConfig(optimizer="adam", steps=20))) == []
    zero = ExplorerConfig(optimizer="adamw", steps=30, weight_decay=0.0)
    notes = weight_decay_notes(run_modes(zero))
    assert len(notes) == 1 and "AdamW takes exactly Adam's steps" in notes[0]
    np.testing.assert_array_equal(
        _engine(zero, "norm", weight_decay=0.0).params, _engine(zero, "norm", optimizer="adam").params
    )


def test_the_exceptions_clip_update_clips_the_decay_and_skip_drops_it():
    config = ExplorerConfig(
        optimizer="adamw",
        lr=0.05,
        steps=200,
        weight_decay=0.02,
        paths=("none", "norm", "clip_update", "skip"),
    )
    result = run_modes(config)
    text = "\n".join(weight_decay_notes(result))
    wd, c, lr = config.weight_decay, config.threshold, config.lr
    # clip_update: the whole direction, decay included, is clipped to c (optax's chained form)
    after = result.runs["clip_update"]
    tx = optax.chain(
        optax.scale_by_adam(), optax.add_decayed_weights(wd), optax.clip_by_global_norm(c), optax.scale(-lr)
    )
    assert after.n_clipped > 0
    np.testing.assert_allclose(_replay(tx, after), after.update, rtol=1e-12, atol=1e-15)
    assert "clipping after the optimizer clips AdamW's whole direction, the decay included" in text
    # skip: a skipped step moves nothing, the decay included
    skip = result.runs["skip"]
    assert skip.n_clipped > 0 and np.all(skip.update[skip.clipped] == 0)
    assert f"skipping drops the whole step, the decay included ({skip.n_clipped} steps here)" in text
