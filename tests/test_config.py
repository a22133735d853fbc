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
