"""Copyable snippets: they compile, carry the current numbers, clip in the right place, and run.

The optax snippets are executed whole; the hand-written rules the PyTorch,
Keras and TensorFlow snippets carry (plain Python and NumPy) are executed from
the snippet's own text, with the snippet's own construction and factor lines,
and compared step by step with the engine.
"""

import ast
import itertools
import math
import re
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscapes as ls
from landscapes.core.clipping import MODE_LABELS
from landscapes.lessons.snippets import helper_source
from landscapes.views.config import ExplorerConfig

CONFIGS = [
    ExplorerConfig(paths=ls.SNIPPET_MODES[:5]),
    ExplorerConfig(optimizer="momentum", lr=0.05, threshold=0.5, steps=200),
    ExplorerConfig(optimizer="adam", lr=0.001, threshold=2.5, steps=1000),
    ExplorerConfig(optimizer="adamw", lr=0.02, threshold=3.0, steps=80, weight_decay=0.1 + 0.2),
    ExplorerConfig(
        lr=1e-05,
        threshold=123.456,
        paths=("autoclip", "zclip", "agc", "normalize"),
        rule_options={
            "autoclip": {"threshold": 25.0},
            "zclip": {"threshold": 1.5, "alpha": 0.9, "warmup": 7, "max_norm": 4.25},
            "agc": {"threshold": 0.05, "eps": 0.01},
            "normalize": {"beta": 1e-3},
        },
    ),
    ExplorerConfig().with_landscape("ravine"),
]
CASES = list(itertools.product(range(len(CONFIGS)), ls.FRAMEWORKS, ls.SNIPPET_MODES))


def _code(i, framework, mode):
    return ls.code_snippet(CONFIGS[i], framework, mode).code


def test_every_registered_rule_has_take_home_code():
    assert set(ls.SNIPPET_MODES) == set(ls.clip_modes())
    assert ls.FRAMEWORKS == ("pytorch", "keras", "tensorflow", "optax")


@pytest.mark.parametrize(("i", "framework", "mode"), CASES)
def test_every_snippet_compiles_and_carries_the_numbers(i, framework, mode):
    config = CONFIGS[i]
    snippet = ls.code_snippet(config, framework, mode)
    compile(snippet.code, f"<{framework}-{mode}>", "exec")
    tree = ast.parse(snippet.code)
    assert snippet.framework == framework and snippet.mode == mode and snippet.language == "python"
    assert ls.FRAMEWORK_LABELS[framework] in snippet.title and MODE_LABELS[mode] in snippet.title
    # The numbers appear as Python literals that read back exactly.
    literals = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float)  # not True (== 1.0)
    }
    assert config.lr in literals
    if mode == "none":
        assert config.threshold not in literals
    else:
        assert config.threshold_of(mode) in literals
        for value in config.clip_options_of(mode).values():
            assert value in literals
    if config.optimizer == "momentum":
        assert ls.lessons.snippets.DEFAULT_MOMENTUM in literals
    if config.optimizer == "adamw":
        assert config.weight_decay in literals  # the view's decay, not the default
    assert f"{config.steps} steps" in snippet.code
    assert config.landscape in snippet.code
    # What the snippet says is hand-written is pasted in verbatim, and only then.
    if snippet.helpers:
        assert helper_source(*snippet.helpers) in snippet.code
        assert any("has no" in note for note in snippet.notes)  # says that it is hand-written
    else:
        assert "def " not in snippet.code


@pytest.mark.parametrize(("i", "mode"), itertools.product(range(len(CONFIGS)), ["value", "norm"]))
def test_pytorch_clips_after_backward_and_before_step(i, mode):
    code = _code(i, "pytorch", mode)
    call = {"value": "clip_grad_value_(", "norm": "clip_grad_norm_("}[mode]
    assert code.index("loss.backward()") < code.index(call) < code.index("optimizer.step()")
    assert code.index("optimizer.zero_grad()") < code.index("loss.backward()")
    other = {"value": "clip_grad_norm_(", "norm": "clip_grad_value_("}[mode]
    assert other not in code
    if mode == "norm":
        assert "1e-6" in code  # the epsilon difference is pointed out


@pytest.mark.parametrize(
    "mode", ["norm_torch", "per_variable", "normalize", "agc", "autoclip", "zclip", "skip"]
)
@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_hand_written_rules_act_between_the_gradient_and_the_step(framework, mode):
    code = _code(4 if mode in ("agc", "autoclip", "zclip", "normalize") else 0, framework, mode)
    grads = {"pytorch": "loss.backward()", "tensorflow": "tape.gradient("}[framework]
    step = {"pytorch": "optimizer.step()", "tensorflow": "optimizer.apply_gradients("}[framework]
    acts = {"skip": "skip_step(norm", "per_variable": "clip_"}.get(mode, "factor = ")
    if mode == "norm_torch" and framework == "pytorch":
        acts = "clip_grad_norm_("
    assert code.index(grads) < code.rindex(acts) < code.rindex(step)


@pytest.mark.parametrize("framework", ["pytorch", "keras", "tensorflow"])
def test_clip_update_rescales_the_step_the_optimizer_took(framework):
    code = _code(1, framework, "clip_update")
    step = {"pytorch": "optimizer.step()", "keras": "super().apply(", "tensorflow": "apply_gradients("}[
        framework
    ]
    assert code.index("before = ") < code.index(step) < code.index("factor = clip_factor(norm, 0.05 * 0.5)")


def test_tensorflow_uses_a_gradient_tape_and_its_own_clips():
    assert "tf.clip_by_global_norm(grads, 1.0)" in _code(0, "tensorflow", "norm")
    assert "tf.clip_by_value(g, -1.0, 1.0)" in _code(0, "tensorflow", "value")
    assert "tf.clip_by_norm(g, 1.0)" in _code(0, "tensorflow", "per_variable")
    for mode in ls.SNIPPET_MODES:
        code = _code(0, "tensorflow", mode)
        assert "with tf.GradientTape() as tape:" in code
        assert code.index("tape.gradient(") < code.index("optimizer.apply_gradients(")


def test_pytorch_optimizers():
    assert "torch.optim.SGD(model.parameters(), lr=0.5)" in _code(0, "pytorch", "norm")
    assert "momentum=0.9" in _code(1, "pytorch", "norm")
    assert "torch.optim.Adam(model.parameters(), lr=0.001)" in _code(2, "pytorch", "norm")
    assert "torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.30000000000000004)" in _code(
        3, "pytorch", "norm"
    )


def _call_keywords(code, name):
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(name):
            return {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
    raise AssertionError(f"no call to {name}")


@pytest.mark.parametrize("i", range(len(CONFIGS)))
def test_keras_uses_the_global_rule(i):
    config = CONFIGS[i]
    name = {"sgd": "SGD", "momentum": "SGD", "adam": "Adam", "adamw": "AdamW"}[config.optimizer]
    norm = _call_keywords(_code(i, "keras", "norm"), f"optimizers.{name}")
    assert norm["global_clipnorm"] == config.threshold and "clipnorm" not in norm
    assert norm["learning_rate"] == config.lr
    value = _call_keywords(_code(i, "keras", "value"), f"optimizers.{name}")
    assert value["clipvalue"] == config.threshold and "global_clipnorm" not in value
    per_variable = _call_keywords(_code(i, "keras", "per_variable"), f"optimizers.{name}")
    assert per_variable["clipnorm"] == config.threshold and "global_clipnorm" not in per_variable
    none = _call_keywords(_code(i, "keras", "none"), f"optimizers.{name}")
    assert not {"clipvalue", "clipnorm", "global_clipnorm"} & set(none)
    if config.optimizer == "momentum":
        assert norm["momentum"] == 0.9
    if config.optimizer in ("adam", "adamw"):
        assert norm["epsilon"] == 1e-8
    if config.optimizer == "adamw":
        assert norm["weight_decay"] == config.weight_decay  # the view's, not Keras's default of 0.004
    assert "each variable" in _code(i, "keras", "norm")  # why not clipnorm
    # A rule Keras lacks: a subclass whose apply() acts, compiled eagerly (the rule keeps Python state).
    zclip = _code(i, "keras", "zclip")
    assert f"class Clipped{name}(keras.optimizers.{name}):" in zclip and "run_eagerly=True" in zclip
    assert _call_keywords(zclip, f"Clipped{name}")["learning_rate"] == config.lr


@pytest.mark.parametrize(("i", "mode"), itertools.product(range(len(CONFIGS)), ["value", "norm"]))
def test_optax_chains_the_clip_before_the_optimizer(i, mode):
    code = _code(i, "optax", mode)
    clip = {"value": "optax.clip(", "norm": "optax.clip_by_global_norm("}[mode]
    optimizer = {"adam": "optax.adam(", "adamw": "optax.adamw("}.get(CONFIGS[i].optimizer, "optax.sgd(")
    assert code.index("optax.chain(") < code.index(clip) < code.index(optimizer)


# --- executing the code ------------------------------------------------------------


def _engine_run(config, mode):
    return ls.simulate(
        config.landscape,
        config.start,
        config.lr,
        config.steps,
        mode,
        config.threshold_of(mode),
        config.optimizer,
        clip_options=config.clip_options_of(mode),
        optimizer_options=config.optimizer_options,
        **config.params,
    )


def _loss(config):
    scape = config.scape
    p = scape.param_vector(scape.resolve_params(**config.params))
    # p is a constant of the jitted function, so the RNN's loop length is
    # concrete and reverse mode works; jit keeps the test fast.
    return jax.jit(lambda theta: scape.loss(theta, p))


def _run_optax_snippet(config, mode):
    """Executes the optax snippet, as printed, on the config's own landscape."""
    loss = _loss(config)
    start = jnp.array(config.start, dtype=jnp.float64)
    if mode == "per_variable":  # the snippet asks for one leaf per variable: params = (w, b)
        params, loss_fn = (start[0], start[1]), jax.jit(lambda wb: loss(jnp.stack(wb)))
    else:
        params, loss_fn = start, loss
    namespace = {"params": params, "loss_fn": loss_fn}
    exec(compile(ls.code_snippet(config, "optax", mode).code, "<snippet>", "exec"), namespace)
    return np.asarray(jnp.stack(namespace["params"]) if mode == "per_variable" else namespace["params"])


#: For each rule a short run on which it acts (checked), so the comparison means something.
RULE_CASES = {
    "none": ExplorerConfig(steps=12),
    "value": ExplorerConfig(steps=12, threshold=0.05),
    "norm": ExplorerConfig(steps=12),
    "norm_torch": ExplorerConfig(steps=12),
    "per_variable": ExplorerConfig(steps=12, threshold=0.05),
    "normalize": ExplorerConfig(steps=12, threshold=0.2, paths=("normalize",)),
    "agc": ExplorerConfig(steps=12, paths=("agc",), rule_options={"agc": {"threshold": 0.02}}),
    "autoclip": ExplorerConfig(steps=12, paths=("autoclip",), rule_options={"autoclip": {"threshold": 25.0}}),
    "zclip": ExplorerConfig(
        start=(4.6, -2.2), steps=20, paths=("zclip",), rule_options={"zclip": {"warmup": 3, "alpha": 0.9}}
    ),
    "clip_update": ExplorerConfig(steps=12, optimizer="momentum", lr=0.2, threshold=0.3),
    "skip": ExplorerConfig(steps=12),
}


@pytest.mark.parametrize("mode", ls.SNIPPET_MODES)
def test_the_optax_snippet_reproduces_the_app_for_every_rule(mode):
    config = RULE_CASES[mode]
    run = _engine_run(config, mode)
    assert run.steps_taken == config.steps
    if mode != "none":
        assert run.n_clipped > 0  # the rule acted on this run
    final = _run_optax_snippet(config, mode)
    # Reverse mode (the snippet) vs forward mode (the engine): equal up to rounding.
    np.testing.assert_allclose(final, run.params[-1], rtol=1e-9)


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        (replace(ExplorerConfig().with_landscape("ravine"), steps=40, lr=0.05, optimizer="momentum"), "norm"),
        (replace(ExplorerConfig().with_landscape("staircase"), steps=40, lr=0.05, optimizer="adam"), "value"),
        (
            replace(
                ExplorerConfig().with_landscape("staircase"),
                steps=40,
                lr=0.05,
                optimizer="adamw",
                weight_decay=0.3,
            ),
            "norm",
        ),
        (
            replace(ExplorerConfig().with_landscape("ravine"), steps=30, lr=0.05, optimizer="adam"),
            "clip_update",
        ),
        (replace(ExplorerConfig(), steps=30, optimizer="adamw", lr=0.02, weight_decay=0.25), "skip"),
    ],
    ids=["ravine-momentum", "staircase-adam", "staircase-adamw", "ravine-adam-after", "adamw-skip"],
)
def test_the_optax_snippet_reproduces_the_app_with_other_optimizers(config, mode):
    final = _run_optax_snippet(config, mode)
    np.testing.assert_allclose(final, _engine_run(config, mode).params[-1], rtol=1e-9)


def _line(code, prefix):
    """The expression after ``prefix`` on the snippet's line that starts with it (indentation ignored)."""
    for line in code.splitlines():
        if line.strip().startswith(prefix):
            return line.strip()[len(prefix) :].rstrip(":")
    raise AssertionError(f"no line starting with {prefix!r}")


def _run_hand_written(config, mode):
    """Plain descent (or heavy ball) with the rule the PyTorch snippet carries, from its own text.

    The helpers, the ``rule = ...`` construction and the ``factor = ...`` (or
    ``if skip_step(...)``) line are taken from the snippet and executed; the
    Keras and TensorFlow snippets carry the same helpers and lines (checked).
    """
    every = [ls.code_snippet(config, f, mode) for f in ("pytorch", "tensorflow", "keras")]
    snippets = [s for s in every if s.helpers]  # the ones that carry the rule by hand
    torch_code = snippets[0].code  # PyTorch's where it has them, else TensorFlow's
    namespace = {"math": math, "np": np}
    exec(helper_source(*snippets[0].helpers), namespace)
    for snippet in snippets:
        assert helper_source(*snippet.helpers) in snippet.code
    if "\nrule = " in torch_code:
        exec("rule = " + _line(torch_code, "rule = "), namespace)
        assert all("\nrule = " + _line(torch_code, "rule = ") in s.code for s in snippets)
    factor = _line(torch_code, "factor = ") if mode not in ("skip", "per_variable") else None
    if factor is not None:
        assert all(f"factor = {factor}" in s.code for s in snippets)
    loss = _loss(config)
    grad_fn = jax.jit(jax.grad(loss))
    theta = np.array(config.start, dtype=float)
    velocity = np.zeros(2)
    fired = 0
    for _ in range(config.steps):
        g = np.asarray(grad_fn(jnp.asarray(theta)))
        norm = float(np.sqrt(g[0] * g[0] + g[1] * g[1]))
        env = {**namespace, "norm": norm, "param_norm": float(np.sqrt(theta @ theta))}
        if mode == "skip":
            condition = _line(torch_code, "if skip_step(")
            if eval("skip_step(" + condition, env):
                fired += 1
                continue
        elif mode == "per_variable":
            c = config.threshold_of(mode)
            assert f"clip_factor(float(torch.linalg.vector_norm(p.grad)), {c!r})" in torch_code
            factors = np.array([namespace["clip_factor"](abs(x), c) for x in g])  # each variable alone
            fired += bool(np.any(factors != 1.0))
            g = g * factors
        elif mode != "clip_update":
            f = eval(factor, env)
            fired += f != 1.0
            g = g * f
        if config.optimizer == "momentum":
            velocity = ls.lessons.snippets.DEFAULT_MOMENTUM * velocity + g
            step = -config.lr * velocity
        else:
            step = -config.lr * g
        if mode == "clip_update":
            env["norm"] = float(np.sqrt(step @ step))
            f = eval(factor, env)
            fired += f != 1.0
            step = step * f
        theta = theta + step
    return theta, fired


@pytest.mark.parametrize(
    "mode", ["norm_torch", "per_variable", "normalize", "agc", "autoclip", "zclip", "clip_update", "skip"]
)
def test_the_hand_written_rules_reproduce_the_app(mode):
    config = RULE_CASES[mode]
    run = _engine_run(config, mode)
    theta, fired = _run_hand_written(config, mode)
    assert fired > 0 and run.n_clipped > 0
    # Rounding apart (the snippets' norms are sqrt(g0^2 + g1^2) as the engine's), the same path.
    np.testing.assert_allclose(theta, run.params[-1], rtol=1e-8)


def test_zclip_with_a_cap_and_autoclip_at_the_maximum():
    """The options reach the hand-written rules: ZClip's max_norm, AutoClip at p = 100 (the running max)."""
    capped = ExplorerConfig(
        steps=15, paths=("zclip",), rule_options={"zclip": {"warmup": 4, "max_norm": 0.02}}
    )
    run = _engine_run(capped, "zclip")
    theta, fired = _run_hand_written(capped, "zclip")
    assert fired > 0
    np.testing.assert_allclose(theta, run.params[-1], rtol=1e-8)
    np.testing.assert_allclose(_run_optax_snippet(capped, "zclip"), run.params[-1], rtol=1e-9)
    namespace = {"math": math, "np": np}
    exec(helper_source("clip_factor", "AutoClip"), namespace)
    rule = namespace["AutoClip"](percentile=100.0)
    norms = [3.0, 1.0, 5.0, 2.0]
    assert [rule.factor(n) for n in norms] == [1.0, 1.0, 1.0, 1.0]
    assert rule.threshold == 5.0


def test_explicit_momentum_wins():
    code = ls.code_snippet(CONFIGS[1], "pytorch", "norm", momentum=0.75).code
    assert "momentum=0.75" in code and "momentum=0.9" not in code


def test_notes_explain_the_differences():
    def notes(framework, mode):
        return " ".join(ls.code_snippet(ExplorerConfig(), framework, mode).notes)

    assert "1e-6" in notes("pytorch", "norm")
    assert "clipnorm" in notes("keras", "norm") and "global_clipnorm" in notes("keras", "norm")
    assert "equals c exactly" in notes("optax", "norm")
    assert "every gradient NaN" in notes("tensorflow", "norm")
    assert "value clipping" in notes("keras", "per_variable")
    assert "unit-wise" in notes("optax", "agc") and "unit-wise" in notes("pytorch", "agc")
    assert "apply_if_finite" in notes("optax", "skip")
    assert "run_eagerly" in notes("keras", "autoclip")
    assert "PyTorch has no AutoClip" in notes("pytorch", "autoclip")
    assert ls.code_snippet(ExplorerConfig(), "optax", "none").notes == ()


def test_code_snippets_follows_the_shown_paths():
    every = ls.code_snippets(ExplorerConfig())
    assert set(every) == set(itertools.product(ls.FRAMEWORKS, ("none", "value", "norm")))
    only_norm = ls.code_snippets(replace(ExplorerConfig(), paths=("norm",)))
    assert set(only_norm) == {(f, "norm") for f in ls.FRAMEWORKS}
    five = ("none", "norm", "agc", "autoclip", "skip")
    assert set(ls.code_snippets(replace(ExplorerConfig(), paths=five))) == set(
        itertools.product(ls.FRAMEWORKS, five)
    )
    assert set(ls.code_snippets(replace(ExplorerConfig(), paths=()))) == set(every)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        ls.code_snippet(ExplorerConfig(), "jax")
    with pytest.raises(ValueError, match="unknown clipping mode 'both'"):
        ls.code_snippet(ExplorerConfig(), "pytorch", "both")
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        ls.code_snippet(replace(ExplorerConfig(), optimizer="rmsprop"), "pytorch")


def test_numbers_in_the_header_are_exact():
    config = ExplorerConfig(paths=("zclip",), rule_options={"zclip": {"alpha": 0.1 + 0.2, "warmup": 7}})
    code = ls.code_snippet(config, "pytorch", "zclip").code
    assert re.search(r"alpha = 0\.30000000000000004, warmup = 7\)", code)
    assert "ZClip(z=2.5, alpha=0.30000000000000004, warmup=7)" in code
