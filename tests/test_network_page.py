"""The "A real network" page: settings and links, figures as data, every preset's claims, AppTest."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import landscapes as ls
from landscapes.core.network import PARAM_NAMES
from landscapes.figures import network as fn
from landscapes.views import network_config as nc
from landscapes.views import network_words as words

APP = str(Path(__file__).resolve().parents[1] / "app.py")


# ---------------------------------------------------------------------------
# Settings <-> URL <-> widgets


ODD = nc.NetworkConfig(
    task="temporal_order",
    T=37,
    hidden=9,
    rec_scale=0.1 + 0.2,  # 0.30000000000000004: written exactly
    lr=1 / 3,
    optimizer="adam",
    steps=123,
    seed=7,
    rules=(
        nc.canonical_rule("zclip", 2.25, "per_tensor", {"alpha": 0.9, "warmup": 5}),
        nc.canonical_rule("normalize", 0.7, "global", {"beta": 0.01}),
        nc.canonical_rule("agc", 0.02, "global", {}),
        nc.canonical_rule("none", 1.0, "global", {}),
    ),
    present=True,
)


@pytest.mark.parametrize("config", [nc.NetworkConfig(), ODD, *(p.config for p in nc.NETWORK_PRESETS)])
def test_a_link_reopens_the_same_settings_exactly(config):
    assert nc.network_from_query(nc.network_to_query(config)) == (config, [])


@pytest.mark.parametrize("config", [nc.NetworkConfig(), ODD])
def test_the_widgets_show_the_settings_and_read_them_back(config):
    values = nc.network_widget_values(config)
    assert nc.network_from_widget_values(values.get) == config


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"T": "0"}, "T 0 is outside [2, 200]; using 2."),
        ({"lr": "fast"}, "learning rate 'fast' is not a number; using 0.15."),
        ({"rule1": "magic"}, "Rule 1: unknown clipping rule 'magic'; left out."),
        ({"rule1": "norm", "c1": "-1"}, "Rule 1 (norm clipping)"),
        ({"rule1": "agc", "scope1": "per_tensor"}, "has no per-tensor form"),
        ({"rule1": "zclip", "opt1": "alpha:7"}, "alpha"),
        ({"task": "chess"}, "Unknown task 'chess'"),
        ({"preset": "nope"}, "Unknown preset 'nope'"),
        ({"rule5": "norm"}, "At most 4 rules"),
    ],
)
def test_a_bad_value_becomes_a_notice_not_an_error(query, expected):
    config, notices = nc.network_from_query(query)
    assert any(expected in n for n in notices), notices
    assert len(config.rules) >= 1


def test_a_preset_link_and_its_overrides():
    config, notices = nc.network_from_query({"preset": "scope", "steps": "200"})
    assert notices == [] and config == replace(nc.network_preset("scope").config, steps=200)
    assert (
        nc.which_preset(config) is None and nc.which_preset(nc.network_preset("scope").config).key == "scope"
    )


# ---------------------------------------------------------------------------
# Figures as data


@pytest.fixture(scope="module")
def small_runs():
    config = nc.NetworkConfig(T=8, hidden=6, steps=60, lr=2.0, optimizer="sgd", rec_scale=2.0)
    return config, nc.train_network(config, chunks=3)


def test_the_charts_draw_every_run_with_its_threshold_spikes_and_divergence(small_runs):
    config, runs = small_runs
    labels = nc.run_labels(config)
    assert labels == ["no clipping", "norm clipping (c = 1)"]
    loss = fn.network_loss_figure(runs, labels, steps=config.steps)
    names = [t.name for t in loss.data]
    assert names[:2] == ["no clipping: training", "no clipping: held-out"]
    assert "solved: below 0.04" in names
    np.testing.assert_array_equal(loss.data[0].y, runs[0].loss)
    grad = fn.network_grad_norm_figure(runs, labels, steps=config.steps)
    (threshold,) = [t for t in grad.data if t.name == "norm clipping (c = 1): threshold"]
    assert set(np.asarray(threshold.y)) == {1.0}
    spikes = [t for t in grad.data if t.name and t.name.startswith("spike")]
    for t in spikes:
        run = runs[0] if t.marker.color == fn.run_colors(runs)[0] else runs[1]
        np.testing.assert_array_equal(t.x, ls.gradient_spikes(run.grad_norm))
    if runs[0].diverged:
        (cross,) = [t for t in loss.data if t.name == "diverged"]
        assert cross.x[0] == runs[0].diverged_at - 1 and runs[0].reason in cross.hovertext[0]
        assert cross.y[0] <= fn.loss_axis_top(runs)
    tensors = fn.network_tensor_norms_figure(runs, labels, steps=config.steps)
    assert len(tensors.data) == len(PARAM_NAMES) * len(runs)
    clipped = fn.network_clipped_figure(runs, labels, steps=config.steps)
    (share,) = clipped.data  # no line for the rule that never clips
    assert share.name == f"{labels[1]}: {100 * runs[1].clipped.mean():.0f} % of steps"
    x, y = fn.clipped_share(runs[1], 3)
    assert y[0] == runs[1].clipped[:3].mean() and x[0] == 1
    radius = fn.network_radius_figure(runs, labels, steps=config.steps)
    np.testing.assert_array_equal(radius.data[1].y, runs[1].rec_radius)


def test_two_runs_of_one_rule_get_two_colours_and_the_per_tensor_one_is_dashed():
    config = nc.network_preset("scope").config
    z = np.zeros(1)
    fake = [
        ls.NetworkRun(z, z, {}, z.astype(bool), z, None, "", {}, {}, z, z, z, clip=r.clip, scope=r.scope)
        for r in config.rules
    ]
    a, b = fn.run_colors(fake)
    assert a != b
    fig = fn.network_radius_figure(fake, nc.run_labels(config))
    assert fig.data[0].line.dash == "solid" and fig.data[1].line.dash == "dash"


def test_the_slice_figure_draws_the_grid_and_numbers_the_first_and_last_steps(small_runs):
    _, runs = small_runs
    sl = ls.network_loss_slice(runs[1])
    fig = fn.network_slice_figure(sl, "norm")
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (65, 65)
    np.testing.assert_allclose(np.asarray(heat.z), np.log10(sl.loss), rtol=1e-6)
    path = fig.data[2]
    np.testing.assert_array_equal(path.x, sl.path[:, 0])
    texts = list(path.text)
    assert texts[0] == str(sl.step) and texts[-1] == str(sl.path_steps[-1]) and set(texts[1:-1]) <= {""}
    assert fn.slice_run_index(runs) == (
        1 if runs[0].diverged else int(np.argmax([r.grad_norm.max() for r in runs]))
    )


# ---------------------------------------------------------------------------
# Presets: each claim recomputed from the runs


@pytest.fixture(scope="module")
def preset_runs():
    return {p.key: nc.train_network(p.config, chunks=4) for p in nc.NETWORK_PRESETS}


def _independent(config, k):
    """Rule k of ``config`` trained alone (not batched with the others)."""
    r = config.rules[k]
    return ls.train_rnn(
        task=config.task, T=config.T, hidden=config.hidden, batch=nc.NET_BATCH, steps=config.steps,
        lr=config.lr, clip=r.clip, threshold=r.threshold if r.clip != "none" else None,
        clip_options=dict(r.options), scope=r.scope, optimizer=config.optimizer,
        rec_scale=config.rec_scale, seed=config.seed, eval_every=nc.eval_every(config),
    )  # fmt: skip


def test_preset_explode_the_unclipped_run_blows_up_and_the_clipped_one_solves(preset_runs):
    config = nc.network_preset("explode").config
    free, clipped = preset_runs["explode"]
    labels = nc.run_labels(config)
    caption = words.explode_caption([free, clipped], labels)
    # The story, from the runs and again from each rule trained on its own.
    for f, c in ((free, clipped), (_independent(config, 0), _independent(config, 1))):
        assert f.diverged and not c.diverged and c.solved
        assert np.max(f.grad_norm) > 1e6 * np.max(c.grad_norm)
    median = np.median(free.grad_norm)
    assert f"median of {median:.3g}" in caption
    assert f"reaches {free.grad_norm.max():.3g} at step {int(np.argmax(free.grad_norm))}" in caption
    first = int(np.flatnonzero(free.grad_norm > 10 * median)[0])
    assert f"comes at step {first}" in caption
    assert f"The run diverged at step {free.diverged_at}" in caption
    # Norm clipping at c = 1 changed exactly the steps whose raw norm exceeded 1.
    assert np.array_equal(clipped.clipped, clipped.grad_norm > 1.0)
    assert f"shortened {int(np.sum(clipped.grad_norm > 1.0))} steps of {config.steps}" in caption
    hx, hy = ls.rnn_heldout_batch("adding", config.T)
    final = float(ls.rnn_loss({n: np.asarray(v, np.float64) for n, v in clipped.params.items()}, hx, hy))
    assert final < ls.SOLVED_LOSS and f"held-out loss of {clipped.final_heldout:.3g}, below" in caption
    assert final == pytest.approx(clipped.final_heldout, rel=1e-4)


def test_preset_scope_counts_the_clipped_steps_of_each_scope(preset_runs):
    config = nc.network_preset("scope").config
    whole, each = preset_runs["scope"]
    labels = nc.run_labels(config)
    caption = words.scope_caption([whole, each], labels)
    # Global: clipped where the whole norm exceeds c; per tensor: where any tensor's norm does.
    assert np.array_equal(whole.clipped, whole.grad_norm > 1.0)
    any_tensor = np.any(np.stack([each.tensor_norms[n] > 1.0 for n in PARAM_NAMES]), axis=0)
    assert np.array_equal(each.clipped, any_tensor)
    assert f"shortened {whole.n_clipped} steps of {whole.steps_taken}" in caption
    assert f"changed {each.n_clipped} steps of {each.steps_taken}" in caption
    assert each.n_clipped < whole.n_clipped  # the preset's point: per tensor lets more steps through
    assert not whole.diverged and not each.diverged
    lower = labels[0] if whole.final_heldout < each.final_heldout else labels[1]
    assert f"{lower} ends lower" in caption
    assert f"{whole.final_heldout:.3g} ({words.outcome(whole)})" in caption
    # √5: five tensors each at most c after per-tensor norm clipping.
    g = {n: np.full(s.shape, 10.0) for n, s in ls.init_rnn(4).items()}
    out = ls.clip_network_gradient(g, "norm", 1.0, scope="per_tensor")
    assert np.sqrt(sum(np.sum(np.asarray(v) ** 2) for v in out.values())) == pytest.approx(
        np.sqrt(5), rel=1e-6
    )


def test_preset_adaptive_states_autoclips_threshold_as_the_percentile_so_far(preset_runs):
    config = nc.network_preset("adaptive").config
    fixed, adaptive = preset_runs["adaptive"]
    labels = nc.run_labels(config)
    caption = words.adaptive_caption([fixed, adaptive], labels)
    p = config.rules[1].threshold
    k = adaptive.steps_taken
    expected = np.array([np.percentile(adaptive.grad_norm[: i + 1], p) for i in range(k)])
    np.testing.assert_allclose(adaptive.clip_threshold, expected, rtol=1e-5)
    assert f"starts at {expected[0]:.3g}" in caption and f"ends at {expected[-1]:.3g}" in caption
    assert f"largest value of {expected.max():.3g}" in caption
    assert f"fixed at {1.0:.3g}" in caption
    assert f"fixed rule shortened {int(np.sum(fixed.grad_norm > 1.0))} steps" in caption
    assert f"adaptive one {int(np.sum(adaptive.grad_norm > expected))} steps" in caption
    for run, label in ((fixed, labels[0]), (adaptive, labels[1])):
        assert (
            f"{label} ends with a held-out loss of {run.final_heldout:.3g} ({words.outcome(run)})" in caption
        )


def test_the_slice_caption_states_the_slice(preset_runs):
    config = nc.network_preset("explode").config
    runs = preset_runs["explode"]
    r = fn.slice_run_index(runs)
    assert r == 1  # the run that did not diverge
    sl = ls.network_loss_slice(runs[r])
    text = words.slice_caption(sl, runs[r], nc.run_labels(config)[r])
    assert f"At step {int(np.argmax(runs[r].grad_norm))} " in text
    assert f"{sl.grad_norm / np.median(runs[r].grad_norm):.3g} times the run's median" in text
    assert f"runs from {sl.loss.min():.3g} to {sl.loss.max():.3g}" in text
    assert f"centre it is {sl.loss[32, 32]:.3g}" in text
    assert f"loss went from {sl.path_loss[0]:.3g} to {sl.path_loss[1]:.3g}" in text


# ---------------------------------------------------------------------------
# AppTest


def page(query=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/network.py")
    return at.run()


def clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_the_page_trains_the_default_preset_and_shows_its_caption_charts_and_slice(preset_runs):
    at = page()
    clean(at)
    assert len(at.get("plotly_chart")) == 6  # five charts and the slice
    config = nc.network_preset("explode").config
    caption = words.explode_caption(preset_runs["explode"], nc.run_labels(config))
    assert any(caption in i.value for i in at.info)
    assert any("diverged at step" in w.value for w in at.warning)
    assert at.query_params["rule1"] == "none" and at.query_params["lr"] == "0.15"
    assert at.selectbox(key="net_slice_run").value == 1


def test_the_page_with_a_bad_link_shows_notices_and_still_trains():
    at = page({"T": "9999", "rule1": "bogus", "rule2": "value", "c2": "0.5", "steps": "40", "H": "4"})
    clean(at)
    assert at.warning and "T 9999 is outside" in at.warning[0].value and "bogus" in at.warning[0].value
    assert at.query_params["T"] == "200" and at.query_params["rule1"] == "value"
    assert len(at.get("plotly_chart")) == 6


def test_the_page_offers_the_temporal_order_task():
    at = page({"task": "temporal_order", "T": "12", "H": "4", "steps": "30"})
    clean(at)
    assert at.selectbox(key="net_task").value == "temporal_order"
    assert "temporal order problem" in " ".join(m.value for m in at.markdown)


def test_a_preset_button_sets_its_settings():
    at = page({"steps": "30", "H": "4", "T": "6"})
    (button,) = [b for b in at.button if b.key == "net_preset_scope"]
    button.click().run()
    clean(at)
    assert at.query_params["scope2"] == "per_tensor" and at.query_params["opt"] == "sgd"
    assert any("Per-tensor against global" in i.value for i in at.info)


def test_homes_line_about_this_page_is_true(preset_runs):
    import importlib

    home = importlib.import_module("pages.home")
    (notice,) = [n for path, *_, n in home.LINKS if path == "pages/network.py"]
    assert "up to four clipping rules" in notice and nc.MAX_RULES == 4
    assert "adding problem" in notice and nc.NetworkConfig().task == "adding"
    # "watch its gradient norm spike": at the page's defaults (preset a) every run has marked spikes.
    assert nc.which_preset(nc.NetworkConfig()).key == "explode"
    assert all(len(ls.gradient_spikes(run.grad_norm)) for run in preset_runs["explode"])
