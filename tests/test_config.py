"""Explorer settings through the URL: round trips, and every bad value corrected with a notice."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from landscapes import config as cf


@given(
    st.sampled_from([s.name for s in cf.list_landscapes()]),
    st.sampled_from(cf.LR_CHOICES),
    st.sampled_from(cf.THRESHOLD_CHOICES),
    st.integers(1, 1000),
    st.sampled_from(["sgd", "momentum", "adam"]),
    st.sets(st.sampled_from(cf.PATH_MODES)),
    st.booleans(),
    st.booleans(),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_round_trip(name, lr, c, steps, opt, paths, view3d, present, fx, fy):
    scape = cf.get_landscape(name)
    (x0, x1), (y0, y1) = scape.window
    config = cf.ExplorerConfig(
        landscape=name,
        params=scape.defaults(),
        start=(x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)),
        lr=lr,
        threshold=c,
        steps=steps,
        optimizer=opt,
        paths=tuple(m for m in cf.PATH_MODES if m in paths),
        view3d=view3d,
        present=present,
    )
    back, notices = cf.from_query(cf.to_query(config))
    assert notices == []
    assert back.landscape == name and back.lr == lr and back.threshold == c and back.steps == steps
    assert back.optimizer == opt and back.paths == config.paths
    assert (back.view3d, back.present) == (view3d, present)
    assert abs(back.start[0] - config.start[0]) <= 1e-5 * max(1, abs(config.start[0]))


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
