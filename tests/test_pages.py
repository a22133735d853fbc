"""AppTest of the "Inside the RNN" and Learn pages, at their extremes."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import landscapes as ls

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def page(path: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(path)
    return at.run()


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"w": "0.5", "b": "-6", "T": "1"},
        {"w": "8", "b": "3", "T": "200"},
        {"w": "5", "b": "-2.6122966", "T": "200"},  # on the wall at the longest T
        {"w": "4.2", "b": "-2.1", "T": "50"},  # below the critical weight: no wall
    ],
    ids=["default", "low", "high", "wall-T200", "no-wall"],
)
def test_rnn_page_extremes(query):
    at = page("pages/rnn.py", query)
    clean(at)
    assert len(at.get("plotly_chart")) == 4
    text = " ".join(m.value for m in at.markdown)
    assert ("above 1" in text) == (float(query.get("w", 5.0)) > 4.2553)


def test_rnn_page_url_and_notices():
    at = page("pages/rnn.py", {"w": "99", "b": "oops", "T": "0"})
    clean(at)
    assert (
        at.warning
        and "w 99 is outside" in at.warning[0].value
        and "'oops' is not a number" in at.warning[0].value
    )
    assert at.query_params["w"] == "8" and at.query_params["T"] == "1"


def test_rnn_wall_button_puts_b_on_the_wall():
    import landscapes as ls

    at = page("pages/rnn.py", {"w": "5", "b": "-2"})
    at.button[0].click().run()
    clean(at)
    assert at.session_state["rnn_b"] == pytest.approx(float(ls.pascanu_wall_b(5.0)), abs=1e-6)


def test_rnn_page_and_explorer_link_both_ways():
    at = page("pages/rnn.py", {"w": "4.9", "b": "-2.5", "T": "60"})
    assert at.get("page_link"), "the RNN page links back to the Explorer"
    at = page("pages/explorer.py", {"start": "4.9,-2.5", "T": "60"})
    clean(at)
    (link,) = [link for link in at.get("page_link") if "inside the RNN" in link.proto.label]
    assert "w = 4.9, b = -2.5" in link.proto.label
    assert link.proto.page.endswith("rnn") or "rnn" in link.proto.page


@pytest.mark.parametrize(
    "values",
    [
        {"learn_g1": -10.0, "learn_g2": 10.0, "learn_c": 0.1, "learn_T": 1},
        {"learn_g1": 0.0, "learn_g2": 0.0, "learn_c": 5.0, "learn_T": 200},
        {"learn_g1": 10.0, "learn_g2": -0.1, "learn_c": 0.1, "learn_T": 50},
    ],
    ids=["corner", "zero-gradient", "flat"],
)
def test_learn_page_extremes(values):
    at = page("pages/learn.py")
    clean(at)
    for key, value in values.items():
        at.slider(key=key).set_value(value)
    at.run()
    clean(at)
    assert len(at.header) == len(ls.LEARN_SECTIONS) == 6 and len(at.get("plotly_chart")) >= 5


def test_learn_page_uses_the_explorer_settings():
    at = page("pages/explorer.py", {"c": "3", "lr": "0.1"})
    at.switch_page("pages/learn.py").run()
    clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert "threshold c = 3" in text


@pytest.mark.parametrize("res", ["64", "96", "128", "192", "256"])
def test_sweeps_page_at_each_resolution(res):
    at = page("pages/sweeps.py", {"res": res, "steps": "20"})
    clean(at)
    import json

    charts = at.get("plotly_chart")
    assert len(charts) == 3  # the start maps side by side, the same stacked (for phones), the diagram
    for maps in (json.loads(charts[0].proto.spec), json.loads(charts[1].proto.spec)):
        heat = [t for t in maps["data"] if t.get("type") == "heatmap"]
        assert len(heat) == 3 and heat[0]["z"]["shape"].replace(" ", "") == f"{res},{res}"
    assert at.query_params["res"] == res


@pytest.mark.parametrize("paint", ["loss", "outcome", "clipped"])
def test_sweeps_paint_choices(paint):
    """The maps show the quantity asked for: each norm-clipping cell carries that cell's own number."""
    import json

    import numpy as np

    import landscapes as ls

    at = page("pages/sweeps.py", {"res": "64", "paint": paint, "steps": "20"})
    clean(at)
    assert "starts" in " ".join(m.value for m in at.markdown)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    maps = [t for t in spec["data"] if t.get("type") == "heatmap"]
    assert len(maps) == 3
    norm = ls.sweep_starts("pascanu", 0.5, 20, "norm", 1.0, resolution=64)
    z = maps[2]["z"]
    if isinstance(z, dict):  # Plotly's typed-array form: {"dtype", "bdata" (base64), "shape"}
        import base64

        raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = [int(n) for n in str(z.get("shape", len(raw))).split(",")]
        z = raw.reshape(shape)
    shown = np.asarray(z, dtype=float)
    if paint == "clipped":
        np.testing.assert_array_equal(shown, norm.n_clipped)
    elif paint == "outcome":
        np.testing.assert_array_equal(shown, norm.outcome)
    else:
        finite = norm.final_loss > 1e-10
        np.testing.assert_allclose(shown[finite], np.log10(norm.final_loss[finite]), rtol=1e-5, atol=1e-5)


def test_sweeps_bad_url():
    at = page("pages/sweeps.py", {"res": "5000", "paint": "colour", "dclip": "x"})
    clean(at)
    text = at.warning[0].value
    assert "Resolution 5000 is outside" in text and "'colour'" in text


def test_sweeps_start_from_the_explorer_settings():
    at = page("pages/explorer.py", {"lr": "0.1", "c": "3", "steps": "30"})
    at.switch_page("pages/sweeps.py").run()
    clean(at)
    assert at.session_state["sw_lr"] == 0.1 and at.session_state["sw_c"] == 3.0


# --- Home ------------------------------------------------------------------------------


def test_home_links_every_page_with_what_to_notice():
    at = AppTest.from_file(APP, default_timeout=180).run()
    clean(at)
    links = [link.proto.page for link in at.get("page_link")]
    for name in ("explorer", "sweeps", "rnn", "learn"):
        assert any(name in page for page in links), f"Home has no link to {name}"
    # One line under each link, saying what to look for in that page's figure.
    import importlib

    home = importlib.import_module("pages.home")
    captions = [c.value for c in at.caption]
    for _, _, _, notice in home.LINKS:
        assert notice in captions
    assert not at.warning  # a newcomer sees no warning
    # The step cap is stated for plain descent only (pinned below).
    text = " ".join(m.value for m in at.markdown)
    assert "with plain gradient descent no step is longer than learning rate × *c*" in text
    assert "with momentum 0.9 a step can reach about ten times learning rate × *c*" in text


def test_home_notices_are_true():
    """Each 'what to notice' line under Home's links, computed."""
    import numpy as np

    import landscapes as ls
    from landscapes.views.explorer import run_modes

    # Explorer: at its defaults the unclipped path leaves the map (at the wall), the clipped stay.
    result = run_modes(ls.views.config.ExplorerConfig())
    window = result.window
    assert result.runs["none"].left_window_at(window) is not None
    assert result.runs["value"].left_window_at(window) is None
    assert result.runs["norm"].left_window_at(window) is None
    left = result.runs["none"].left_window_at(window)
    before = result.runs["none"].params[left - 1]
    assert abs(before[1] - ls.pascanu_wall_b(before[0])) < 0.1  # it was thrown from beside the wall
    # RNN: on the wall every factor w*sigma'(x) is above 1 (for w above 4.26), so the product grows.
    assert ls.PASCANU_CRITICAL_W == pytest.approx(4.2553, abs=1e-4)
    for w in (4.5, 5.0):
        unroll = ls.unroll_rnn(w, float(ls.pascanu_wall_b(w)), 50)
        factors = np.abs(np.asarray(unroll.factors))
        assert factors.min() > 1
        assert np.all(np.diff(np.abs(np.asarray(unroll.running_product))) > 0)
    below = ls.unroll_rnn(4.2, float(ls.pascanu_wall_b(4.2)), 50)
    assert np.abs(np.asarray(below.factors)).max() < 1  # below 4.26 there is no such wall
    # Learn: norm clipping keeps the direction, value clipping turns it.
    demo = ls.clip_comparison([3.0, 1.0], 1.0)
    assert demo.norm_angle == pytest.approx(0.0, abs=1e-9) and demo.value_angle > 10


@pytest.mark.parametrize("landscape", ["pascanu", "ravine", "staircase"])
def test_home_step_cap_holds_for_plain_descent_only(landscape):
    """Home: with plain descent no norm-clipped step is longer than lr * c; with momentum
    0.9 a step can reach about ten times that (never more: 1 / (1 - 0.9) = 10); Adam's
    steps do not follow the cap at all."""
    import landscapes as ls

    lr = 0.05
    for c in (0.01, 0.1, 1.0):
        plain = ls.simulate(landscape, None, lr=lr, steps=300, clip="norm", threshold=c)
        assert plain.step_length.max() <= lr * c * (1 + 1e-12)
        heavy = ls.simulate(landscape, None, lr=lr, steps=300, clip="norm", threshold=c, optimizer="momentum")
        assert heavy.step_length.max() <= 10 * lr * c * (1 + 1e-9)
    heavy = ls.simulate(landscape, None, lr=lr, steps=300, clip="norm", threshold=0.01, optimizer="momentum")
    assert heavy.step_length.max() > 9.5 * lr * 0.01  # "about ten times"
    adam = ls.simulate(landscape, None, lr=0.01, steps=50, clip="norm", threshold=0.01, optimizer="adam")
    assert adam.step_length.max() > 10 * 0.01 * 0.01


# --- first start -------------------------------------------------------------------------


def test_first_start_prints_no_static_folder_warning(capsys):
    """Streamlit warns at start-up when static serving is on and static/ is missing: the
    folder is in git (static/README.md), so even a fresh clone's first start is silent."""
    import subprocess

    from streamlit import config
    from streamlit.web import bootstrap

    root = Path(APP).parent
    assert config.get_option("server.enableStaticServing")
    bootstrap._maybe_print_static_folder_warning(APP)
    assert "static folder" not in capsys.readouterr().out
    if (root / ".git").exists():
        command = ["git", "ls-files", "--error-unmatch", "static/README.md"]
        tracked = subprocess.run(command, cwd=root, capture_output=True, check=False)
        assert tracked.returncode == 0, "static/README.md must be in git so a fresh clone has static/"


def test_plotly_copy_falls_back_silently_when_static_cannot_be_written(tmp_path, monkeypatch, capsys):
    import ui

    locked = tmp_path / "app"
    locked.mkdir()
    (locked / "static").write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setattr(ui, "APP_DIR", locked)
    ui.plotly_script_url.cache_clear()
    try:
        assert ui.plotly_script_url() is None  # ui.plot then draws with st.plotly_chart
    finally:
        ui.plotly_script_url.cache_clear()
    out = capsys.readouterr()
    assert "static" not in out.out + out.err  # logged at info level, for the maintainer only


# --- Sweeps for any rule ---------------------------------------------------------------


def _heatmap_z(trace) -> "object":
    import base64

    import numpy as np

    z = trace["z"]
    if isinstance(z, dict):
        raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = [int(n) for n in str(z.get("shape", len(raw))).split(",")]
        return raw.reshape(shape)
    return np.asarray(z, dtype=float)


def test_sweeps_map_any_rule_with_its_settings():
    """Start maps for the rules in the link, each with its own settings; a cell is simulate's run."""
    import json

    import numpy as np

    import landscapes as ls

    query = {"res": "64", "steps": "20", "paint": "clipped", "paths": "none,zclip,autoclip"}
    query |= {"opt_zclip": "warmup:3,alpha:0.9", "opt_autoclip": "threshold:40"}
    at = page("pages/sweeps.py", query)
    clean(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    maps = [t for t in spec["data"] if t.get("type") == "heatmap"]
    titles = [a["text"] for a in spec["layout"]["annotations"][:3]]
    assert titles == ["no clipping", "AutoClip (percentile), p = 40", "ZClip (z-score), z = 2.5"]
    zclip = ls.sweep_starts(
        "pascanu", 0.5, 20, "zclip", 2.5, resolution=64, clip_options={"warmup": 3, "alpha": 0.9}
    )
    np.testing.assert_array_equal(_heatmap_z(maps[2]), zclip.n_clipped)
    # One cell against the one-run engine, with the same settings.
    i, j = 40, 21
    run = ls.simulate(
        "pascanu",
        (float(zclip.x[i]), float(zclip.y[j])),
        0.5,
        20,
        "zclip",
        2.5,
        clip_options={"warmup": 3, "alpha": 0.9},
    )
    assert run.n_clipped == zclip.n_clipped[j, i]
    assert "AutoClip (percentile) (p = 40)" in " ".join(m.value for m in at.markdown)


def test_sweeps_diagram_for_any_rule():
    at = page("pages/sweeps.py", {"res": "64", "steps": "20", "dclip": "autoclip"})
    clean(at)
    import json

    diagram = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert diagram["layout"]["yaxis"]["title"]["text"] == "threshold: the percentile p"
    heat = next(t for t in diagram["data"] if t.get("type") == "heatmap")
    import base64

    import numpy as np

    ys = np.frombuffer(base64.b64decode(heat["y"]["bdata"]), dtype=heat["y"]["dtype"])
    assert ys.max() == 100  # a percentile stops at 100
    text = " ".join(m.value for m in at.markdown)
    assert "with AutoClip (percentile) and 20 steps" in text and "(lr 0.5, p 10)" in text
    assert at.query_params["dclip"] == "autoclip"


def test_sweeps_choose_the_rules_to_map():
    at = page("pages/sweeps.py", {"res": "64", "steps": "20"})
    at.multiselect(key="sw_paths").unselect("value").select("normalize").run()
    clean(at)
    assert at.query_params["paths"] == "none,norm,normalize"
    import json

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len([t for t in spec["data"] if t.get("type") == "heatmap"]) == 3
    at.multiselect(key="sw_paths").set_value([]).run()
    clean(at)
    assert "No rule is chosen" in at.info[0].value


@pytest.mark.parametrize("story", ["adaptive", "normalize_skip", "after_momentum"])
def test_learn_beyond_a_fixed_threshold_tells_each_story(story):
    from landscapes.lessons import learn_text as words
    from landscapes.views.explorer import run_modes

    at = page("pages/learn.py")
    at.segmented_control(key="learn_beyond").set_value(story).run()
    clean(at)
    assert "Beyond a fixed threshold" in [h.value for h in at.header]
    expected = words.beyond_sentences(run_modes(words.beyond_story(story).config))
    text = " ".join(m.value for m in at.markdown)
    assert all(line in text for line in expected)


# --- Explorer: the teaching toggles and the code panel ---------------------------------


def _explorer_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_explorer_with_noise_from_a_link():
    noise = "sigma:0,spike_prob:0.05,spike_scale:100,seed:0"
    query = {
        "start": "6,-1.5",
        "lr": "1",
        "steps": "200",
        "paths": "none,value,norm,zclip,skip",
        "noise": noise,
    }
    at = page("pages/explorer.py", query)
    clean(at)
    assert at.query_params["noise"] == [noise] or at.query_params["noise"] == noise
    assert at.toggle(key="ex_noise_on").value is True
    assert at.number_input(key="ex_noise_spike_scale").value == 100
    text = _explorer_text(at)
    assert "**Gradient noise is on** (seed 0)" in text
    assert "spiked steps" in "".join(h.body for h in at.get("html"))
    # switching the noise off: the narration no longer mentions it and the link drops it
    at.toggle(key="ex_noise_on").set_value(False).run()
    clean(at)
    assert "noise" not in at.query_params and "Gradient noise is on" not in _explorer_text(at)


def test_explorer_noise_controls_change_the_run_and_the_link():
    at = page("pages/explorer.py")
    at.toggle(key="ex_noise_on").set_value(True).run()
    clean(at)
    at.number_input(key="ex_noise_seed").set_value(7).run()
    clean(at)
    written = at.query_params["noise"]
    written = written[0] if isinstance(written, list) else written
    assert written == "sigma:0,spike_prob:0.05,spike_scale:20,seed:7"


def test_explorer_float32_reports_the_overflow():
    query = {
        "landscape": "ravine",
        "steepness": "100",
        "start": "2.9,2.6",
        "lr": "10",
        "c": "0.05",
        "steps": "200",
        "dtype": "float32",
    }
    at = page("pages/explorer.py", query)
    clean(at)
    assert at.toggle(key="ex_float32").value is True
    run32 = ls.simulate("ravine", (2.9, 2.6), 10.0, 200, "none", dtype="float32", steepness=100.0)
    run64 = ls.simulate("ravine", (2.9, 2.6), 10.0, 200, "none", steepness=100.0)
    text = _explorer_text(at)
    assert f"No clipping: in float32 it {run32.reason}" in text
    assert f"diverged at step {run64.diverged_at}" in text
    assert "Norm clipping turns the inf into NaN" in text
    at.toggle(key="ex_float32").set_value(False).run()
    clean(at)
    assert "dtype" not in at.query_params and "in float32 it" not in _explorer_text(at)


@pytest.mark.parametrize(
    "query",
    [{"noise": "sigma:-1,spike_prob:7,seed:x"}, {"dtype": "float16"}, {"noise": "nonsense"}],
    ids=["bad-values", "bad-dtype", "nonsense"],
)
def test_explorer_bad_noise_or_dtype_gives_a_notice(query):
    at = page("pages/explorer.py", query)
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning and "corrected" in at.warning[0].value


def test_explorer_code_panel_offers_every_shown_rule():
    paths = ("none", "norm", "agc", "autoclip", "skip")
    at = page("pages/explorer.py", {"paths": ",".join(paths)})
    at.toggle(key="ex_take_home").set_value(True).run()
    clean(at)
    radio = at.radio(key="ex_snippet_mode")
    assert tuple(radio.options) == tuple(ls.core.clipping.MODE_LABELS[m] for m in paths)
    radio.set_value("autoclip").run()
    clean(at)
    codes = [c.value for c in at.code]
    assert len(codes) == len(ls.FRAMEWORKS)
    assert all("AutoClip" in code for code in codes)
    assert "class AutoClip:" in codes[0] and "autoclip(percentile=10.0" in codes[-1]
