"""The Class page through Streamlit's AppTest (teacher and student sessions on one SQLite store),
and its words and figure (landscapes.figures.classroom) as data, checked against numbers computed
here independently."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import plotly.graph_objects as go
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import landscapes as ls
from classroom import ClassStore
from landscapes import figures
from landscapes.figures import classroom as fc
from landscapes.views import config as cf
from landscapes.views.explorer import run_modes
from ui.fences import read_component_data

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The store the page uses: SQLite in a fresh data folder (the page's cached store is dropped)."""
    folder = tmp_path_factory.mktemp("class-data")
    patch = pytest.MonkeyPatch()
    patch.setenv("CLIFFS_DATA", str(folder))
    patch.delenv("CLIFFS_DB", raising=False)
    st.cache_resource.clear()
    yield ClassStore(f"sqlite:///{folder / 'classroom.sqlite3'}")
    st.cache_resource.clear()
    patch.undo()


def class_page(query: dict[str, str] | None = None, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()  # the router first: the Class page's url_path (class) is not its file name
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page("pages/class.py")
    return at.run()


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def html_bodies(at: AppTest) -> str:
    return " ".join(e.proto.body for e in at.get("html"))


def plot_spec(at: AppTest, key: str = "cl_cloud") -> dict | None:
    for element in at.get("bidi_component"):
        if element.proto.component_name == "cliffs_plotly_view" and element.proto.id.endswith(f"-{key}"):
            return read_component_data(element.proto)["figure"]
    return None


def map_payload(at: AppTest) -> dict | None:
    for element in at.get("bidi_component"):
        if element.proto.component_name == "cliffs_map":
            return read_component_data(element.proto)
    return None


def page_text(at: AppTest) -> str:
    """Everything the page sent (every element's protobuf), as text."""
    return "\n".join(str(node.proto) for node in at.main) + "\n" + "\n".join(str(n.proto) for n in at.sidebar)


def texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def teacher(at: AppTest) -> tuple[str, str]:
    return at.query_params["code"], at.query_params["teacher"]


# --- an answer, independently ------------------------------------------------------------


def crossing(inside, outside, window):
    """Where the segment leaves the window: the smallest t in (0, 1] on any of the four edges."""
    (x0, x1), (y0, y1) = window
    best = None
    for axis, bound in ((0, x0), (0, x1), (1, y0), (1, y1)):
        d = outside[axis] - inside[axis]
        if d == 0:
            continue
        t = (bound - inside[axis]) / d
        if 0 < t <= 1:
            point = inside + t * (outside - inside)
            other = point[1 - axis]
            low, high = (y0, y1) if axis == 0 else (x0, x1)
            if low - 1e-12 <= other <= high + 1e-12 and (best is None or t < best[0]):
                best = (t, point)
    return best[1]


def expected_answer(config: cf.ExplorerConfig):
    # every setting of the view: optimizer and its decay, number format, noise (the noisy preset)
    run = ls.simulate(config.landscape, config.start, lr=config.lr, steps=config.steps, clip="none",
                      optimizer=config.optimizer, optimizer_options=config.optimizer_options,
                      dtype=config.dtype, noise=config.noise_settings, **config.params)  # fmt: skip
    (x0, x1), (y0, y1) = window = config.scape.window
    p = np.asarray(run.params)
    inside = (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)
    if inside[-1]:
        return p[-1], None
    i = max(k for k in range(1, len(p)) if inside[k - 1] and not inside[k])
    return crossing(p[i - 1], p[i], window), i


# --- words and figure as data ----------------------------------------------------------------


@pytest.mark.parametrize("key", [p.key for p in cf.PRESETS])
def test_answer_is_where_the_unclipped_path_ends_or_leaves(key):
    config = cf.preset(key).config
    result = run_modes(config)
    answer = fc.answer_of(result.runs["none"], result.window)
    point, step = expected_answer(config)
    assert answer.point == pytest.approx(tuple(point), abs=1e-9)
    assert answer.left_at == step
    sentence = fc.answer_sentence(answer)
    assert f"({point[0]:.3g}, {point[1]:.3g})" in sentence
    if step is not None:
        assert f"at step {step}," in sentence
        (x0, x1), (y0, y1) = result.window
        edges = {"left": (0, x0), "right": (0, x1), "bottom": (1, y0), "top": (1, y1)}
        (edge,) = [name for name, (axis, bound) in edges.items() if math.isclose(point[axis], bound)]
        assert f"through the {edge} edge" in sentence


def test_answer_on_the_map_is_the_end():
    config = cf.ExplorerConfig(lr=0.05, steps=30)
    result = run_modes(config)
    end = np.asarray(result.runs["none"].params[-1])
    answer = fc.answer_of(result.runs["none"], result.window)
    assert answer.left_at is None and answer.point == pytest.approx(tuple(end))
    assert fc.answer_sentence(answer).startswith("The unclipped path ends on the map")


@pytest.mark.parametrize("n", [1, 2, 7, 30])
def test_spread_words_come_from_the_guesses(n):
    window = ((3.5, 6.5), (-4.0, -1.0))
    answer = fc.Answer((5.4, -1.0), 4, "top", 60)
    rng = np.random.default_rng(n)
    guesses = [(float(rng.uniform(3.5, 6.5)), float(rng.uniform(-4.0, -1.0))) for _ in range(n)]
    guesses[0] = (5.45, -1.05)  # one close guess at least
    d = [math.dist(g, answer.point) for g in guesses]
    diagonal = math.hypot(3.0, 3.0)
    spread = fc.class_spread(guesses, answer, window)
    assert spread.count == n
    assert spread.median == pytest.approx(statistics.median(d))
    close = sum(x <= 0.1 * diagonal for x in d)
    assert spread.close == close >= 1
    sentence = fc.spread_sentence(spread)
    assert f"within {statistics.median(d):.3g} of the answer" in sentence
    assert f"({100 * statistics.median(d) / diagonal:.0f} % of the map's diagonal)" in sentence
    assert f"{close} of {n} ({100 * close / n:.0f} %) came within 10 %" in sentence
    own = fc.own_sentence(guesses[-1], answer, window)
    assert f"was {d[-1]:.3g} away: {100 * d[-1] / diagonal:.0f} %" in own
    assert own.startswith("Close!" if d[-1] <= 0.1 * diagonal else "Not this time.")


def test_spread_without_guesses():
    answer = fc.Answer((5.0, -2.0), None, None, 60)
    assert fc.class_spread([], answer, ((0, 1), (0, 1))) is None
    assert fc.spread_sentence(None) == "Nobody submitted a guess for this question."
    assert fc.own_sentence(None, answer, ((0, 1), (0, 1))) == "You did not submit a guess for this question."


def test_class_map_hides_the_unclipped_path_until_the_reveal():
    config = cf.ExplorerConfig()
    result = run_modes(config)
    surface = ls.loss_surface("pascanu", 40, T=50.0)
    guesses = [(5.0, -2.0, None), (5.5, -1.5, "<b>Bo</b>")]
    before = fc.class_map_figure(surface, result, guesses, revealed=False)
    after = fc.class_map_figure(surface, result, guesses, revealed=True)
    go.Figure(before), go.Figure(after)  # valid Plotly
    names_before = [t.get("name") for t in before["data"]]
    names_after = [t.get("name") for t in after["data"]]
    assert "no clipping" not in names_before and "no clipping" in names_after
    assert not any(str(n).startswith("the answer") for n in names_before)
    cloud = next(t for t in before["data"] if str(t.get("name")).startswith("the class's guesses"))
    assert cloud["x"] == [5.0, 5.5] and cloud["y"] == [-2.0, -1.5]
    assert cloud["text"] == ["", "&lt;b&gt;Bo&lt;/b&gt;"]  # escaped: Plotly would render the tag
    answer = next(t for t in after["data"] if str(t.get("name")).startswith("the answer"))
    point, _ = expected_answer(config)
    assert [answer["x"][0], answer["y"][0]] == pytest.approx(list(point))
    # a phone gets short legend names and a horizontal colour bar (assets/plotly_view.js merges it)
    compact = after["layout"]["meta"]["compact"]
    assert compact["below"] == figures.COMPACT_BELOW and set(map(int, compact["data"])) <= set(
        range(len(after["data"]))
    )
    short = {after["data"][int(i)]["name"]: p["name"] for i, p in compact["data"].items() if "name" in p}
    assert (
        short["the class's guesses (2)"] == "guesses (2)"
        and short["the answer: where it leaves the map"] == "answer"
    )
    assert compact["data"]["0"]["marker"]["colorbar"]["orientation"] == "h"
    # nothing of the unclipped run is in the figure before the reveal
    none_points = {(round(float(x), 6), round(float(y), 6)) for x, y in result.runs["none"].params[5:]}
    drawn = {
        (round(float(x), 6), round(float(y), 6))
        for t in before["data"]
        for x, y in zip(t.get("x") or [], t.get("y") or [], strict=False)
        if x is not None and y is not None
    }
    assert not (none_points & drawn)


# --- the page ------------------------------------------------------------------------------


def test_landing_offers_join_and_start(store):
    at = class_page()
    clean(at)
    assert {"Join", "Start a room"} <= set(labels(at))
    assert not {"Ask", "Reveal", "Next question"} & set(labels(at))


def test_teacher_opens_a_room_asks_reveals_and_moves_on(store):
    at = class_page()
    at.button(key="cl_start").click().run()
    clean(at)
    code, secret = teacher(at)
    assert store.is_teacher(code, secret)
    assert 'data-testid="class-code"' in html_bodies(at) and f">{code}<" in html_bodies(at)
    assert at.get("image"), "the join link's QR code"
    assert f"/class?code={code}" in texts(at)
    assert "Ask" in labels(at) and "Reveal" not in labels(at)
    at.selectbox(key="cl_preset").set_value("crawl")
    at.button(key="cl_ask").click().run()
    clean(at)
    view = store.teacher_view(code, secret)
    assert view.state == "asked"
    asked, _ = cf.from_query(dict(parse_qsl(view.question.query)))
    assert asked.threshold == cf.preset("crawl").config.threshold and "none" in asked.paths
    assert 'data-testid="class-count" class="class-count">0<' in html_bodies(at)
    assert "Reveal" in labels(at)
    # two students' guesses arrive; the teacher's view counts them
    for i, point in enumerate([(5.0, -2.0), (5.6, -1.2)]):
        ticket = store.join(code, session=f"t-{i}", name=f"S{i}")
        store.submit_guess(code, ticket.token, *point, session=f"t-{i}")
    at.run()
    assert 'class="class-count">2<' in html_bodies(at)
    cloud = next(t for t in plot_spec(at)["data"] if str(t.get("name")).startswith("the class's"))
    assert sorted(zip(cloud["x"], cloud["y"], strict=True)) == [(5.0, -2.0), (5.6, -1.2)]
    assert cloud["text"] == ["", ""]  # names are off the projector ...
    at.toggle(key="cl_show_names").set_value(True).run()
    cloud = next(t for t in plot_spec(at)["data"] if str(t.get("name")).startswith("the class's"))
    assert sorted(cloud["text"]) == ["S0", "S1"]  # ... unless the teacher turns them on
    assert "no clipping" not in [t.get("name") for t in plot_spec(at)["data"]]
    at.button(key="cl_reveal").click().run()
    clean(at)
    assert store.teacher_view(code, secret).state == "revealed"
    assert "no clipping" in [t.get("name") for t in plot_spec(at)["data"]]
    result = run_modes(asked)
    answer = fc.answer_of(result.runs["none"], result.window)
    spread = fc.class_spread([(5.0, -2.0), (5.6, -1.2)], answer, result.window)
    assert fc.spread_sentence(spread) in texts(at) and fc.answer_sentence(answer) in texts(at)
    at.button(key="cl_next").click().run()
    clean(at)
    assert store.teacher_view(code, secret).state == "waiting"
    assert teacher(at) == (code, secret) and "Ask" in labels(at)  # the same room


def test_student_joins_guesses_and_sees_the_reveal(store):
    room = store.create_room()
    store.ask(room.code, room.secret, cf.ExplorerConfig())
    at = class_page()
    at.text_input(key="cl_join_code").input(room.code.lower())
    at.text_input(key="cl_name").input("Ada")
    at.button[0].click().run()  # the form's Join button
    clean(at)
    assert at.query_params["code"] == room.code and "me" in at.query_params
    assert "teacher" not in at.query_params
    payload = map_payload(at)
    assert payload is not None and "none" not in [p["mode"] for p in payload["paths"]]
    assert "Submit my guess" in labels(at) and at.button(key="cl_submit").disabled  # no click yet
    at.session_state["cl_pending"] = (5.2, -1.6)  # what a click on the map does (browser test)
    at.run()
    assert map_payload(at)["guess"] == [5.2, -1.6]
    at.button(key="cl_submit").click().run()
    clean(at)
    view = store.teacher_view(room.code, room.secret)
    assert [(g.x, g.y) for g in view.guesses] == [(5.2, -1.6)]
    assert "Your guess (5.2, -1.6) is in." in " ".join(s.value for s in at.success)
    # they may change it until the reveal: still one guess, at the new point
    at.session_state["cl_pending"] = (5.4, -1.1)
    at.run().button(key="cl_submit").click().run()
    assert [(g.x, g.y) for g in store.teacher_view(room.code, room.secret).guesses] == [(5.4, -1.1)]
    # a reconnect (a new session on the same link) loses nothing
    again = class_page(dict(code=room.code, me=at.query_params["me"]))
    clean(again)
    assert map_payload(again)["guess"] == [5.4, -1.1]
    store.reveal(room.code, room.secret)
    at.run()
    clean(at)
    assert "none" in [p["mode"] for p in map_payload(at)["paths"]]
    point, step = expected_answer(cf.ExplorerConfig())
    d = math.dist((5.4, -1.1), point)
    assert f"was {d:.3g} away: {100 * d / math.hypot(3, 3):.0f} % of the map's diagonal." in texts(at)
    assert f"leaves the map at step {step}" in texts(at)
    assert "Submit my guess" not in labels(at)


def test_student_page_has_no_teacher_controls_and_no_secret(store):
    room = store.create_room()
    store.ask(room.code, room.secret, cf.ExplorerConfig())
    ticket = store.join(room.code, session="x", name="<b>[x](http://e.v)")
    at = class_page(dict(code=room.code, me=ticket.token))
    clean(at)
    # the name is shown as typed: no tag, no link
    caption = next(c.value for c in at.caption if c.value.startswith("You joined room"))
    assert caption.endswith(r"as \<b\>\[x\]\(http\://e\.v\).")
    assert not {"Ask", "Reveal", "Next question", "Close the room", "Start a room"} & set(labels(at))
    assert not [t for t in at.toggle if t.key == "cl_show_names"]
    assert room.secret not in page_text(at)
    assert room.secret not in str(dict(at.query_params))
    # the teacher's controls with a student's link and a guessed secret: refused, in words
    bad = class_page(dict(code=room.code, teacher="not-the-secret"))
    assert "Only the teacher's link can do that in this room." in [e.value for e in bad.error]
    assert not {"Ask", "Reveal", "Next question"} & set(labels(bad))
    assert not bad.exception


@pytest.mark.parametrize(
    ("code", "words"),
    [("KPX3A9", "There is no open room with the code KPX3A9"), ("abc", "A room code has 6 characters")],
)
def test_wrong_code_gets_a_clear_message(store, code, words):
    at = class_page()
    at.text_input(key="cl_join_code").input(code)
    at.button[0].click().run()
    clean(at)
    assert any(words in w.value for w in at.warning)
    assert "me" not in at.query_params


def test_join_attempts_are_rate_limited_with_a_notice(store):
    at = class_page()
    seen = []
    for _ in range(7):
        at.text_input(key="cl_join_code").input("KPX3A9")
        at.button[0].click().run()
        seen += [w.value for w in at.warning]
    clean(at)
    assert any("Too many join attempts from this page" in w for w in seen)


def test_a_closed_room_says_so_to_its_students(store):
    room = store.create_room()
    ticket = store.join(room.code, session="y")
    store.close(room.code, room.secret)
    at = class_page(dict(code=room.code, me=ticket.token))
    assert any("There is no open room" in e.value for e in at.error)
    assert not at.exception and "Join" in labels(at)


def test_bad_explorer_link_is_a_notice(store):
    at = class_page()
    at.button(key="cl_start").click().run()
    code, secret = teacher(at)
    at.radio(key="cl_source").set_value("link").run()
    at.text_input(key="cl_link").input("http://x/explorer?lr=banana&c=1").run()
    at.button(key="cl_ask").click().run()
    clean(at)
    assert any("This link's settings are not valid" in w.value for w in at.warning)
    assert store.teacher_view(code, secret).state == "waiting"
    at.text_input(key="cl_link").input("http://x/explorer?landscape=pascanu&lr=0.1&c=0.5&paths=norm").run()
    at.button(key="cl_ask").click().run()
    question, _ = cf.from_query(dict(parse_qsl(store.teacher_view(code, secret).question.query)))
    assert (question.lr, question.threshold) == (0.1, 0.5)
    assert question.paths[0] == "none" and "norm" in question.paths  # the unclipped path is added


def test_the_explorer_view_becomes_the_question(store):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params.update({"lr": "0.1", "c": "3", "steps": "40"})
    at.switch_page("pages/explorer.py").run()
    explorer = at.session_state["ex_settings"]
    at.query_params.clear()
    at.switch_page("pages/class.py").run()
    at.button(key="cl_start").click().run()
    code, secret = teacher(at)
    assert "my Explorer view" in at.radio(key="cl_source").options
    at.radio(key="cl_source").set_value("explorer").run()
    at.button(key="cl_ask").click().run()
    clean(at)
    question, _ = cf.from_query(dict(parse_qsl(store.teacher_view(code, secret).question.query)))
    assert (question.lr, question.threshold, question.steps) == (explorer.lr, explorer.threshold, 40)
    assert question.start == explorer.start
    # back from another page, the teacher's room is still theirs (the session keeps the link)
    at.query_params.clear()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/class.py").run()
    assert teacher(at) == (code, secret) and "Reveal" in labels(at)


def page_constants() -> dict[str, object]:
    """The Class page's module-level constants, read without running the page."""
    import ast

    tree = ast.parse((Path(APP).parent / "pages" / "class.py").read_text())
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }  # fmt: skip


def test_the_readme_states_the_class_pages_settings():
    readme = " ".join((Path(APP).parent / "README.md").read_text().split())
    constants = page_constants()
    assert f"rereading it every {constants['TEACHER_REFRESH']:g} s" in readme
    assert f"checks for the reveal every {constants['STUDENT_REFRESH']:g} s" in readme
    assert f"within {100 * fc.CLOSE_SHARE:.0f} % of the map's diagonal" in readme
    assert "`/class`" in readme and "Submit my guess" in readme and "Names on the projector" in readme


def independent_run(config: cf.ExplorerConfig, mode: str) -> np.ndarray:
    """Rule ``mode``'s path at the view's every setting, from the engine directly (float32, as sent)."""
    run = ls.simulate(config.landscape, config.start, lr=config.lr, steps=config.steps, clip=mode,
                      threshold=config.threshold_of(mode), optimizer=config.optimizer,
                      clip_options=config.clip_options_of(mode), optimizer_options=config.optimizer_options,
                      dtype=config.dtype, noise=config.noise_settings, **config.params)  # fmt: skip
    return np.asarray(run.params, dtype=np.float32)


@pytest.mark.parametrize("key", [cf.PRESETS[0].key, "crawl"])
def test_a_students_map_carries_only_the_questions_own_paths(store, key):
    from landscapes.views.map_payload import payload_bytes, unpack_points

    config = cf.preset(key).config
    room = store.create_room()
    store.ask(room.code, room.secret, config)
    asked = store.student_view(room.code, store.join(room.code, session=f"m-{key}").token).question.config
    at = class_page(dict(code=room.code, me=store.join(room.code, session=f"n-{key}").token))
    clean(at)

    def check(payload, modes):
        assert [p["mode"] for p in payload["paths"]] == list(modes)
        # one run per rule, no slider cross: the sliders have the question's values only
        assert payload["lr_values"] == [asked.lr] and payload["c_values"] == [asked.threshold]
        for entry in payload["paths"]:
            assert entry["lr_runs"] == [0] and entry["c_runs"] == [0] and len(entry["lengths"]) == 1
            expected = independent_run(asked, entry["mode"])
            sent = unpack_points(entry, payload["steps"])[0, : entry["lengths"][0]]
            np.testing.assert_allclose(sent, expected[: len(sent)], rtol=1e-6, atol=1e-6)
            assert len(sent) == min(len(expected), asked.steps + 1)
        assert payload_bytes(payload) < 30_000  # the Explorer's cross of the same view: ~140 KB

    check(map_payload(at), [m for m in asked.paths if m != "none"])
    store.reveal(room.code, room.secret)
    at.run()
    clean(at)
    check(map_payload(at), asked.paths)


def test_room_state_is_what_a_students_page_polls(tmp_path):
    now = [1000.0]
    store = ClassStore(f"sqlite:///{tmp_path / 'poll.sqlite3'}", clock=lambda: now[0], idle_seconds=600)
    room = store.create_room()
    token = store.join(room.code, session="p").token

    def seen() -> tuple[str, int]:  # what the page compares the poll with (student_page)
        view = store.student_view(room.code, token)
        return view.state, view.question.number if view.question else 0

    assert store.room_state(room.code) == seen() == ("waiting", 0)
    store.ask(room.code, room.secret, cf.ExplorerConfig())
    assert store.room_state(room.code.lower()) == seen() == ("asked", 1)
    store.reveal(room.code, room.secret)
    assert store.room_state(room.code) == seen() == ("revealed", 1)
    store.next_question(room.code, room.secret)
    assert store.room_state(room.code) == seen() == ("waiting", 0)
    store.ask(room.code, room.secret, cf.ExplorerConfig(lr=0.1))
    assert store.room_state(room.code) == seen() == ("asked", 2)
    assert store.room_state("KPX3A9") is None and store.room_state("no!") is None
    now[0] += 601  # idle for longer than the room may be: the poll sees it gone
    assert store.room_state(room.code) is None
    now[0] -= 601
    store.close(room.code, room.secret)
    assert store.room_state(room.code) is None


def test_the_readme_starts_replicas_as_the_cluster_does():
    from deploy import cluster

    readme = " ".join((Path(APP).parent / "README.md").read_text().split())
    assert f"streamlit run app.py --server.port PORT {' '.join(cluster.SERVING_OPTIONS)}" in readme


def test_the_join_link_fills_the_code_in(store):
    room = store.create_room()
    at = class_page({"code": room.code.lower()})
    clean(at)
    assert at.text_input(key="cl_join_code").value == room.code
    at.button[0].click().run()
    assert "me" in at.query_params and at.query_params["code"] == room.code
    assert store.teacher_view(room.code, room.secret).students == 1


def test_the_apps_own_config_sets_the_serving_options_too():
    import tomllib

    from deploy import cluster

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    options = dict(zip(cluster.SERVING_OPTIONS[::2], cluster.SERVING_OPTIONS[1::2], strict=True))
    assert options == {"--runner.postScriptGC": "false", "--server.fileWatcherType": "none"}
    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["fileWatcherType"] == "none"
