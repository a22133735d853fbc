"""AppTest of the wall button and the links of "Inside the RNN": the exact float64 survives."""

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from landscapes.core.rnn import nearest_wall_b
from landscapes.views import config as cf

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def page(path: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(path)
    return at.run()


@pytest.mark.parametrize("w", ["5", "6.37"])
def test_wall_button_sets_the_exact_float_and_the_url_carries_it(w):
    at = page("pages/rnn.py", {"w": w, "b": "-2", "T": "200"})
    at.button[0].click().run()
    assert not at.exception
    wall = nearest_wall_b(float(w))
    # The number box shows 6 decimals, but the value is the whole float64 ...
    assert at.number_input(key="rnn_b").value == wall
    assert at.session_state["rnn_b"] == wall
    # ... it survives a rerun from another widget ...
    at.slider(key="rnn_T").set_value(120).run()
    assert at.number_input(key="rnn_b").value == wall
    # ... and both links carry it exactly.
    assert float(at.query_params["b"]) == wall
    (link,) = at.get("page_link")
    query = dict(parse_qsl(link.proto.query_string))
    assert query["landscape"] == "pascanu" and query["T"] == "120"
    assert [float(v) for v in query["start"].split(",")] == [float(w), wall]
    text = " ".join(m.value for m in at.caption)
    assert "float64 number nearest the line" in text


def test_rnn_view_round_trips_the_wall_exactly():
    """Needs config's shortest-repr URL floats (``url_number``)."""
    for w in (4.3, 5.0, 5.4, 6.37, 7.99, 8.0):
        view = cf.RnnView(w=w, b=nearest_wall_b(w), T=200)
        back, notices = cf.rnn_from_query(cf.rnn_to_query(view))
        assert back == view and not notices


def test_learn_opens_in_presentation_mode_and_leaves_it():
    at = page("pages/learn.py", {"present": "1"})
    assert not at.exception
    leave = [b for b in at.button if b.key == "learn_leave_present"]
    assert leave, "presentation mode offers a way out"
    assert any("stSidebar" in h.proto.body for h in at.get("html"))  # the presentation CSS
    leave[0].click().run()
    assert "present" not in at.query_params
    assert not [b for b in at.button if b.key == "learn_leave_present"]


def test_learn_says_when_the_presentation_flag_is_malformed():
    at = page("pages/learn.py", {"present": "maybe"})
    assert not at.exception
    assert any("present='maybe'" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "learn_leave_present"]
