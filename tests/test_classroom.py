"""Class mode's store against SQLite and a real PostgreSQL server: rooms, the question's state
machine, the guess upsert (also under concurrent writers), authorization, validation, expiry,
rate limits and the versioned schema."""

from __future__ import annotations

import base64
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
import sqlalchemy as sa

import classroom
from classroom import (
    CODE_ALPHABET,
    IDLE_SECONDS,
    SCHEMA_VERSION,
    ClassStore,
    InvalidInput,
    Limit,
    NotAuthorized,
    RateLimited,
    RateLimiter,
    RoomExpired,
    RoomNotFound,
    SchemaTooNew,
    WrongState,
    database_url,
    migrate,
    schema_version,
)
from classroom import text as ctext
from classroom.models import Base
from landscapes import get_landscape
from landscapes.views.config import ExplorerConfig, from_query, preset, to_query

#: Rate limits that never bite, for tests about something else.
NO_LIMIT = Limit(burst=10**9, every=1.0)
TABLES = ("rooms", "students", "questions", "guesses")


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'class.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_store(db_url, clock):
    stores: list[ClassStore] = []

    def make(**kwargs) -> ClassStore:
        kwargs = {"clock": clock, "join_limit": NO_LIMIT, "submit_limit": NO_LIMIT, **kwargs}
        store = ClassStore(db_url, **kwargs)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.engine.dispose()


@pytest.fixture
def store(make_store):
    return make_store()


def rows(store: ClassStore, table: str) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]


QUESTION = preset("catapult").config
WINDOW = get_landscape(QUESTION.landscape).window


def open_question(store: ClassStore, n_students: int = 1, question=QUESTION):
    room = store.create_room()
    students = [store.join(room.code, session=f"s{i}", name=f"Student {i}") for i in range(n_students)]
    store.ask(room.code, room.secret, question)
    return room, students


# -- rooms, codes and secrets ---------------------------------------------------------------------


def test_the_code_alphabet_has_no_look_alikes():
    look_alikes = ["0OQD", "1IL", "2Z", "5S", "8B", "6G", "UV"]
    for group in look_alikes:
        assert len(set(group) & set(CODE_ALPHABET)) <= 0, group
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) >= 16
    assert CODE_ALPHABET == CODE_ALPHABET.upper()


def test_rooms_get_distinct_codes_and_strong_hashed_secrets(store):
    tickets = [store.create_room() for _ in range(30)]
    assert len({t.code for t in tickets}) == 30
    for ticket in tickets:
        assert len(ticket.code) == 6 and set(ticket.code) <= set(CODE_ALPHABET)
        raw = base64.urlsafe_b64decode(ticket.secret + "=" * (-len(ticket.secret) % 4))
        assert len(raw) * 8 >= 128
    assert len({t.secret for t in tickets}) == 30
    stored = rows(store, "rooms")
    dump = repr(stored)
    assert not any(t.secret in dump for t in tickets)  # only the hashes are stored
    assert {r["secret_hash"] for r in stored} == {ctext.hash_secret(t.secret) for t in tickets}


def test_the_secret_is_compared_in_constant_time(store, monkeypatch):
    room = store.create_room()
    calls = []
    real = ctext.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(ctext.hmac, "compare_digest", spy)
    assert store.is_teacher(room.code, room.secret)
    assert not store.is_teacher(room.code, room.secret[:-1] + ("A" if room.secret[-1] != "A" else "B"))
    assert len(calls) == 2


def test_codes_are_normalized_and_malformed_or_unknown_codes_get_clear_messages(store):
    room = store.create_room()
    typed = "-".join([room.code[:3].lower(), room.code[3:]])
    assert store.join(f"  {typed} ", session="s").code == room.code
    for bad in ["", "ABC", "ABCDEFG", "AB0DEF", room.code[:5] + "O"]:
        with pytest.raises(InvalidInput, match="6 characters"):
            store.join(bad, session="s")
    free = next(c for c in ("AAAAAA", "CCCCCC", "EEEEEE") if c != room.code)
    with pytest.raises(RoomNotFound, match=f"no open room with the code {free}"):
        store.join(free, session="s")


# -- the state machine ------------------------------------------------------------------------------


def test_a_question_runs_asked_revealed_next(store):
    room, (ada, bo) = open_question(store, 2)
    view = store.teacher_view(room.code, room.secret)
    assert view.state == "asked" and view.question is not None and view.question.number == 1
    assert view.count == 0 and view.students == 2
    store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
    store.submit_guess(room.code, bo.token, 4.0, -3.0, session="b")
    assert store.teacher_view(room.code, room.secret).count == 2
    assert store.reveal(room.code, room.secret).state == "revealed"
    assert store.student_view(room.code, ada.token).state == "revealed"
    with pytest.raises(WrongState, match="revealed"):
        store.submit_guess(room.code, ada.token, 5.0, -2.5, session="a")
    store.next_question(room.code, room.secret)
    view = store.teacher_view(room.code, room.secret)
    assert (view.state, view.question, view.count) == ("waiting", None, 0)
    second = store.ask(room.code, room.secret, preset("crawl").config)
    assert second.number == 2 and second.state == "asked"
    assert store.teacher_view(room.code, room.secret).count == 0  # guesses belong to their question
    assert len(rows(store, "guesses")) == 2  # the first question's guesses are kept


def test_actions_out_of_order_are_refused(store):
    room = store.create_room()
    student = store.join(room.code, session="s")
    with pytest.raises(WrongState):
        store.reveal(room.code, room.secret)
    with pytest.raises(WrongState):
        store.next_question(room.code, room.secret)
    with pytest.raises(WrongState, match="no question"):
        store.submit_guess(room.code, student.token, 5.0, -2.0, session="s")
    store.ask(room.code, room.secret, QUESTION)
    with pytest.raises(WrongState, match="open"):
        store.ask(room.code, room.secret, QUESTION)
    with pytest.raises(WrongState):
        store.next_question(room.code, room.secret)
    store.reveal(room.code, room.secret)
    with pytest.raises(WrongState):
        store.reveal(room.code, room.secret)


def test_a_question_is_stored_as_the_explorers_query_and_reads_back(store):
    config = ExplorerConfig(landscape="ravine", params={"steepness": 100.0}, start=(2.9, 2.6), lr=10.0)
    room = store.create_room()
    info = store.ask(room.code, room.secret, config)
    assert info.query == urlencode(to_query(config))
    assert from_query(dict(parse_qsl(info.query)))[0] == config
    assert info.config == config
    assert info.window == get_landscape("ravine").window
    # A query string and a mapping are accepted too, and stored in the same canonical form.
    store.reveal(room.code, room.secret)
    store.next_question(room.code, room.secret)
    assert store.ask(room.code, room.secret, "?" + info.query).query == info.query


def test_a_question_the_explorer_would_correct_is_refused(store):
    room = store.create_room()
    with pytest.raises(InvalidInput, match="not valid"):
        store.ask(room.code, room.secret, "landscape=pascanu&lr=banana")
    assert store.teacher_view(room.code, room.secret).state == "waiting"


# -- guesses: the upsert and validation ------------------------------------------------------------------


def test_a_student_has_one_guess_per_question_the_latest(store, clock):
    room, (ada,) = open_question(store)
    store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
    clock.advance(3)
    store.submit_guess(room.code, ada.token, 4.25, -1.5, session="a")
    (row,) = rows(store, "guesses")
    assert (row["x"], row["y"], row["revision"]) == (4.25, -1.5, 2)
    assert row["updated_at"] - row["created_at"] == 3
    assert store.student_view(room.code, ada.token).my_guess.x == 4.25


@pytest.mark.parametrize(
    "x, y", [(math.nan, -2.0), (5.0, math.inf), (-math.inf, -2.0), ("5", -2.0), (True, -2.0), (None, -2.0)]
)
def test_guesses_must_be_finite_numbers(store, x, y):
    room, (ada,) = open_question(store)
    with pytest.raises(InvalidInput, match="number"):
        store.submit_guess(room.code, ada.token, x, y, session="a")
    assert rows(store, "guesses") == []


def test_guesses_must_lie_inside_the_landscapes_window(store):
    (x0, x1), (y0, y1) = WINDOW
    room, (ada,) = open_question(store)
    eps = 1e-9
    for x, y in [(x0 - eps, y0), (x1 + eps, y1), (x0, y0 - eps), (x1, y1 + eps), (x0 - 100, (y0 + y1) / 2)]:
        with pytest.raises(InvalidInput, match="on the map"):
            store.submit_guess(room.code, ada.token, x, y, session="a")
    for x, y in [(x0, y0), (x1, y1)]:  # the edges belong to the map
        store.submit_guess(room.code, ada.token, x, y, session="a")
    (row,) = rows(store, "guesses")
    assert (row["x"], row["y"]) == (x1, y1)


def test_the_window_is_the_questions_landscape(store):
    config = ExplorerConfig(landscape="ravine", params={"steepness": 100.0}, start=(2.9, 2.6))
    (_, x1), (y0, _) = get_landscape("ravine").window
    assert get_landscape("ravine").window != WINDOW
    room, (ada,) = open_question(store, question=config)
    store.submit_guess(room.code, ada.token, x1, y0, session="a")
    with pytest.raises(InvalidInput):
        store.submit_guess(room.code, ada.token, x1 + 1e-6, y0, session="a")


def test_names_are_optional_cleaned_and_at_most_20_characters(store):
    room = store.create_room()
    assert store.join(room.code, session="s").name is None
    assert store.join(room.code, session="s", name="   ").name is None
    assert (
        store.join(room.code, session="s", name="Ada\x1b[2J\u202e\n Lovelace\x00").name == "Ada[2J Lovelace"
    )
    assert store.join(room.code, session="s", name="x" * 20).name == "x" * 20
    with pytest.raises(InvalidInput, match="at most 20"):
        store.join(room.code, session="s", name="x" * 21)
    names = [r["name"] for r in rows(store, "students")]
    assert names == [None, None, "Ada[2J Lovelace", "x" * 20]
    assert all(not any(ord(ch) < 32 for ch in n) for n in names if n)


def test_names_are_escaped_for_html():
    assert ctext.name_html('<img src=x onerror="a()">') == "&lt;img src=x onerror=&quot;a()&quot;&gt;"
    assert ctext.name_html(None) == "anonymous"


def test_a_student_can_rename_and_clear_their_name(store):
    room = store.create_room()
    ada = store.join(room.code, session="s", name="Ada")
    assert store.rename(room.code, ada.token, " Ada L. ") == "Ada L."
    assert store.rename(room.code, ada.token, "") is None
    assert rows(store, "students")[0]["name"] is None


# -- authorization ---------------------------------------------------------------------------------


def teacher_actions(store: ClassStore, code: str, key: str):
    return {
        "ask": lambda: store.ask(code, key, QUESTION),
        "reveal": lambda: store.reveal(code, key),
        "next_question": lambda: store.next_question(code, key),
        "set_show_names": lambda: store.set_show_names(code, key, True),
        "teacher_view": lambda: store.teacher_view(code, key),
        "close": lambda: store.close(code, key),
    }


def test_a_student_calling_the_teachers_actions_is_refused(store):
    room, (ada,) = open_question(store)
    other = store.create_room()
    wrong = {
        "student token": ada.token,
        "another room's secret": other.secret,
        "empty": "",
        "none": None,
        "the code": room.code,
        "secret with a changed letter": room.secret[:-1] + ("A" if room.secret[-1] != "A" else "B"),
    }
    for label, key in wrong.items():
        for action, call in teacher_actions(store, room.code, key).items():
            with pytest.raises(NotAuthorized, match="teacher's link"):
                call()
            assert not store.is_teacher(room.code, key), (label, action)
    view = store.teacher_view(room.code, room.secret)  # nothing changed
    assert (view.state, view.show_names, view.question.number) == ("asked", False, 1)
    assert store.is_teacher(room.code, room.secret)


def test_a_student_token_works_only_in_its_own_room(store):
    room, _ = open_question(store)
    _, (bo,) = open_question(store)
    with pytest.raises(NotAuthorized, match="not joined"):
        store.submit_guess(room.code, bo.token, 5.0, -2.0, session="b")
    with pytest.raises(NotAuthorized):
        store.student_view(room.code, bo.token)
    with pytest.raises(NotAuthorized):
        store.student_view(room.code, "made-up-token")
    with pytest.raises(NotAuthorized):
        store.submit_guess(room.code, room.secret, 5.0, -2.0, session="t")  # the secret is no student
    assert rows(store, "guesses") == []


def test_before_the_reveal_a_student_sees_no_one_elses_name_or_guess(store):
    room, (ada, bo, cy) = open_question(store, 3)
    store.rename(room.code, bo.token, "Bo Secretname")
    store.set_show_names(room.code, room.secret, True)
    store.submit_guess(room.code, bo.token, 4.123, -2.456, session="b")
    store.submit_guess(room.code, cy.token, 6.25, -3.75, session="c")
    store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
    view = store.student_view(room.code, ada.token)
    assert view.class_guesses == ()
    assert view.my_guess.x == 5.0 and view.my_guess.y == -2.0
    dump = repr(view)
    for leaked in ["Bo Secretname", "Student 2", "4.123", "-2.456", "6.25", "-3.75"]:
        assert leaked not in dump
    # After the reveal everyone's guesses come, names only because the teacher turned them on.
    store.reveal(room.code, room.secret)
    revealed = store.student_view(room.code, ada.token).class_guesses
    assert sorted((g.x, g.y) for g in revealed) == [(4.123, -2.456), (5.0, -2.0), (6.25, -3.75)]
    assert {g.name for g in revealed} == {"Bo Secretname", "Student 2", "Student 0"}
    assert [g.mine for g in revealed].count(True) == 1


def test_names_stay_off_the_projector_unless_the_teacher_shows_them(store):
    room, (ada, bo) = open_question(store, 2)
    store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
    store.submit_guess(room.code, bo.token, 4.0, -2.0, session="b")
    assert {g.name for g in store.teacher_view(room.code, room.secret).guesses} == {None}
    store.set_show_names(room.code, room.secret, True)
    assert {g.name for g in store.teacher_view(room.code, room.secret).guesses} == {"Student 0", "Student 1"}
    store.set_show_names(room.code, room.secret, False)
    store.reveal(room.code, room.secret)
    seen_by_bo = store.student_view(room.code, bo.token).class_guesses
    assert {(g.name, g.mine) for g in seen_by_bo} == {(None, False), ("Student 1", True)}


# -- expiry and closing ------------------------------------------------------------------------------


def test_an_idle_room_expires_with_all_its_data(store, clock):
    room, (ada,) = open_question(store)
    store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
    clock.advance(IDLE_SECONDS - 61)
    kept, (bo,) = open_question(store)  # another room, active later
    store.submit_guess(kept.code, bo.token, 5.0, -2.0, session="b")
    clock.advance(62)  # the first room has now been idle for IDLE_SECONDS + 1
    with pytest.raises(RoomExpired, match="2 hours"):
        store.student_view(room.code, ada.token)
    assert [r["code"] for r in rows(store, "rooms")] == [kept.code]
    (kept_id,) = [r["id"] for r in rows(store, "rooms")]
    for table in ("students", "questions"):
        assert {r["room_id"] for r in rows(store, table)} == {kept_id}
    assert len(rows(store, "guesses")) == 1
    with pytest.raises(RoomNotFound):  # deleted: now simply unknown
        store.join(room.code, session="x")


def test_activity_keeps_a_room_open_and_purge_removes_only_idle_rooms(store, clock):
    busy, (ada,) = open_question(store)
    store.create_room()  # and never used
    for _ in range(3):
        clock.advance(IDLE_SECONDS * 0.6)
        store.submit_guess(busy.code, ada.token, 5.0, -2.0, session="a")
    assert store.purge_expired() == 1
    assert [r["code"] for r in rows(store, "rooms")] == [busy.code]
    assert store.teacher_view(busy.code, busy.secret).count == 1
    clock.advance(IDLE_SECONDS + 1)
    assert store.purge_expired() == 1
    assert all(rows(store, t) == [] for t in TABLES)


def test_the_teacher_can_close_a_room(store):
    room, (ada,) = open_question(store)
    store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
    store.close(room.code, room.secret)
    assert all(rows(store, t) == [] for t in TABLES)
    with pytest.raises(RoomNotFound):
        store.student_view(room.code, ada.token)


def test_a_room_survives_a_restart(make_store):
    first = make_store()
    room, (ada,) = open_question(first)
    first.submit_guess(room.code, ada.token, 5.5, -2.5, session="a")
    first.engine.dispose()
    second = make_store()  # a new process on the same database
    view = second.teacher_view(room.code, room.secret)
    assert (view.state, view.count, view.guesses[0].x) == ("asked", 1, 5.5)
    assert second.student_view(room.code, ada.token).my_guess.y == -2.5


# -- rate limits -------------------------------------------------------------------------------------


def test_join_attempts_are_rate_limited_per_session(make_store, clock):
    store = make_store(join_limit=Limit(burst=3, every=10.0))
    room = store.create_room()
    for _ in range(3):
        with pytest.raises(RoomNotFound):
            store.join("CCCCCC" if room.code != "CCCCCC" else "EEEEEE", session="guesser")
    with pytest.raises(RateLimited, match="wait 10 s") as caught:
        store.join(room.code, session="guesser")
    assert caught.value.retry_after == pytest.approx(10.0)
    assert store.join(room.code, session="someone else").code == room.code
    clock.advance(10.0)
    assert store.join(room.code, session="guesser").code == room.code
    with pytest.raises(RateLimited):
        store.join(room.code, session="guesser")


def test_guess_submissions_are_rate_limited_per_session(make_store, clock):
    store = make_store(submit_limit=Limit(burst=4, every=0.5))
    room, (ada, bo) = open_question(store, 2)
    for i in range(4):
        store.submit_guess(room.code, ada.token, 5.0, -2.0 - i / 10, session="a")
    with pytest.raises(RateLimited):
        store.submit_guess(room.code, ada.token, 5.0, -3.0, session="a")
    store.submit_guess(room.code, bo.token, 5.0, -3.0, session="b")
    clock.advance(0.5)
    store.submit_guess(room.code, ada.token, 5.0, -3.0, session="a")
    assert sorted(r["revision"] for r in rows(store, "guesses")) == [1, 5]


def test_the_rate_limiter_refills_at_its_rate():
    clock = FakeClock(0.0)
    limiter = RateLimiter(Limit(burst=3, every=4.0), clock=clock)
    assert [limiter.wait_time("k") for _ in range(4)] == [0.0, 0.0, 0.0, 4.0]
    clock.advance(1.0)
    assert limiter.wait_time("k") == pytest.approx(3.0)  # a quarter of a token back
    clock.advance(3.0)
    assert limiter.wait_time("k") == 0.0
    clock.advance(100.0)  # refills up to the burst, not beyond
    assert [limiter.wait_time("k") for _ in range(4)] == [0.0, 0.0, 0.0, 4.0]
    with pytest.raises(ValueError):
        Limit(burst=0, every=1.0)


def test_the_rate_limiter_forgets_refilled_sessions():
    clock = FakeClock(0.0)
    limiter = RateLimiter(Limit(burst=1, every=1.0), clock=clock, max_keys=10)
    for i in range(10):
        limiter.wait_time(f"s{i}")
    clock.advance(5.0)
    limiter.wait_time("new")
    assert set(limiter._buckets) <= {"new"}
    assert limiter.wait_time("new") == 1.0  # the live bucket was kept


# -- the schema -----------------------------------------------------------------------------------------


def test_a_new_database_gets_the_current_schema(make_store):
    store = make_store()
    with store.engine.connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        assert set(sa.inspect(conn).get_table_names()) == {*TABLES, "schema_version"}
    assert rows(store, "schema_version") == [{"version": SCHEMA_VERSION}]
    assert migrate(store.engine) == SCHEMA_VERSION  # running it again changes nothing
    assert rows(store, "schema_version") == [{"version": SCHEMA_VERSION}]


def test_a_version_1_database_is_migrated_with_its_data(db_url, make_store, clock):
    # Version 1 is today's schema without rooms.show_names (added by step 2).
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        conn.execute(sa.text("ALTER TABLE rooms DROP COLUMN show_names"))
        conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (1)"))
        conn.execute(
            sa.text(
                "INSERT INTO rooms (code, secret_hash, created_at, last_activity)"
                " VALUES ('KPX3A9', :h, :t, :t)"
            ),
            {"h": ctext.hash_secret("old-secret"), "t": clock()},
        )
        assert "show_names" not in {c["name"] for c in sa.inspect(conn).get_columns("rooms")}
    engine.dispose()
    store = make_store()
    assert rows(store, "schema_version") == [{"version": SCHEMA_VERSION}]
    view = store.teacher_view("KPX3A9", "old-secret")
    assert view.show_names is False and view.state == "waiting"
    store.set_show_names("KPX3A9", "old-secret", True)
    assert store.teacher_view("KPX3A9", "old-secret").show_names is True


def test_a_database_from_a_newer_app_is_refused(db_url, make_store):
    make_store().engine.dispose()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = :v"), {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    with pytest.raises(SchemaTooNew):
        make_store()


def test_the_database_url_comes_from_the_environment(tmp_path):
    assert database_url({"CLIFFS_DB": "postgresql://me:pw@db:5432/cliffs"}) == (
        "postgresql+psycopg://me:pw@db:5432/cliffs"
    )
    assert database_url({"CLIFFS_DB": "sqlite:////x/y.db"}) == "sqlite:////x/y.db"
    assert database_url({"CLIFFS_DATA": str(tmp_path)}) == f"sqlite:///{tmp_path}/classroom.sqlite3"
    assert database_url({}).endswith("/data/classroom.sqlite3")
    store = ClassStore(database_url({"CLIFFS_DATA": str(tmp_path / "new" / "folder")}))
    store.create_room()
    store.engine.dispose()
    assert (tmp_path / "new" / "folder" / "classroom.sqlite3").exists()


# -- concurrent writers ---------------------------------------------------------------------------------


def run_together(n_threads: int, work):
    """Runs work(i) for i in range(n_threads) in threads released at the same moment."""
    barrier = threading.Barrier(n_threads)

    def start(i):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(start, range(n_threads)))


def test_concurrent_guesses_are_all_stored(store):
    n_threads, per_thread, rounds = 8, 5, 6
    room, students = open_question(store, n_threads * per_thread)
    (x0, x1), (y0, y1) = WINDOW

    def point(s: int, r: int) -> tuple[float, float]:
        return x0 + (x1 - x0) * (s + 1) / (len(students) + 1), y0 + (y1 - y0) * (r + 1) / (rounds + 1)

    def work(t: int) -> int:
        mine = range(t * per_thread, (t + 1) * per_thread)
        for r in range(rounds):
            for s in mine:
                store.submit_guess(room.code, students[s].token, *point(s, r), session=f"s{s}")
        return rounds * per_thread

    sent = sum(run_together(n_threads, work))
    stored = rows(store, "guesses")
    assert len(stored) == len(students)  # one row per student
    assert sum(r["revision"] for r in stored) == sent  # every submission wrote its row
    student_ids = {r["id"]: i for i, r in enumerate(rows(store, "students"))}
    for row in stored:  # each row holds that student's last guess
        assert (row["x"], row["y"]) == point(student_ids[row["student_id"]], rounds - 1)
    assert store.teacher_view(room.code, room.secret).count == len(students)


def test_one_student_from_many_threads_keeps_one_row_and_counts_every_write(store):
    room, (ada,) = open_question(store)
    n_threads, each = 8, 6
    sent_points = {(5.0 + t / 100, -2.0 - k / 100) for t in range(n_threads) for k in range(each)}

    def work(t):
        for k in range(each):
            store.submit_guess(room.code, ada.token, 5.0 + t / 100, -2.0 - k / 100, session="a")

    run_together(n_threads, work)
    (row,) = rows(store, "guesses")
    assert row["revision"] == n_threads * each
    assert (row["x"], row["y"]) in sent_points


def test_no_guess_slips_in_after_a_concurrent_reveal(store):
    room, students = open_question(store, 12)
    accepted = [0] * len(students)
    revealed = threading.Event()
    late = []

    def work(i):
        if i == len(students):  # the teacher
            store.reveal(room.code, room.secret)
            revealed.set()
            return
        for k in range(20):
            after_reveal = revealed.is_set()
            try:
                store.submit_guess(room.code, students[i].token, 5.0, -2.0 - k / 100, session=f"s{i}")
            except WrongState:
                break
            if after_reveal:
                late.append(i)
            accepted[i] += 1

    run_together(len(students) + 1, work)
    assert sum(r["revision"] for r in rows(store, "guesses")) == sum(accepted)
    assert not late  # no submission started after the reveal committed succeeded
    info = store.teacher_view(room.code, room.secret)
    assert info.state == "revealed"


def test_a_reveal_waits_for_a_guess_being_written(store, monkeypatch):
    """A guess that has read "asked" is committed before a concurrent reveal, never after it."""
    room, (ada,) = open_question(store)
    reading_done = threading.Event()
    order = []
    real_current = ClassStore._current

    def slow_current(self, session, room_row, *, lock=False, read=False):
        question = real_current(self, session, room_row, lock=lock, read=read)
        if read:  # the submission's look at the question: hold the transaction open a while
            reading_done.set()
            time.sleep(0.5)
        return question

    monkeypatch.setattr(ClassStore, "_current", slow_current)

    def submit():
        store.submit_guess(room.code, ada.token, 5.0, -2.0, session="a")
        order.append("guess stored")

    worker = threading.Thread(target=submit)
    worker.start()
    assert reading_done.wait(10)
    store.reveal(room.code, room.secret)
    order.append("revealed")
    worker.join()
    assert order == ["guess stored", "revealed"]
    assert len(store.student_view(room.code, ada.token).class_guesses) == 1


def test_replicas_starting_together_create_the_schema_once(db_url, clock):
    stores = run_together(4, lambda i: ClassStore(db_url, clock=clock))
    try:
        assert rows(stores[0], "schema_version") == [{"version": SCHEMA_VERSION}]
        codes = run_together(4, lambda i: stores[i].create_room().code)
        assert len(set(codes)) == 4 and len(rows(stores[0], "rooms")) == 4
    finally:
        for s in stores:
            s.engine.dispose()


def test_the_readme_and_docstrings_state_the_real_settings():
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"`{CODE_ALPHABET}`" in readme
    assert f"({ctext.SECRET_BYTES * 8} random bits" in readme and ctext.SECRET_BYTES * 8 >= 128
    hours = IDLE_SECONDS / 3600
    assert hours == int(hours) and f"expires after {int(hours)} hours without" in readme
    join, submit = classroom.JOIN_LIMIT, classroom.SUBMIT_LIMIT
    assert f"Join attempts ({join.burst}, then one per {join.every:g} s)" in readme
    every = "second" if submit.every == 1 else f"{submit.every:g} s"
    assert f"submissions ({submit.burst}, then one per {every})" in readme
    assert f"one of {round(len(CODE_ALPHABET) ** 6 / 1e6)} million" in " ".join(ctext.__doc__.split())
    assert f"at most {classroom.MAX_NAME_LENGTH} characters" in readme


def test_the_package_exports_what_its_all_names():
    assert all(hasattr(classroom, name) for name in classroom.__all__)
