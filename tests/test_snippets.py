"""Copyable snippets: they parse, carry the current numbers, clip in the right place, and (optax) run."""

import ast
import itertools
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscapes as ls
from landscapes.views.config import ExplorerConfig

CONFIGS = [
    ExplorerConfig(),
    ExplorerConfig(optimizer="momentum", lr=0.05, threshold=0.5, steps=200),
    ExplorerConfig(optimizer="adam", lr=0.001, threshold=2.5, steps=1000),
    ExplorerConfig(lr=1e-05, threshold=123.456),
    ExplorerConfig().with_landscape("ravine"),
]
CASES = list(itertools.product(range(len(CONFIGS)), ls.FRAMEWORKS, ls.SNIPPET_MODES))


def _code(i, framework, mode):
    return ls.code_snippet(CONFIGS[i], framework, mode).code


@pytest.mark.parametrize(("i", "framework", "mode"), CASES)
def test_every_snippet_parses_and_carries_the_numbers(i, framework, mode):
    config = CONFIGS[i]
    snippet = ls.code_snippet(config, framework, mode)
    tree = ast.parse(snippet.code)
    assert snippet.framework == framework and snippet.mode == mode and snippet.language == "python"
    assert ls.FRAMEWORK_LABELS[framework] in snippet.title
    # The numbers appear as Python literals that read back exactly.
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert config.lr in literals
    if mode == "none":
        assert config.threshold not in literals
    else:
        assert config.threshold in literals
    if config.optimizer == "momentum":
        assert ls.lessons.snippets.DEFAULT_MOMENTUM in literals
    assert f"{config.steps} steps" in snippet.code
    assert config.landscape in snippet.code


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


def test_pytorch_optimizers():
    assert "torch.optim.SGD(model.parameters(), lr=0.5)" in _code(0, "pytorch", "norm")
    assert "momentum=0.9" in _code(1, "pytorch", "norm")
    assert "torch.optim.Adam(model.parameters(), lr=0.001)" in _code(2, "pytorch", "norm")


def _call_keywords(code, name):
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(name):
            return {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
    raise AssertionError(f"no call to {name}")


@pytest.mark.parametrize("i", range(len(CONFIGS)))
def test_keras_uses_the_global_rule(i):
    config = CONFIGS[i]
    name = {"sgd": "SGD", "momentum": "SGD", "adam": "Adam"}[config.optimizer]
    norm = _call_keywords(_code(i, "keras", "norm"), f"optimizers.{name}")
    assert norm["global_clipnorm"] == config.threshold and "clipnorm" not in norm
    assert norm["learning_rate"] == config.lr
    value = _call_keywords(_code(i, "keras", "value"), f"optimizers.{name}")
    assert value["clipvalue"] == config.threshold and "global_clipnorm" not in value
    none = _call_keywords(_code(i, "keras", "none"), f"optimizers.{name}")
    assert not {"clipvalue", "clipnorm", "global_clipnorm"} & set(none)
    if config.optimizer == "momentum":
        assert norm["momentum"] == 0.9
    if config.optimizer == "adam":
        assert norm["epsilon"] == 1e-8
    assert "each variable" in _code(i, "keras", "norm")  # why not clipnorm


@pytest.mark.parametrize(("i", "mode"), itertools.product(range(len(CONFIGS)), ["value", "norm"]))
def test_optax_chains_the_clip_before_the_optimizer(i, mode):
    code = _code(i, "optax", mode)
    clip = {"value": "optax.clip(", "norm": "optax.clip_by_global_norm("}[mode]
    optimizer = "optax.adam(" if CONFIGS[i].optimizer == "adam" else "optax.sgd("
    assert code.index("optax.chain(") < code.index(clip) < code.index(optimizer)


def _run_optax_snippet(config, mode):
    """Executes the optax snippet on the config's own landscape."""
    scape = config.scape
    p = scape.param_vector(scape.resolve_params(**config.params))
    namespace = {
        "params": jnp.array(config.start, dtype=jnp.float64),
        # p is a constant of the jitted function, so the RNN's loop length is
        # concrete and reverse mode works; jit keeps the test fast.
        "loss_fn": jax.jit(lambda theta: scape.loss(theta, p)),
    }
    exec(compile(ls.code_snippet(config, "optax", mode).code, "<snippet>", "exec"), namespace)
    return np.asarray(namespace["params"])


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        (ExplorerConfig(steps=12), "norm"),
        (ExplorerConfig(steps=12), "none"),
        (ExplorerConfig(steps=12, threshold=0.05), "value"),
        (replace(ExplorerConfig().with_landscape("ravine"), steps=40, lr=0.05, optimizer="momentum"), "norm"),
        (replace(ExplorerConfig().with_landscape("staircase"), steps=40, lr=0.05, optimizer="adam"), "value"),
    ],
    ids=["pascanu-norm", "pascanu-none", "pascanu-value", "ravine-momentum", "staircase-adam"],
)
def test_the_optax_snippet_reproduces_the_app(config, mode):
    final = _run_optax_snippet(config, mode)
    run = ls.simulate(
        config.landscape,
        config.start,
        config.lr,
        config.steps,
        mode,
        config.threshold,
        config.optimizer,
        **config.params,
    )
    assert run.steps_taken == config.steps
    # Reverse mode (the snippet) vs forward mode (the engine): equal up to rounding.
    np.testing.assert_allclose(final, run.params[-1], rtol=1e-9)


def test_explicit_momentum_wins():
    code = ls.code_snippet(CONFIGS[1], "pytorch", "norm", momentum=0.75).code
    assert "momentum=0.75" in code and "momentum=0.9" not in code


def test_notes_explain_the_differences():
    torch_norm = ls.code_snippet(ExplorerConfig(), "pytorch", "norm")
    assert any("1e-6" in n for n in torch_norm.notes)
    keras_norm = ls.code_snippet(ExplorerConfig(), "keras", "norm")
    assert any("clipnorm" in n and "global_clipnorm" in n for n in keras_norm.notes)
    optax_norm = ls.code_snippet(ExplorerConfig(), "optax", "norm")
    assert any("equals c exactly" in n for n in optax_norm.notes)
    assert ls.code_snippet(ExplorerConfig(), "optax", "none").notes == ()


def test_code_snippets_follows_the_shown_paths():
    every = ls.code_snippets(ExplorerConfig())
    assert set(every) == set(itertools.product(ls.FRAMEWORKS, ls.SNIPPET_MODES))
    only_norm = ls.code_snippets(replace(ExplorerConfig(), paths=("norm",)))
    assert set(only_norm) == {(f, "norm") for f in ls.FRAMEWORKS}
    assert set(ls.code_snippets(replace(ExplorerConfig(), paths=()))) == set(every)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        ls.code_snippet(ExplorerConfig(), "jax")
    with pytest.raises(ValueError, match="unknown clipping mode 'both'"):
        ls.code_snippet(ExplorerConfig(), "pytorch", "both")
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        ls.code_snippet(replace(ExplorerConfig(), optimizer="rmsprop"), "pytorch")
