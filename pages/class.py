"""Class: the whole class plays "predict, then reveal" on the same map.

(The file is named after its url_path, ``class``, like every page here: on a fresh server Streamlit
looks a deep link up among the files in pages/ before app.py's router has run, so a page whose
file name differs from its path would greet the first visitor of ``/class`` with "Page not
found".)

The teacher opens a room (its code, join link and QR code go on the projector), asks a question
(a preset or an Explorer view), watches the guesses arrive as a cloud, then reveals the paths.
Students join with the code on their phones, click their guess and submit it.

Who is who is in the URL, so a reload or a reconnect to another server loses nothing:
``?code=KPX3A9`` is the join link, ``&me=<token>`` a student who joined, ``&teacher=<secret>`` the
teacher's private link (only the teacher's page ever holds the secret). The rules (who may do
what, validation, rate limits, expiry) live in ``classroom``; this page only shows them.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit

import streamlit as st

import classroom
import ui
from classroom import ClassroomError, ClassStore, QuestionInfo, StudentView, TeacherView
from landscapes.figures import classroom as fc
from landscapes.figures.explorer import SURFACE_COLORSCALE
from landscapes.figures.palette import WALL_COLOR
from landscapes.views import config as cf
from landscapes.views.explorer import ExplorerRuns, run_modes
from landscapes.views.map_payload import MapCross, map_payload
from ui.cliffs_map import cliffs_map

ui.init_page()
ss = st.session_state

#: How often the teacher's view reads the guesses, and a student's page the room's state (seconds).
TEACHER_REFRESH = 1.5
STUDENT_REFRESH = 2.0
SURFACE_RESOLUTION = 200
FALLBACK_BASE = "http://localhost:8501"

CLASS_CSS = """
<style>
.class-code-box { container-type: inline-size; }
/* six characters and their spacing fill at most the column's width (20cqw each) */
.class-code { font: 700 min(4.2rem, 19cqw)/1.1 ui-monospace, "DejaVu Sans Mono", monospace;
  letter-spacing: .18em; color: #1f2937; margin: .1rem 0 .4rem; white-space: nowrap; }
.class-code-small { font-size: min(2.6rem, 19cqw); }
.class-count { font: 700 3rem/1.1 system-ui, sans-serif; color: #0b6e99; }
.class-count-label { color: #4b5563; font-size: 1.1rem; }
.class-count-big .class-count-label { font-size: 1.6rem; }
.class-code-big { font-size: min(7rem, 19cqw); }
/* a student's map shows the question as asked: its learning-rate and c sliders have one value */
.st-key-cl_student_map .cm-sliders { display: none; }
</style>
"""


# --- the store and the cached computations -------------------------------------------


@st.cache_resource(show_spinner=False)
def class_store() -> ClassStore:
    """One store per server process (CLIFFS_DB, or SQLite in the data folder)."""
    return ClassStore()


@st.cache_resource(max_entries=16, show_spinner=False)
def question_runs(query: str) -> ExplorerRuns:
    """The question's runs (every rule it shows), per question query."""
    config, _ = cf.from_query(dict(parse_qsl(query)))
    return run_modes(config)


def fixed_cross(result: ExplorerRuns, modes: tuple[str, ...]) -> MapCross:
    """The map component's runs for a question, which is fixed: the question's own run of each rule
    in ``modes`` and no others (a one-value "cross", so the map's sliders have nothing to move to).

    The Explorer sends every value of both sliders (45 x 45 runs per rule, ~140 KB for the first
    preset); a student's phone only needs the question's paths (~22 KB with the background), and
    they are the very runs the reveal's sentences and the projector's map are computed from.
    """
    config = replace(result.config, paths=modes)
    one = {mode: [0] for mode in modes}
    runs = {mode: [result.runs[mode]] for mode in modes}
    return MapCross(config, (config.lr,), 0, (config.threshold,), 0, runs, one, dict(one))


def session_key() -> str:
    """This page session's key for the rate limits."""
    if "cl_session" not in ss:
        ss.cl_session = secrets.token_urlsafe(12)
    return ss.cl_session


def notice(message: str) -> None:
    ss.cl_notice = message


def show_notice() -> None:
    message = ss.pop("cl_notice", None)
    if message:
        st.warning(message, icon=":material/info:")


def attempt(action, *args, **kwargs):
    """Runs a store action; a refusal (bad code, rate limit, wrong state...) becomes a notice."""
    try:
        return action(*args, **kwargs)
    except ClassroomError as error:
        notice(error.message)
    except Exception as error:  # a database that went away, say: a sentence, never a traceback
        ui.LOG.exception("class store action failed")
        notice(f"The class's database did not answer ({type(error).__name__}). Try again in a moment.")
    return None


def base_url() -> str:
    url = (st.context.url or "").rstrip("/")
    if not url:
        return FALLBACK_BASE
    return url[: -len(classroom.qr.CLASS_PATH)] if url.endswith(classroom.qr.CLASS_PATH) else url


def present() -> bool:
    return st.query_params.get("present") in ("1", "true")


# --- the teacher's actions (widget callbacks) ---------------------------------------------


def start_room() -> None:
    ticket = attempt(class_store().create_room)
    if ticket is not None:
        ss.cl_teacher = (ticket.code, ticket.secret)
        ss.pop("cl_student", None)
        st.query_params.from_dict({"code": ticket.code, "teacher": ticket.secret})


def question_config(source: str) -> cf.ExplorerConfig | None:
    """The Explorer view the teacher chose, with the unclipped path among its paths."""
    if source == "preset":
        config = cf.preset(ss.get("cl_preset") or cf.PRESETS[0].key).config
    elif source == "explorer":
        config = ss.get("ex_settings")
        if not isinstance(config, cf.ExplorerConfig):
            notice("Open the Cliff Explorer first: its settings become the question.")
            return None
    else:
        link = str(ss.get("cl_link") or "").strip()
        query = urlsplit(link).query if "?" in link else link
        if not query:
            notice("Paste a link to an Explorer view (copy it from the address bar on the Explorer).")
            return None
        config, notices = cf.from_query(dict(parse_qsl(query)))
        if notices:
            notice("This link's settings are not valid: " + " ".join(notices))
            return None
    paths = config.paths if "none" in config.paths else ("none", *config.paths[: cf.MAX_PATHS - 1])
    return replace(config, paths=paths, present=False, predict=False, scrub="", view3d=False)


def ask(code: str, secret: str) -> None:
    config = question_config(ss.get("cl_source") or "preset")
    if config is not None:
        attempt(class_store().ask, code, secret, config)


def reveal(code: str, secret: str) -> None:
    attempt(class_store().reveal, code, secret)


def next_question(code: str, secret: str) -> None:
    attempt(class_store().next_question, code, secret)


def toggle_names(code: str, secret: str) -> None:
    attempt(class_store().set_show_names, code, secret, bool(ss.get("cl_show_names")))


def close_room(code: str, secret: str) -> None:
    attempt(class_store().close, code, secret)
    ss.pop("cl_teacher", None)
    st.query_params.clear()


# --- the students' actions -------------------------------------------------------------


def join(code_key: str) -> None:
    ticket = attempt(
        class_store().join, ss.get(code_key) or "", session=session_key(), name=ss.get("cl_name") or None
    )
    if ticket is not None:
        ss.cl_student = (ticket.code, ticket.token)
        ss.pop("cl_pending", None)
        st.query_params.from_dict({"code": ticket.code, "me": ticket.token})


def place_guess(x: float, y: float, window) -> None:
    (x0, x1), (y0, y1) = window
    ss.cl_pending = (min(max(x, x0), x1), min(max(y, y0), y1))


def submit(code: str, token: str) -> None:
    pending = ss.get("cl_pending")
    if pending is None:
        notice("Click on the map first: your guess is where you click.")
        return
    point = attempt(class_store().submit_guess, code, token, pending[0], pending[1], session=session_key())
    if point is not None:
        ss.cl_pending = None


# --- pieces ------------------------------------------------------------------------------


def markdown_text(text: str) -> str:
    """``text`` shown as it is inside Streamlit's Markdown (no link, emphasis or HTML from a name)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~:$" else ch for ch in text)


def code_html(code: str, size: str = "") -> str:
    """The join code, large enough to read from the back of the room (``size``: "small", "big")."""
    cls = f"class-code class-code-{size}" if size else "class-code"
    inner = f'<div data-testid="class-code" class="{cls}">{html.escape(code)}</div>'
    return f'<div class="class-code-box">{inner}</div>'


def count_html(view: TeacherView, big: bool = False) -> str:
    label = "guess" if view.count == 1 else "guesses"
    joined = f"{view.students} joined"
    return (
        f'<div class="{"class-count-big" if big else ""}">'
        f'<span data-testid="class-count" class="class-count">{view.count}</span> '
        f'<span class="class-count-label">{label} · {joined}</span></div>'
    )


def question_map(question: QuestionInfo, guesses, *, revealed: bool, height: int, font_size: int) -> None:
    """The class's cloud on the map (a Plotly figure: many points, names optional)."""
    result = question_runs(question.query)
    config = result.config
    params = tuple(sorted(config.params.items()))
    figure = fc.class_map_figure(
        ui.surface(config.landscape, params, SURFACE_RESOLUTION),
        result,
        [(g.x, g.y, g.name) for g in guesses],
        revealed=revealed,
        height=height,
        font_size=font_size,
        image=ui.surface_image(config.landscape, params, SURFACE_RESOLUTION),
    )
    ui.plot(figure, key="cl_cloud")


def result_sentences(question: QuestionInfo, guesses, mine=None) -> list[str]:
    result = question_runs(question.query)
    answer = fc.answer_of(result.runs["none"], result.window)
    spread = fc.class_spread([(g.x, g.y) for g in guesses], answer, result.window)
    lines = [fc.answer_sentence(answer)]
    if mine is not False:
        lines.append(fc.own_sentence(None if mine is None else (mine.x, mine.y), answer, result.window))
    lines.append(fc.spread_sentence(spread))
    return lines


# --- the teacher's page --------------------------------------------------------------------


def question_chooser(code: str, secret: str) -> None:
    sources = ["preset", "link"] + (
        ["explorer"] if isinstance(ss.get("ex_settings"), cf.ExplorerConfig) else []
    )
    words = {"preset": "a preset", "link": "an Explorer link", "explorer": "my Explorer view"}
    st.radio("Ask about", sources, key="cl_source", horizontal=True, format_func=words.__getitem__)
    source = ss.get("cl_source") or "preset"
    if source == "preset":
        st.selectbox(
            "Preset",
            [p.key for p in cf.PRESETS],
            key="cl_preset",
            format_func=lambda key: cf.preset(key).label,
        )
        st.caption(cf.preset(ss.get("cl_preset") or cf.PRESETS[0].key).caption)
    elif source == "link":
        st.text_input(
            "Explorer link",
            key="cl_link",
            placeholder="paste the address of an Explorer view",
            help="Set up a view on the Cliff Explorer, copy its address and paste it here.",
        )
    else:
        config = ss.ex_settings
        st.caption(
            f"Your Explorer view: {config.scape.title}, start ({config.start[0]:g}, {config.start[1]:g}), "
            f"learning rate {config.lr:g}, c = {config.threshold:g}, {config.steps} steps."
        )
    st.button(
        "Ask", type="primary", key="cl_ask", on_click=ask, args=(code, secret), icon=":material/campaign:"
    )


@st.fragment(run_every=TEACHER_REFRESH)
def live_view(code: str, secret: str, seen: tuple, big: bool) -> None:
    """The count and the cloud, read again every TEACHER_REFRESH seconds (this part only)."""
    try:
        view = class_store().teacher_view(code, secret)
    except ClassroomError:
        st.rerun()  # the room closed: the whole page says so
    if (view.state, view.question.number if view.question else 0) != seen:
        st.rerun()  # asked or revealed elsewhere (another tab): redraw the controls too
    st.html(count_html(view, big))
    if view.question is not None:
        question_map(
            view.question,
            view.guesses,
            revealed=view.state == "revealed",
            height=700 if big else 600,
            font_size=18 if big else 14,
        )


def teacher_page(code: str, secret: str) -> None:
    store = class_store()
    try:
        view = store.teacher_view(code, secret)
    except ClassroomError as error:
        ss.pop("cl_teacher", None)
        st.error(error.message, icon=":material/door_front:")
        st.button("Start a new room", key="cl_start_again", on_click=start_room, type="primary")
        return
    big = present()
    if big:
        ui.presentation_style()
    link = classroom.join_link(base_url(), view.code)
    question = view.question
    number = question.number if question else 0

    left, right = st.columns([1, 2] if big else [1, 3], gap="large")
    with left:
        st.markdown("**Join with this code** at the Class page")
        st.html(code_html(view.code, "big" if big else ""))
        st.image(classroom.join_qr_png(link, scale=10), width=360 if big else 200)
        st.markdown(f"or open [{link}]({link})")
        if not big:
            private = urlencode({"code": view.code, "teacher": secret})
            teacher_link = f"{base_url()}{classroom.qr.CLASS_PATH}?{private}"
            with st.expander("Your teacher link (keep it private)", icon=":material/key:"):
                st.caption(
                    "Only this link can ask, reveal and close the room. Open it on the projector's computer "
                    "(full screen hides the address bar) and never share it with the class."
                )
                st.code(teacher_link, language=None)
                st.markdown(f"[Projector view]({teacher_link}&present=1)")
        if "cl_show_names" not in ss:
            ss.cl_show_names = view.show_names
        st.toggle(
            "Names on the projector",
            key="cl_show_names",
            on_change=toggle_names,
            args=(code, secret),
            help="Off: guesses are anonymous points. Students never see each other's names or guesses "
            "before the reveal.",
        )
    with right:
        show_notice()
        if view.state == "waiting":
            st.subheader("Next question" if number else "Ask the class a question")
            question_chooser(code, secret)
        elif view.state == "asked":
            assert question is not None
            st.markdown(f"**Question {question.number}.** {fc.question_sentence(question.config.steps)}")
            st.button(
                "Reveal",
                type="primary",
                key="cl_reveal",
                on_click=reveal,
                args=(code, secret),
                icon=":material/visibility:",
            )
        else:
            assert question is not None
            for line in result_sentences(question, view.guesses, mine=False):
                st.markdown(line)
            st.button(
                "Next question",
                type="primary",
                key="cl_next",
                on_click=next_question,
                args=(code, secret),
                icon=":material/skip_next:",
            )
        live_view(code, secret, (view.state, number), big)
        if not big:
            st.button(
                "Close the room",
                key="cl_close",
                on_click=close_room,
                args=(code, secret),
                help="Deletes the room with every guess in it.",
            )


# --- the students' page ------------------------------------------------------------------


def join_form(code: str = "") -> None:
    show_notice()
    if code:
        try:
            code = classroom.normalize_code(code)
        except ClassroomError:
            code = ""
    if code and ss.get("cl_join_seeded") != code:  # a join link fills the code in (once per link)
        ss.cl_join_code = code
        ss.cl_join_seeded = code
    with st.form("cl_join", border=True):
        st.text_input("Room code", key="cl_join_code", max_chars=12, placeholder="the code on the projector")
        st.text_input(
            f"Your name (optional, at most {classroom.MAX_NAME_LENGTH} characters)",
            key="cl_name",
            max_chars=classroom.MAX_NAME_LENGTH,
            help="Your teacher may show names on the projector; other students never see them before "
            "the reveal.",
        )
        st.form_submit_button("Join", type="primary", on_click=join, args=("cl_join_code",))


@st.fragment(run_every=STUDENT_REFRESH)
def watch_room(code: str, seen: tuple) -> None:
    """Reads the room's state every STUDENT_REFRESH seconds (one small query); the page redraws
    when it changes (an ask, a reveal, the next question, the room closed or expired)."""
    try:
        now = class_store().room_state(code)
    except Exception:  # the database is away for a moment: the next poll tries again
        ui.LOG.warning("class room poll failed", exc_info=True)
        return
    if now != seen:
        st.rerun()


def student_map(view: StudentView) -> None:
    """The Explorer's map component on the question, the unclipped path left out until the reveal."""
    question = view.question
    assert question is not None
    config = question.config
    revealed = view.state == "revealed"
    shown = config if revealed else replace(config, paths=tuple(m for m in config.paths if m != "none"))
    window = config.scape.window
    if revealed:
        guess = (view.my_guess.x, view.my_guess.y) if view.my_guess else None
    else:
        guess = ss.get("cl_pending") or ((view.my_guess.x, view.my_guess.y) if view.my_guess else None)
    params = tuple(sorted(config.params.items()))
    payload = map_payload(
        fixed_cross(question_runs(question.query), shown.paths),
        window=window,
        axis_labels=config.scape.axis_labels,
        walls=config.scape.walls(dict(config.params), window),
        image=ui.surface_image(config.landscape, params, SURFACE_RESOLUTION),
        guess=guess,
        wall_color=WALL_COLOR,
        colour_scale=SURFACE_COLORSCALE,
        height=520,
    )
    with st.container(key="cl_student_map"):
        cliffs_map(
            payload,
            key="cl_map",
            on_commit=lambda lr, c: None,  # no slider to move: the question stays as asked
            on_click=(lambda x, y: None) if revealed else (lambda x, y: place_guess(x, y, window)),
            on_reset=lambda: None,
        )


def student_page(code: str, token: str) -> None:
    try:
        view = class_store().student_view(code, token)
    except ClassroomError as error:
        ss.pop("cl_student", None)
        st.error(error.message, icon=":material/door_front:")
        join_form(code)
        return
    question = view.question
    number = question.number if question else 0
    if ss.get("cl_question") != (view.code, number):  # a new question: forget the last click
        ss.cl_question, ss.cl_pending = (view.code, number), None
    who = f" as {markdown_text(view.name)}" if view.name else ""
    st.html(code_html(view.code, "small"))
    st.caption(f"You joined room {view.code}{who}.")
    show_notice()
    if view.state == "waiting":
        st.info(
            "Waiting for your teacher's question… this page updates by itself.",
            icon=":material/hourglass_top:",
        )
    elif view.state == "asked":
        assert question is not None
        st.markdown(f"**Question {question.number}.** {fc.question_sentence(question.config.steps)}")
        # Side by side on a wide screen; on a phone the columns stack: the map, then the button.
        map_col, side_col = st.columns([5, 2], gap="medium")
        with map_col:
            student_map(view)
        with side_col:
            pending = ss.get("cl_pending")
            mine = view.my_guess
            if mine is not None and (pending is None or pending == (mine.x, mine.y)):
                st.success(
                    f"Your guess ({mine.x:.3g}, {mine.y:.3g}) is in. You may click elsewhere and submit "
                    "again until your teacher reveals the answer.",
                    icon=":material/check_circle:",
                )
            elif pending is not None:
                st.caption(f"Your guess: ({pending[0]:.3g}, {pending[1]:.3g}). Submit it when you are sure.")
            else:
                st.caption("Click the map to place your guess.")
            st.button(
                "Submit my guess",
                type="primary",
                key="cl_submit",
                on_click=submit,
                args=(code, token),
                disabled=pending is None,
                icon=":material/send:",
            )
    else:
        assert question is not None
        st.markdown(f"**Question {question.number}: the answer.**")
        map_col, side_col = st.columns([5, 2], gap="medium")
        with side_col:
            for line in result_sentences(question, view.class_guesses, mine=view.my_guess):
                st.markdown(line)
        with map_col:
            student_map(view)
            st.subheader("Everyone's guesses")
            question_map(question, view.class_guesses, revealed=True, height=460, font_size=12)
    watch_room(view.code, (view.state, number))


# --- the landing page --------------------------------------------------------------------------


def landing() -> None:
    st.markdown(
        "Play *predict, then reveal* with a whole class: everyone guesses where plain gradient descent "
        "ends, the projector shows every guess as a cloud, then the real paths appear."
    )
    show_notice()
    student, teacher = st.columns(2, gap="large")
    with student:
        st.subheader("Join a class")
        join_form()
    with teacher:
        st.subheader("Teach a class")
        st.markdown(
            "Open a room: you get a short code and a QR code for the projector, and a private link "
            "that only you should keep. Rooms are deleted after two idle hours."
        )
        st.button("Start a room", type="primary", key="cl_start", on_click=start_room, icon=":material/add:")


def render() -> None:
    st.html(CLASS_CSS)
    query = st.query_params.to_dict()
    if not query.get("code"):
        # Back from another page of the app (the link lost its query): the session remembers.
        if "cl_teacher" in ss:
            code, secret = ss.cl_teacher
            st.query_params.from_dict(query := {"code": code, "teacher": secret})
        elif "cl_student" in ss:
            code, token = ss.cl_student
            st.query_params.from_dict(query := {"code": code, "me": token})
    code = query.get("code", "")
    if not present():
        st.title("Class")
    if code and query.get("teacher"):
        teacher_page(code, query["teacher"])
    elif code and query.get("me"):
        student_page(code, query["me"])
    elif code:
        st.markdown("Join the class: give your name if you like, then press **Join**.")
        join_form(code)
    else:
        landing()


ui.guarded(render)
