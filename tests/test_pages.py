"""AppTest of the "Inside the RNN" and Learn pages, at their extremes."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
    assert len(at.header) == 5 and len(at.get("plotly_chart")) >= 5


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
    at = page("pages/sweeps.py", {"res": "64", "paint": paint, "steps": "20"})
    clean(at)
    assert "starts" in " ".join(m.value for m in at.markdown)


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
