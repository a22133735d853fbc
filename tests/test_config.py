"""Explorer settings through the URL: round trips, and every bad value corrected with a notice."""

import itertools

from hypothesis import given
from hypothesis import strategies as st
from strategies import explorer_configs

from landscapes.core.clipping import check_clip_options
from landscapes.views import config as cf


@given(explorer_configs())
def test_round_trip_is_exact(config):
    """A link opens the very run it was made from: every float comes back bit for bit."""
    back, notices = cf.from_query(cf.to_query(config))
    assert notices == []
    assert back == config
    assert back.start == config.start  # exact float equality, not approximate


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_url_numbers_are_shortest_and_exact(value):
    text = cf.url_number(value)
    assert float(text) == value
    assert len(text) <= len(repr(value))


def test_sweeps_round_trip_is_exact():
    view = cf.SweepView(
        explorer=cf.ExplorerConfig(start=(4.712345678901234, -2.2000000000000006)),
        resolution=128,
        paint="clipped",
        diagram_clip="value",
    )
    back, notices = cf.sweep_from_query(cf.sweep_to_query(view))
    assert notices == [] and back.explorer.start == view.explorer.start
    assert (back.resolution, back.paint, back.diagram_clip) == (128, "clipped", "value")


def test_rnn_round_trip_is_exact():
    view = cf.RnnView(w=5.0, b=0.5 - 5.0 / (1 + 2.718281828459045**-0.5), T=200)
    back, notices = cf.rnn_from_query(cf.rnn_to_query(view))
    assert notices == [] and back == view


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "landscape",
                "T",
                "lr",
                "c",
                "steps",
                "opt",
                "start",
                "paths",
                "present",
                "view3d",
                "depth",
                "cliffs",
                "steepness",
            ]
        ),
        st.text(max_size=12),
    )
)
def test_arbitrary_text_never_raises_and_stays_valid(query):
    config, notices = cf.from_query(query)
    assert cf.LR_RANGE[0] <= config.lr <= cf.LR_RANGE[1]
    assert config.threshold in cf.THRESHOLD_CHOICES and 1 <= config.steps <= 1000
    scape = config.scape
    (x0, x1), (y0, y1) = scape.window
    assert x0 <= config.start[0] <= x1 and y0 <= config.start[1] <= y1
    for spec in scape.params:
        assert spec.low <= config.params[spec.name] <= spec.high
    assert all(isinstance(n, str) and n for n in notices)


def test_specific_corrections():
    config, notices = cf.from_query({"T": "0", "lr": "1e9", "c": "0.37", "steps": "12.5", "start": "4,x"})
    assert config.params["T"] == 1 and config.lr == 10 and config.threshold == 0.4 and config.steps == 12
    assert config.start == (4.7, -2.2)
    assert len(notices) == 5


def test_log_choices_are_round_and_cover_the_range():
    assert (
        cf.LR_CHOICES[0] == 1e-3 and cf.LR_CHOICES[-1] == 10 and 0.5 in cf.LR_CHOICES and 1.2 in cf.LR_CHOICES
    )
    ratios = [b / a for a, b in itertools.pairwise(cf.LR_CHOICES)]
    assert max(ratios) <= 4 / 3 + 1e-9  # 3 -> 4 is the widest gap
    assert cf.nearest_choice(0.37, cf.LR_CHOICES) == 0.4


def test_presets_are_valid_configs():
    for item in cf.PRESETS:
        back, notices = cf.from_query(cf.to_query(item.config))
        assert notices == [] and back == item.config


# --- any set of up to five rules, each with its settings ------------------------------

FIVE = "none,norm,agc,autoclip,zclip"


def test_five_rules_and_their_settings_travel_exactly():
    query = {
        "paths": FIVE,
        "opt_zclip": "alpha:0.9,warmup:10,max_norm:5",
        "opt_autoclip": "threshold:25",
        "opt_agc": "threshold:0.05,eps:0.01",
    }
    config, notices = cf.from_query(query)
    assert notices == []
    assert config.paths == tuple(FIVE.split(","))
    assert config.threshold_of("autoclip") == 25.0 and config.threshold_of("zclip") == 2.5
    assert config.threshold_of("norm") == config.threshold == 1.0
    assert config.clip_options_of("zclip") == {"alpha": 0.9, "warmup": 10.0, "max_norm": 5.0}
    assert config.clip_options_of("agc") == {"eps": 0.01}
    written = cf.to_query(config)
    assert written["opt_zclip"] == "alpha:0.9,max_norm:5,warmup:10"
    assert "opt_norm" not in written
    assert cf.from_query(written) == (config, [])


def test_default_settings_are_not_written():
    config = cf.ExplorerConfig(paths=("zclip",), rule_options={"zclip": {"alpha": 0.97, "warmup": 25}})
    assert config.rule_options == () and "opt_zclip" not in cf.to_query(config)


def test_settings_of_hidden_rules_are_dropped():
    config, notices = cf.from_query({"paths": "norm", "opt_zclip": "alpha:0.9"})
    assert config.rule_options == () and len(notices) == 1 and "opt_zclip" in notices[0]


def test_more_than_five_rules_keeps_the_first_five_with_a_notice():
    config, notices = cf.from_query({"paths": "none,value,norm,norm_torch,normalize,skip"})
    assert config.paths == ("none", "value", "norm", "norm_torch", "normalize")
    assert any("At most 5" in n for n in notices)


@given(st.text(max_size=40))
def test_any_rule_settings_text_never_raises(raw):
    config, notices = cf.from_query({"paths": "zclip,autoclip", "opt_zclip": raw, "opt_autoclip": raw})
    for mode in config.paths:
        cf.check_clip(mode, config.threshold_of(mode))
        check_clip_options(mode, config.clip_options_of(mode))  # valid for the engine
    assert all(isinstance(n, str) and n for n in notices)


def test_bad_rule_settings_become_notices():
    config, notices = cf.from_query(
        {"paths": "zclip", "opt_zclip": "alpha:1,warmup:2.5,threshold:-1,speed:3,alpha"}
    )
    assert config.rule_options == ()
    assert len(notices) == 5
    assert "alpha" in notices[0] and "whole number" in notices[1] and "speed" in notices[3]


@given(explorer_configs())
def test_widgets_show_the_settings_exactly(config):
    """The sidebar's widgets laid out from a view read back as that view (the Explorer's protocol)."""
    values = cf.explorer_widget_values(config)
    assert cf.explorer_from_widget_values(values.get) == config


# --- the teaching toggles: number format and gradient noise -----------------------------


def test_float32_and_noise_travel_exactly_and_the_defaults_are_not_written():
    plain = cf.to_query(cf.ExplorerConfig())
    assert "dtype" not in plain and "noise" not in plain
    query = {"dtype": "float32", "noise": "sigma:0.1,spike_prob:0.05,spike_scale:20,seed:0"}
    config, notices = cf.from_query(query)
    assert notices == [] and config.dtype == "float32"
    assert config.noise_settings == {"sigma": 0.1, "spike_prob": 0.05, "spike_scale": 20.0, "seed": 0.0}
    written = cf.to_query(config)
    assert written["dtype"] == "float32" and written["noise"] == query["noise"]
    # Exact floats: 0.1 + 0.2 comes back as itself, not as 0.3.
    odd = cf.ExplorerConfig(noise={"sigma": 0.1 + 0.2, "spike_prob": 1 / 3, "seed": 7})
    assert cf.from_query(cf.to_query(odd)) == (odd, [])
    assert "sigma:0.30000000000000004" in cf.to_query(odd)["noise"]


def test_noise_that_changes_nothing_is_off():
    """sigma 0 and no spikes is exactly the noiseless run: the view says so by having no noise."""
    assert cf.ExplorerConfig(noise={"sigma": 0, "spike_prob": 0, "seed": 3}).noise is None
    config, notices = cf.from_query({"noise": "sigma:0,spike_prob:0"})
    assert config.noise is None and notices == [] and "noise" not in cf.to_query(config)
    # a partial setting is filled with the engine's defaults
    config, _ = cf.from_query({"noise": "spike_prob:0.5"})
    assert config.noise_settings == {"sigma": 0.0, "spike_prob": 0.5, "spike_scale": 10.0, "seed": 0.0}


def test_bad_noise_and_dtype_become_notices():
    config, notices = cf.from_query(
        {"dtype": "float16", "noise": "sigma:-1,spike_prob:2,foo:3,seed:1.5,spike_scale:x,sigma"}
    )
    assert config.dtype == "float64" and config.noise is None
    assert len(notices) == 7
    assert "float16" in notices[0] and "sigma" in notices[1] and "spike_prob" in notices[2]
    assert "'foo:3'" in notices[3] and "seed" in notices[4] and "spike_scale" in notices[5]


@given(st.text(max_size=40))
def test_any_noise_text_never_raises_and_stays_valid(raw):
    from landscapes.core.stepper import check_noise

    config, notices = cf.from_query({"noise": raw, "dtype": raw})
    assert config.dtype in cf.DTYPES
    assert config.noise is None or check_noise(config.noise_settings) == config.noise_settings
    assert all(isinstance(n, str) and n for n in notices)


def test_the_sweeps_page_does_not_carry_the_teaching_toggles():
    """The Sweeps page maps exact float64 descents, so its link and view hold neither toggle."""
    noisy = cf.ExplorerConfig(dtype="float32", noise={"sigma": 0.1})
    view, notices = cf.sweep_from_query(cf.to_query(noisy))
    assert notices == [] and view.explorer.dtype == "float64" and view.explorer.noise is None
    assert not {"dtype", "noise"} & set(cf.sweep_to_query(cf.SweepView(explorer=noisy)))


# --- AdamW's weight decay ----------------------------------------------------------------------


def test_weight_decay_travels_exactly_only_for_adamw_and_the_default_is_not_written():
    assert "wd" not in cf.to_query(cf.ExplorerConfig(optimizer="adamw"))
    odd = cf.ExplorerConfig(optimizer="adamw", weight_decay=0.1 + 0.2)
    assert cf.to_query(odd)["wd"] == "0.30000000000000004"
    assert cf.from_query(cf.to_query(odd)) == (odd, [])
    assert odd.optimizer_options == {"weight_decay": 0.30000000000000004}
    # Other optimizers have no decay: the value keeps the default, the link does not carry it.
    adam = cf.ExplorerConfig(optimizer="adam", weight_decay=0.3)
    assert adam.weight_decay == cf.DEFAULT_WEIGHT_DECAY and adam.optimizer_options == {}
    assert adam == cf.ExplorerConfig(optimizer="adam") and "wd" not in cf.to_query(adam)
    zero = cf.ExplorerConfig(optimizer="adamw", weight_decay=0.0)
    assert cf.to_query(zero)["wd"] == "0" and cf.from_query(cf.to_query(zero)) == (zero, [])


def test_bad_weight_decay_becomes_a_notice():
    config, notices = cf.from_query({"opt": "adamw", "wd": "2"})
    assert (
        config.weight_decay == cf.WEIGHT_DECAY_RANGE[1] and len(notices) == 1 and "Weight decay" in notices[0]
    )
    config, notices = cf.from_query({"opt": "adamw", "wd": "-0.1"})
    assert config.weight_decay == 0.0 and len(notices) == 1
    config, notices = cf.from_query({"opt": "adamw", "wd": "lots"})
    assert config.weight_decay == cf.DEFAULT_WEIGHT_DECAY and "not a number" in notices[0]
    config, notices = cf.from_query({"opt": "adam", "wd": "0.2"})
    assert config.optimizer_options == {} and notices == [
        "Weight decay wd='0.2' ignored: only AdamW has one."
    ]


@given(st.text(max_size=20), st.sampled_from(["adamw", "adam", "sgd"]))
def test_any_weight_decay_text_never_raises_and_stays_valid(raw, optimizer):
    config, notices = cf.from_query({"opt": optimizer, "wd": raw})
    low, high = cf.WEIGHT_DECAY_RANGE
    assert low <= config.weight_decay <= high
    assert all(isinstance(n, str) and n for n in notices)


def test_the_sweeps_page_does_not_carry_the_decay():
    """The Sweeps maps run AdamW at its default decay, so their link and view say so."""
    decayed = cf.ExplorerConfig(optimizer="adamw", weight_decay=0.2)
    view, notices = cf.sweep_from_query(cf.to_query(decayed))
    assert notices == [] and view.explorer.weight_decay == cf.DEFAULT_WEIGHT_DECAY
    assert "wd" not in cf.sweep_to_query(cf.SweepView(explorer=decayed))
    widgets = cf.sweep_widget_values(cf.SweepView(explorer=decayed))
    back = cf.sweep_from_widget_values(widgets.get, decayed)
    assert back.explorer.optimizer == "adamw" and back.explorer.weight_decay == cf.DEFAULT_WEIGHT_DECAY


def test_a_decay_widget_not_drawn_reads_as_the_default():
    values = cf.explorer_widget_values(cf.ExplorerConfig(optimizer="adamw", weight_decay=0.25))
    assert cf.explorer_from_widget_values(values.get).weight_decay == 0.25
    values["wd"] = None  # Streamlit dropped the widget's state
    assert cf.explorer_from_widget_values(values.get).weight_decay == cf.DEFAULT_WEIGHT_DECAY
