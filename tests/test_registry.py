"""One registration makes a clipping rule usable everywhere (checked in a fresh process, as a
notebook would), and the tests parametrize over the registries, not over literal names."""

import subprocess
import sys
import textwrap
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import landscapes as ls
from landscapes.core.clipping import (
    BUILTIN_RULES,
    CLIP_SPECS,
    MODE_COLORS,
    MODE_LABELS,
    clip_gradient_compiled,
)
from landscapes.views import config as cf

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOK = textwrap.dedent(
    """
    import json
    import jax.numpy as jnp
    import numpy as np
    import landscapes as ls
    from landscapes import figures
    from landscapes.lessons.narrate import narrate
    from landscapes.views import config as cf
    from landscapes.views.explorer import run_modes, summary_html

    ls.register_clip_rule(
        "sign", lambda g, c: c * jnp.sign(g),
        label="sign clipping", color="#111111", dash="dashdot", marker="x",
    )
    out = {}
    run = ls.simulate("pascanu", (4.7, -2.2), lr=0.1, steps=20, clip="sign", threshold=0.1)
    out["update0"] = run.update[0].tolist()
    out["grad0"] = run.grad[0].tolist()
    sweep = ls.sweep_starts("pascanu", 0.1, 20, clip="sign", threshold=0.1, resolution=6)
    cells = []
    for j in (0, 3, 5):
        for i in (0, 2, 5):
            start = (sweep.x[i], sweep.y[j])
            one = ls.simulate("pascanu", start, lr=0.1, steps=20, clip="sign", threshold=0.1)
            cells.append([float(sweep.final_x[j, i]), float(one.params[-1, 0]),
                          float(sweep.final_y[j, i]), float(one.params[-1, 1])])
    out["cells"] = cells
    out["tolerance"] = ls.CLIP_SPECS["sign"].sweep_tolerance
    config, notices = cf.from_query({"paths": "none,sign", "c": "0.1", "steps": "30"})
    out["paths"], out["notices"] = list(config.paths), notices
    result = run_modes(config)
    surface = ls.loss_surface("pascanu", 40)
    fig = figures.map_figure(surface, result)
    out["map"] = [(t.get("name"), t.get("line", {}).get("color"), t.get("line", {}).get("dash"))
                  for t in fig["data"]]
    hist = figures.history_figure(result)
    out["history"] = [t.get("name") for t in hist["data"]]
    out["summary"] = "sign clipping" in summary_html(result) and "#111111" in summary_html(result)
    out["narration"] = bool(narrate(result))
    back = ls.runs_from_csv(ls.runs_to_csv(result.runs))
    out["csv"] = np.array_equal(back["sign"].params, result.runs["sign"].params)
    exported = ls.runs_from_json(ls.runs_to_json(result.runs, config))
    same = np.array_equal(exported.runs["sign"].params, result.runs["sign"].params)
    out["json"] = exported.config == config and same
    out["url"] = cf.to_query(config)["paths"]
    print(json.dumps(out))
    """
)


def test_a_rule_registered_in_a_notebook_works_everywhere():
    done = subprocess.run(
        [sys.executable, "-c", NOTEBOOK], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert np.allclose(out["update0"], -0.1 * 0.1 * np.sign(out["grad0"]))  # simulate uses the rule
    for swept_x, one_x, swept_y, one_y in out["cells"]:  # sweep cells are simulate's runs
        assert swept_x == pytest.approx(one_x, rel=out["tolerance"], abs=1e-12)
        assert swept_y == pytest.approx(one_y, rel=out["tolerance"], abs=1e-12)
    assert out["paths"] == ["none", "sign"] and out["notices"] == [] and out["url"] == "none,sign"
    assert ["sign clipping", "#111111", "dashdot"] in out["map"]
    assert "sign clipping" in out["history"]
    assert out["summary"] and out["narration"] and out["csv"] and out["json"]


def test_registering_twice_or_badly_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        ls.register_clip_rule("norm", lambda g, c: g, label="x", color="#000000")
    with pytest.raises(ValueError, match="lower-case"):
        ls.register_clip_rule("Bad Name", lambda g, c: g, label="x", color="#000000")
    with pytest.raises(ValueError, match="built-in"):
        ls.unregister_clip_rule("norm")


def test_a_registered_rule_is_seen_by_the_palette_and_the_url_then_removed():
    ls.register_clip_rule("halve_test", lambda g, c: g / 2, label="halving", color="#123456")
    try:
        assert MODE_COLORS["halve_test"] == "#123456" and MODE_LABELS["halve_test"] == "halving"
        assert "halve_test" in cf.path_modes()
        config, notices = cf.from_query({"paths": "halve_test"})
        assert config.paths == ("halve_test",) and not notices
    finally:
        ls.unregister_clip_rule("halve_test")
    assert "halve_test" not in MODE_COLORS and "halve_test" not in cf.path_modes()


@pytest.mark.parametrize("name", list(CLIP_SPECS))
def test_every_rule_has_what_the_pages_show(name):
    spec = CLIP_SPECS[name]
    assert spec.label and spec.color.startswith("#") and spec.dash and spec.marker
    g = jnp.array([3.0, -4.0])
    out = ls.clip_gradient(g, name, 1.0)
    assert out.shape == g.shape and bool(jnp.all(jnp.isfinite(out)))
    if spec.batched is not None:  # the batched form is the rule, row by row, to the bit
        grads = jnp.array([[3.0, -4.0], [0.1, 0.2], [1e3, 1e-3], [0.0, 0.0]])
        cs = jnp.array([1.0, 1.0, 0.5, 2.0])
        rows = np.stack(
            [np.asarray(ls.clip_gradient(g, name, float(c))) for g, c in zip(grads, cs, strict=True)]
        )
        assert np.array_equal(np.asarray(spec.batched(grads, cs)), rows)


def test_builtin_rules_are_the_default_paths():
    assert cf.PATH_MODES == BUILTIN_RULES == cf.ExplorerConfig().paths
    assert list(CLIP_SPECS)[: len(BUILTIN_RULES)] == list(BUILTIN_RULES)


@pytest.mark.parametrize("name", list(CLIP_SPECS))
def test_the_compiled_clip_of_one_gradient_is_the_rules(name):
    """What the narration uses: one compiled program per rule, the rule's numbers to the last bit."""
    for g, c in [
        ((3.0, -4.0), 1.0),
        ((0.1, 0.2), 1.0),
        ((1e3, 1e-3), 0.5),
        ((0.0, 0.0), 2.0),
        ((3e200, 4e200), 1.0),
    ]:
        for dtype in (np.float64, np.float32):
            if dtype == np.float32 and max(abs(v) for v in g) > 1e30:
                continue
            grad = np.asarray(g, dtype)
            eager = np.asarray(ls.clip_gradient(grad, name, c))
            compiled = np.asarray(clip_gradient_compiled(grad, name, c))
            assert compiled.dtype == eager.dtype == dtype
            np.testing.assert_array_almost_equal_nulp(compiled, eager, nulp=2)
    with pytest.raises(ValueError):
        clip_gradient_compiled(np.array([1.0, 1.0]), name, -1.0) if CLIP_SPECS[name].uses_threshold else (
            clip_gradient_compiled(np.array([1.0, 1.0]), "no_such_rule", 1.0)
        )
