"""Every page driven through the router with Streamlit's AppTest: no exception anywhere."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from landscapes.views import config as cf
from ui.fences import read_component_data

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120  # a cold JAX import and first compiles take far longer than AppTest's 3 s


def explorer(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/explorer.py")
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def plot_view(at: AppTest, key: str) -> dict | None:
    """The figure a `ui.plot` component with this key was given, if the page has one."""
    for element in at.get("bidi_component"):
        if element.proto.component_name == "cliffs_plotly_view" and element.proto.id.endswith(f"-{key}"):
            return read_component_data(element.proto)["figure"]
    return None


def map_component(at: AppTest) -> dict | None:
    """The payload of the Explorer's map component (ui/cliffs_map.py), if the page has one."""
    for element in at.get("bidi_component"):
        if element.proto.component_name == "cliffs_map":
            return read_component_data(element.proto)
    return None


def drawn_map(payload: dict) -> dict:
    """The map component's view as the traces these tests read: each path of the view (name,
    points, style), the wall, the guess."""
    from landscapes.views.map_payload import view_points

    points = view_points(payload)
    data = [
        {
            "name": e["label"],
            "x": points[e["mode"]][:, 0].tolist(),
            "y": points[e["mode"]][:, 1].tolist(),
            "line": {"color": e["color"], "dash": e["dash"]},
            "marker": {"symbol": e["marker"]},
        }
        for e in payload["paths"]
    ]
    data += [{"name": "the wall (analytic)"}] * bool(payload["walls"])
    data += [{"name": "your guess"}] * bool(payload["guess"])
    return {"data": data}


def map_spec(at: AppTest) -> dict:
    """The page's main figure: the Explorer's map (the component's view, or the 3-D plot), else
    the first chart (the home map)."""
    payload = map_component(at)
    if payload is not None:
        return drawn_map(payload)
    view = plot_view(at, "map")
    if view is not None:
        return view
    charts = at.get("plotly_chart")
    assert charts, "no chart on the page"
    return json.loads(charts[0].proto.spec)


def test_home_page_renders_a_live_figure():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert_clean(at)
    spec = map_spec(at)
    assert any(t.get("name") == "norm clipping" for t in spec["data"])
    assert "Cliffs in loss landscapes" in at.title[0].value


def test_explorer_default_view_has_three_paths_and_a_narration():
    at = explorer()
    assert_clean(at)
    names = [t.get("name") for t in map_spec(at)["data"]]
    for label in ("no clipping", "value clipping", "norm clipping", "the wall (analytic)"):
        assert label in names
    text = " ".join(m.value for m in at.markdown)
    assert "Step 3 is the decisive moment" in text and "131" in text
    assert at.query_params["lr"] == "0.5" and at.query_params["landscape"] == "pascanu"


@pytest.mark.parametrize("preset", [p.key for p in cf.PRESETS])
def test_each_preset(preset):
    at = explorer()
    at.button(key=f"ex_preset_{preset}").click().run()
    assert_clean(at)
    expected = cf.preset(preset).config
    assert at.session_state["ex_landscape"] == expected.landscape
    assert at.session_state["ex_lr"] == expected.lr and at.session_state["ex_c"] == expected.threshold
    assert at.query_params["landscape"] == expected.landscape


@pytest.mark.parametrize(
    "paths",
    [("none",), ("value",), ("norm",), ("none", "value", "norm"), ()],
    ids=lambda p: "+".join(p) or "off",
)
def test_each_clip_mode_alone_and_together(paths):
    at = explorer({"paths": ",".join(paths)})
    assert_clean(at)
    names = {t.get("name") for t in map_spec(at)["data"]}
    for mode, label in (("none", "no clipping"), ("value", "value clipping"), ("norm", "norm clipping")):
        assert (label in names) == (mode in paths)
    if not paths:
        assert "switched off" in at.info[0].value


@pytest.mark.parametrize(
    "query",
    [
        {"lr": "0.001", "c": "0.01", "steps": "1"},
        {"lr": "10", "c": "100", "steps": "1000"},
        {"lr": "10", "c": "100", "steps": "1000", "opt": "adam", "landscape": "ravine", "steepness": "10000"},
        {"landscape": "deep_product", "depth": "30", "lr": "10", "steps": "1000", "opt": "momentum"},
        {"landscape": "staircase", "cliffs": "6", "steepness": "1000", "lr": "8", "c": "0.01"},
        {"T": "200", "start": "6.5,-4", "lr": "10"},
        {"T": "1", "start": "3.5,-1"},
    ],
    ids=["low", "high", "ravine-high", "deep-high", "stairs-high", "T200-corner", "T1-corner"],
)
def test_slider_extremes(query):
    at = explorer(query)
    assert_clean(at)
    assert map_spec(at)["data"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"lr": "abc"}, "Learning rate 'abc' is not a number"),
        ({"T": "5000"}, "outside [1, 200]"),
        ({"c": "-3"}, "Threshold c -3 is outside"),
        ({"landscape": "everest"}, "Unknown landscape 'everest'"),
        ({"start": "1,2,3"}, "is not two numbers"),
        ({"start": "nan,inf"}, "is not two numbers"),
        ({"opt": "sgd2"}, "Unknown optimizer 'sgd2'"),
        ({"steps": "1e9"}, "outside [1, 1000]"),
        ({"paths": "none,wobble"}, "'wobble' ignored"),
        ({"present": "maybe"}, "not on/off"),
    ],
)
def test_malformed_url_parameters_show_a_notice(query, fragment):
    at = explorer(query)
    assert_clean(at)
    assert at.warning and fragment in at.warning[0].value
    assert map_spec(at)["data"]


def test_url_round_trip_applies_settings():
    query = cf.to_query(cf.preset("tenfold").config)
    at = explorer(query)
    assert_clean(at)
    expected = cf.preset("tenfold").config
    assert at.session_state["ex_landscape"] == "ravine" and at.session_state["ex_lr"] == expected.lr
    assert not at.warning
    for key, value in query.items():
        assert at.query_params[key] == value


def test_moving_a_slider_updates_the_chart_and_the_url():
    at = explorer()
    before = map_spec(at)
    at.select_slider(key="ex_c").set_value(0.1).run()
    assert_clean(at)
    assert at.query_params["c"] == "0.1"
    assert map_spec(at)["data"] != before["data"]


def test_landscape_switch_resets_start_and_parameters():
    at = explorer()
    at.selectbox(key="ex_landscape").set_value("staircase").run()
    assert_clean(at)
    assert (at.session_state["ex_start_x"], at.session_state["ex_start_y"]) == (5.0, 1.0)
    assert at.query_params["cliffs"] == "3"


def test_presentation_mode_hides_controls_and_survives_in_the_url():
    at = explorer({"present": "1"})
    assert_clean(at)
    assert not at.sidebar.button and at.query_params["present"] == "1"
    at.button(key="ex_leave_present").click().run()
    assert_clean(at)
    assert "present" not in at.query_params and at.sidebar.button


def test_three_d_view():
    at = explorer({"view3d": "1"})
    assert_clean(at)
    assert map_spec(at)["data"][0]["type"] == "surface"


def test_diverging_run_is_explained_not_plotted_as_nan():
    # Float overflow on the deep product: the unclipped run stops and says why.
    at = explorer(
        {"landscape": "deep_product", "depth": "30", "start": "1.5,1.5", "lr": "10", "steps": "1000"}
    )
    assert_clean(at)
    assert "NaN" not in json.dumps(map_spec(at)) and "NaN" not in json.dumps(plot_view(at, "history"))


@pytest.mark.parametrize("setting", ["c", "lr"])
def test_in_figure_sweep(setting):
    at = explorer({"scrub": setting, "steps": "40"})
    assert_clean(at)
    (chart,) = at.get("plotly_chart")  # the map and the history are ui.plot components
    sweep = json.loads(chart.proto.spec)
    assert len(sweep["frames"]) == 45 and sweep["layout"]["sliders"][0]["name"] == setting
    assert at.query_params["scrub"] == setting


def test_predict_then_reveal():
    at = explorer({"predict": "1"})
    assert_clean(at)
    names = {t.get("name") for t in map_spec(at)["data"]}
    assert "no clipping" not in names and "norm clipping" in names
    assert "Predict, then reveal" in at.info[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "39" not in text  # nothing gives the ending away before the guess
    # A guess (what a map click does in this mode) reveals the path and scores it.
    at.session_state["ex_guess"] = (10.0, 20.0)
    at.run()
    assert_clean(at)
    names = {t.get("name") for t in map_spec(at)["data"]}
    assert {"no clipping", "your guess"} <= names
    import landscapes as ls

    end = ls.simulate("pascanu", (4.7, -2.2), 0.5, 60).params[-1]
    distance = ((end[0] - 10.0) ** 2 + (end[1] - 20.0) ** 2) ** 0.5
    assert "ended at (39, 53.4)" in at.success[0].value and f"was {distance:.3g} away" in at.success[0].value
    at.button(key="ex_guess_again").click().run()
    assert "no clipping" not in {t.get("name") for t in map_spec(at)["data"]}


def test_take_home_snippets_and_downloads_carry_the_current_values():
    import ast

    from streamlit_fences import captured_downloads

    import landscapes as ls

    at = explorer({"lr": "0.25", "c": "2.5", "opt": "momentum"})
    assert_clean(at)
    assert not at.code  # nothing is built until the learner asks for it
    with captured_downloads() as files:
        at.toggle(key="ex_take_home").set_value(True).run()
    assert_clean(at)
    codes = [c.value for c in at.code]
    assert len(codes) == len(ls.FRAMEWORKS)  # PyTorch, Keras, TensorFlow, optax
    for code in codes:
        ast.parse(code)
        assert "0.25" in code and "2.5" in code
    buttons = {b.proto.label: files[b.proto.url] for b in at.get("download_button")}
    assert set(buttons) == {"Runs as CSV", "Runs and settings as JSON"}
    # The downloaded bytes parse back to exactly the runs on screen, with the settings.
    config = ls.views.config.from_query({"lr": "0.25", "c": "2.5", "opt": "momentum"})[0]
    runs = ls.simulate_modes("pascanu", config.start, 0.25, config.steps, 2.5, "momentum")
    from_csv = ls.runs_from_csv(buttons["Runs as CSV"].decode())
    from_json = ls.runs_from_json(buttons["Runs and settings as JSON"].decode())
    assert set(from_csv) == set(runs) == set(from_json.runs)
    for mode, run in runs.items():
        assert (from_csv[mode].params == run.params).all()
        assert (from_json.runs[mode].params == run.params).all()
    assert from_json.config == config


def _one_plot_page():
    import ui

    ui.plot({"data": [{"type": "scatter", "x": [0, 1], "y": [1, 2]}], "layout": {"height": 300}}, key="solo")


def test_plots_use_the_plot_component_when_the_static_copy_is_served():
    import ui

    assert ui.plotly_script_url().endswith(".min.js")  # .streamlit/config.toml serves static/
    at = AppTest.from_function(_one_plot_page, default_timeout=TIMEOUT).run()
    assert_clean(at)
    assert plot_view(at, "solo")["data"][0]["y"] == [1, 2] and not at.get("plotly_chart")


def test_plots_fall_back_to_st_plotly_chart_when_plotly_js_cannot_be_served(monkeypatch):
    import ui

    monkeypatch.setattr(ui, "plotly_script_url", lambda: None)
    at = AppTest.from_function(_one_plot_page, default_timeout=TIMEOUT).run()
    assert_clean(at)
    (chart,) = at.get("plotly_chart")
    assert json.loads(chart.proto.spec)["data"][0]["y"] == [1, 2] and plot_view(at, "solo") is None


@pytest.mark.parametrize("name", ["ravine", "staircase"])
def test_choosing_a_landscape_opens_its_story_and_reset_returns_to_it(name):
    at = explorer()
    at.selectbox(key="ex_landscape").set_value(name).run()
    assert_clean(at)
    story = cf.story_config(name)
    assert at.session_state["ex_lr"] == story.lr and at.session_state["ex_c"] == story.threshold
    assert (at.session_state["ex_start_x"], at.session_state["ex_start_y"]) == story.start
    assert at.query_params["lr"] == cf.url_number(story.lr)
    at.session_state["ex_lr"] = 0.001  # the learner wanders off...
    at.run()
    at.button(key="ex_reset").click().run()  # ...and comes back
    assert_clean(at)
    assert at.session_state["ex_lr"] == story.lr and at.query_params["lr"] == cf.url_number(story.lr)


def test_summary_explains_the_outcome_words():
    at = explorer()
    text = " ".join(c.value for c in at.caption)
    assert "*trains*: the final loss is at most" in text and "typical loss" in text


# --- any set of up to five rules -------------------------------------------------------

FIVE_RULES = ("none", "norm", "agc", "autoclip", "zclip")


def _path_points(spec: dict, label: str) -> list:
    trace = next(t for t in spec["data"] if t.get("name") == label)
    return list(zip(trace["x"], trace["y"], strict=True))


def test_five_rules_from_the_url_draw_five_paths_in_their_registry_style():
    from landscapes.core.clipping import CLIP_SPECS

    at = explorer({"paths": ",".join(FIVE_RULES), "opt_zclip": "warmup:3", "opt_autoclip": "threshold:50"})
    assert_clean(at)
    spec = map_spec(at)
    for mode in FIVE_RULES:
        rule = CLIP_SPECS[mode]
        trace = next(t for t in spec["data"] if t.get("name") == rule.label)
        assert trace["line"]["color"] == rule.color and trace["line"]["dash"] == rule.dash
        assert trace["marker"]["symbol"] == rule.marker
    assert at.session_state["ex_paths"] == list(FIVE_RULES)
    assert at.session_state["ex_o_zclip_warmup"] == 3 and at.session_state["ex_o_autoclip_threshold"] == 50
    assert at.query_params["opt_zclip"] == "warmup:3" and at.query_params["opt_autoclip"] == "threshold:50"
    table = " ".join(h.value for h in at.get("html"))
    for mode in FIVE_RULES:
        assert CLIP_SPECS[mode].label in table


@pytest.mark.parametrize(
    ("mode", "option", "value", "given", "written"),
    [
        ("zclip", "warmup", 3, "", "warmup:3"),
        # The catapult comes at step 3: inside ZClip's default 25-step warm-up nothing else acts.
        ("zclip", "alpha", 0.5, "warmup:2", "alpha:0.5,warmup:2"),
        ("zclip", "threshold", 0.5, "warmup:2", "threshold:0.5,warmup:2"),
        ("zclip", "max_norm", 1.0, "", "max_norm:1"),
        ("autoclip", "threshold", 90.0, "", "threshold:90"),
        ("agc", "threshold", 0.1, "", "threshold:0.1"),
        ("agc", "eps", 10.0, "", "eps:10"),  # eps acts only above ||θ|| (about 5 here)
        ("normalize", "beta", 10.0, "", "beta:10"),
    ],
)
def test_each_rule_setting_changes_its_path_and_the_url(mode, option, value, given, written):
    from landscapes.core.clipping import CLIP_SPECS

    at = explorer({"paths": f"none,{mode}", **({f"opt_{mode}": given} if given else {})})
    assert_clean(at)
    label = CLIP_SPECS[mode].label
    before = _path_points(map_spec(at), label)
    at.number_input(key=f"ex_o_{mode}_{option}").set_value(value).run()
    assert_clean(at)
    assert at.query_params[f"opt_{mode}"] == written
    assert _path_points(map_spec(at), label) != before


def test_adding_a_rule_in_the_multiselect_draws_it_with_default_settings():
    at = explorer()
    at.multiselect(key="ex_paths").select("zclip").run()
    assert_clean(at)
    assert at.query_params["paths"] == "none,value,norm,zclip" and "opt_zclip" not in at.query_params
    assert any(t.get("name") == "ZClip (z-score)" for t in map_spec(at)["data"])
    assert at.session_state["ex_o_zclip_alpha"] == 0.97


def test_per_variable_clipping_says_it_is_value_clipping_here():
    at = explorer({"paths": "value,per_variable"})
    assert_clean(at)
    assert any("it is value clipping" in c.value for c in at.caption)


@pytest.mark.parametrize("optimizer", list(cf.OPTIMIZERS))
def test_every_registered_optimizer_from_a_link_runs(optimizer):
    """The sidebar offers the optimizer registry, so an optimizer a link names is the one that runs."""
    at = explorer({"opt": optimizer, "paths": "none,norm,clip_update"})
    assert_clean(at)
    assert at.session_state["ex_opt"] == optimizer and at.query_params["opt"] == optimizer


def test_the_weight_decay_control_shows_for_adamw_only_and_reaches_the_link():
    at = explorer()
    assert not [n for n in at.number_input if n.key == "ex_wd"]  # plain descent: no decay control
    at.button(key="ex_preset_adamw").click().run()
    assert_clean(at)
    expected = cf.preset("adamw").config
    assert at.number_input(key="ex_wd").value == expected.weight_decay
    assert float(at.query_params["wd"]) == expected.weight_decay
    at.number_input(key="ex_wd").set_value(0.1).run()
    assert_clean(at)
    assert float(at.query_params["wd"]) == 0.1
    assert any("0.1" in m.value and "decay" in m.value for m in [*at.markdown, *at.caption])
    at.session_state["ex_opt"] = "adam"
    at.run()
    assert_clean(at)
    assert not [n for n in at.number_input if n.key == "ex_wd"]
    assert "wd" not in at.query_params
