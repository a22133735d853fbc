"""The classroom store: rooms, questions and guesses, with their rules.

Every teacher action takes the room's secret and refuses a wrong one (:class:`NotAuthorized`);
a student acts through the token :meth:`ClassStore.join` gave them. A room's life::

    waiting --ask--> asked --reveal--> revealed --next_question--> waiting ...

Students may submit and change their guess while a question is ``asked``; before the reveal
a student's view holds only their own guess. A room that sees no join, guess or teacher action
for :data:`IDLE_SECONDS` (two hours) expires: the next look-up, or :meth:`ClassStore.purge_expired`
(run whenever a room is opened), deletes it with all its students, questions and guesses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from landscapes.views.config import ExplorerConfig, from_query, to_query

from . import text
from .db import make_engine, migrate, writing
from .errors import InvalidInput, NotAuthorized, RoomExpired, RoomNotFound, WrongState
from .limits import JOIN_LIMIT, SUBMIT_LIMIT, Limit, RateLimiter
from .models import Guess, Question, Room, Student

#: A room expires after this long without activity (a join, a guess or a teacher action).
IDLE_SECONDS = 2 * 60 * 60
#: Activity is written to the room at most this often (so 60 students' guesses do not all
#: update the same row).
TOUCH_EVERY = 60.0

RoomState = Literal["waiting", "asked", "revealed"]


@dataclass(frozen=True)
class TeacherTicket:
    """What opening a room gives the teacher: the code to project and the secret for the teacher link."""

    code: str
    secret: str


@dataclass(frozen=True)
class StudentTicket:
    """What joining gives a student: keep ``token`` (it is how the store knows them again)."""

    code: str
    token: str
    name: str | None


@dataclass(frozen=True)
class QuestionInfo:
    number: int
    query: str  # the Explorer state as its URL query string (landscapes.views.config.to_query)
    state: Literal["asked", "revealed"]
    window: tuple[tuple[float, float], tuple[float, float]]

    @property
    def config(self) -> ExplorerConfig:
        return from_query(dict(parse_qsl(self.query)))[0]


@dataclass(frozen=True)
class GuessPoint:
    x: float
    y: float
    name: str | None  # None when anonymous or when names are hidden
    mine: bool = False


@dataclass(frozen=True)
class TeacherView:
    code: str
    state: RoomState
    question: QuestionInfo | None
    students: int  # students who joined the room
    guesses: tuple[GuessPoint, ...]  # the current question's guesses (names only if show_names)
    show_names: bool

    @property
    def count(self) -> int:
        return len(self.guesses)


@dataclass(frozen=True)
class StudentView:
    code: str
    state: RoomState
    question: QuestionInfo | None
    name: str | None
    my_guess: GuessPoint | None
    # Everyone's guesses, only once the question is revealed (names only if the teacher shows them).
    class_guesses: tuple[GuessPoint, ...]


def question_query(question: ExplorerConfig | str | Mapping[str, object]) -> tuple[str, ExplorerConfig]:
    """The canonical query string of an Explorer state, and the state.

    Raises:
      InvalidInput: for a query that the Explorer would have to correct (its notices say why).
    """
    if isinstance(question, ExplorerConfig):
        config = question
    else:
        query = dict(parse_qsl(question.lstrip("?"))) if isinstance(question, str) else dict(question)
        config, notices = from_query(query)
        if notices:
            raise InvalidInput("This question's settings are not valid: " + " ".join(notices))
    return urlencode(to_query(config)), config


class ClassStore:
    """Rooms, questions and guesses in a SQL database (SQLite or PostgreSQL).

    Args:
      url: a SQLAlchemy URL; default :func:`classroom.db.database_url` (``CLIFFS_DB`` or SQLite
        in ``CLIFFS_DATA``). Or pass ``engine``.
      clock: seconds since the epoch (tests pass a fake one); the rate limits use it too.
      idle_seconds: how long a room lives without activity.
      join_limit, submit_limit: per-session rate limits.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: Engine | None = None,
        clock: Callable[[], float] = time.time,
        idle_seconds: float = IDLE_SECONDS,
        join_limit: Limit = JOIN_LIMIT,
        submit_limit: Limit = SUBMIT_LIMIT,
    ):
        own_engine = engine is None
        self.engine = make_engine(url) if engine is None else engine
        self._write_engine = writing(self.engine)
        self.clock = clock
        self.idle_seconds = float(idle_seconds)
        self.join_limiter = RateLimiter(join_limit, clock=clock, what="join attempts")
        self.submit_limiter = RateLimiter(submit_limit, clock=clock, what="guesses")
        try:
            migrate(self.engine)
        except Exception:
            if own_engine:
                self.engine.dispose()
            raise

    # -- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Session]:
        try:
            engine = self._write_engine if write else self.engine
            with Session(engine, expire_on_commit=False) as session, session.begin():
                yield session
        except RoomExpired:
            # The failed transaction rolled back; delete the expired room (and its data) in a new one.
            self.purge_expired()
            raise

    def _lock(self, stmt: Any, session: Session, read: bool = False) -> Any:
        # Row locks on PostgreSQL (SQLite's BEGIN IMMEDIATE already serializes writers). A room is
        # locked FOR NO KEY UPDATE, which lets concurrent inserts that reference it go on. Lock
        # order is always room, then question, so two transactions never wait for each other.
        if session.get_bind().dialect.name == "postgresql":
            return stmt.with_for_update(read=read, key_share=not read)
        return stmt

    def _room(self, session: Session, code: object, *, lock: bool = False) -> Room:
        code = text.normalize_code(code)
        stmt = select(Room).where(Room.code == code)
        room = session.scalars(self._lock(stmt, session) if lock else stmt).one_or_none()
        if room is None:
            raise RoomNotFound(
                f"There is no open room with the code {code}. Check the code on the projector; "
                "a room closes when its teacher ends it or after two idle hours."
            )
        if self._expired(room):
            raise RoomExpired(
                f"Room {code} has closed: nothing happened in it for {self._idle_words()}. "
                "Ask your teacher for the new code."
            )
        return room

    def _expired(self, room: Room) -> bool:
        return room.last_activity + self.idle_seconds < self.clock()

    def _idle_words(self) -> str:
        minutes = round(self.idle_seconds / 60)
        if minutes % 60 == 0 and minutes >= 60:
            hours = minutes // 60
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{minutes} minute{'s' if minutes != 1 else ''}"

    def _teacher_room(self, session: Session, code: object, secret: object, *, lock: bool = False) -> Room:
        room = self._room(session, code, lock=lock)
        if not text.secret_matches(secret, room.secret_hash):
            raise NotAuthorized("Only the teacher's link can do that in this room.")
        return room

    def _student(self, session: Session, room: Room, token: object) -> Student:
        student = None
        if isinstance(token, str) and token:
            student = session.scalars(
                select(Student).where(Student.token_hash == text.hash_secret(token))
            ).one_or_none()
        if student is None or student.room_id != room.id:
            raise NotAuthorized(f"This page has not joined room {room.code}: join it with the code.")
        return student

    def _touch(self, session: Session, room: Room) -> None:
        now = self.clock()
        if now - room.last_activity >= TOUCH_EVERY:
            session.execute(
                update(Room).where(Room.id == room.id, Room.last_activity < now).values(last_activity=now)
            )

    def _current(self, session: Session, room: Room, *, lock: bool = False, read: bool = False):
        stmt = (
            select(Question)
            .where(Question.room_id == room.id, Question.state != "done")
            .order_by(Question.number.desc())
            .limit(1)
        )
        return session.scalars(self._lock(stmt, session, read=read) if lock else stmt).one_or_none()

    @staticmethod
    def _info(question: Question | None) -> QuestionInfo | None:
        if question is None:
            return None
        state: Literal["asked", "revealed"] = "asked" if question.state == "asked" else "revealed"
        return QuestionInfo(
            question.number, question.query, state, ((question.x0, question.x1), (question.y0, question.y1))
        )

    @staticmethod
    def _state(question: Question | None) -> RoomState:
        if question is None:
            return "waiting"
        return "asked" if question.state == "asked" else "revealed"

    # -- rooms ----------------------------------------------------------------------------------

    def create_room(self) -> TeacherTicket:
        """Opens a room; returns its join code and the teacher's secret (shown once, stored hashed)."""
        self.purge_expired()
        secret = text.new_secret()
        for _ in range(20):
            code = text.new_code()
            now = self.clock()
            try:
                with self._tx(write=True) as session:
                    session.add(
                        Room(
                            code=code, secret_hash=text.hash_secret(secret), created_at=now, last_activity=now
                        )
                    )
            except IntegrityError:  # the code is taken by an open room: draw another
                continue
            return TeacherTicket(code, secret)
        raise RuntimeError("could not find a free room code in 20 draws")

    def close(self, code: object, secret: object) -> None:
        """Ends a room: it and all its students, questions and guesses are deleted."""
        with self._tx(write=True) as session:
            room = self._teacher_room(session, code, secret, lock=True)
            session.execute(delete(Room).where(Room.id == room.id))

    def purge_expired(self) -> int:
        """Deletes every room idle for longer than the idle time (with all its data); returns how many."""
        with self._tx(write=True) as session:
            cutoff = self.clock() - self.idle_seconds
            result = session.execute(delete(Room).where(Room.last_activity < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    def is_teacher(self, code: object, secret: object) -> bool:
        """Whether ``secret`` is the teacher secret of room ``code`` (False for any unknown room)."""
        try:
            with self._tx(write=False) as session:
                self._teacher_room(session, code, secret)
        except (NotAuthorized, RoomNotFound, InvalidInput):
            return False
        return True

    # -- the teacher's actions --------------------------------------------------------------------

    def ask(
        self, code: object, secret: object, question: ExplorerConfig | str | Mapping[str, object]
    ) -> QuestionInfo:
        """Asks a question (an Explorer state, or its URL query); the room must be waiting."""
        query, config = question_query(question)
        (x0, x1), (y0, y1) = config.scape.window
        with self._tx(write=True) as session:
            room = self._teacher_room(session, code, secret, lock=True)
            if self._current(session, room) is not None:
                raise WrongState("A question is open: reveal it and go to the next question first.")
            last = session.scalar(select(func.max(Question.number)).where(Question.room_id == room.id))
            row = Question(
                room_id=room.id,
                number=(last or 0) + 1,
                query=query,
                x0=float(x0),
                x1=float(x1),
                y0=float(y0),
                y1=float(y1),
                state="asked",
                asked_at=self.clock(),
            )
            session.add(row)
            self._touch(session, room)
            session.flush()
            info = self._info(row)
        assert info is not None
        return info

    def reveal(self, code: object, secret: object) -> QuestionInfo:
        """Closes the guesses and shows the real paths to everyone."""
        with self._tx(write=True) as session:
            room = self._teacher_room(session, code, secret, lock=True)
            question = self._current(session, room, lock=True)
            if question is None or question.state != "asked":
                raise WrongState("There is no open question to reveal: ask one first.")
            question.state = "revealed"
            question.revealed_at = self.clock()
            self._touch(session, room)
            info = self._info(question)
        assert info is not None
        return info

    def next_question(self, code: object, secret: object) -> None:
        """Puts the revealed question away (it stays stored); the room waits for the next one."""
        with self._tx(write=True) as session:
            room = self._teacher_room(session, code, secret, lock=True)
            question = self._current(session, room, lock=True)
            if question is None or question.state != "revealed":
                raise WrongState("Reveal the current question before going to the next one.")
            question.state = "done"
            self._touch(session, room)

    def set_show_names(self, code: object, secret: object, show: bool) -> None:
        """Whether students' names appear in the teacher's view (the projector) and after the reveal."""
        with self._tx(write=True) as session:
            room = self._teacher_room(session, code, secret, lock=True)
            room.show_names = bool(show)
            self._touch(session, room)

    def teacher_view(self, code: object, secret: object) -> TeacherView:
        """The room as the projector shows it: the current question, its guesses and their count."""
        with self._tx(write=False) as session:
            room = self._teacher_room(session, code, secret)
            question = self._current(session, room)
            students = session.scalar(select(func.count()).where(Student.room_id == room.id)) or 0
            guesses: tuple[GuessPoint, ...] = ()
            if question is not None:
                rows = session.execute(
                    select(Guess.x, Guess.y, Student.name)
                    .join(Student, Student.id == Guess.student_id)
                    .where(Guess.question_id == question.id)
                    .order_by(Guess.id)
                ).all()
                guesses = tuple(GuessPoint(x, y, name if room.show_names else None) for x, y, name in rows)
            return TeacherView(
                room.code,
                self._state(question),
                self._info(question),
                int(students),
                guesses,
                room.show_names,
            )

    def room_state(self, code: object) -> tuple[RoomState, int] | None:
        """The room's state and its current question's number (0 when none), or None for a room
        that is gone or expired: what a page polls to notice an ask, a reveal or a close. One
        indexed query and no secret (the state is what every student of the room sees); a page that
        sees it change reads the full view, which says why a room is gone and deletes an expired one.
        """
        try:
            code = text.normalize_code(code)
        except InvalidInput:
            return None
        stmt = (
            select(Room.last_activity, Question.number, Question.state)
            .select_from(Room)
            .outerjoin(Question, (Question.room_id == Room.id) & (Question.state != "done"))
            .where(Room.code == code)
            .order_by(Question.number.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).one_or_none()
        if row is None or row.last_activity + self.idle_seconds < self.clock():
            return None
        if row.number is None:
            return "waiting", 0
        return ("asked" if row.state == "asked" else "revealed"), int(row.number)

    # -- the students' actions --------------------------------------------------------------------

    def join(self, code: object, *, session: str, name: object = None) -> StudentTicket:
        """Joins room ``code`` as a new student (rate-limited per page session)."""
        self.join_limiter.check(session)
        clean = text.sanitize_name(name)
        token = text.new_token()
        with self._tx(write=True) as db:
            room = self._room(db, code)
            db.add(
                Student(
                    room_id=room.id, token_hash=text.hash_secret(token), name=clean, joined_at=self.clock()
                )
            )
            self._touch(db, room)
            return StudentTicket(room.code, token, clean)

    def rename(self, code: object, token: object, name: object) -> str | None:
        """Sets (or, with an empty name, clears) a student's name; returns the cleaned name."""
        clean = text.sanitize_name(name)
        with self._tx(write=True) as db:
            room = self._room(db, code)
            student = self._student(db, room, token)
            student.name = clean
            self._touch(db, room)
        return clean

    def submit_guess(self, code: object, token: object, x: object, y: object, *, session: str) -> GuessPoint:
        """Stores (or replaces) the student's guess for the open question.

        One row per student and question, written by a single ``INSERT ... ON CONFLICT DO UPDATE``
        (SQLite and PostgreSQL), so concurrent submissions never lose a write. The question row is
        share-locked, so a guess cannot slip in after a concurrent reveal.

        Raises:
          InvalidInput: for a point that is not finite or lies outside the question's window.
          WrongState: when no question is open (none asked yet, or already revealed).
          RateLimited: after too many submissions from this page session.
        """
        px = text.finite_number(x, "The guess's first coordinate")
        py = text.finite_number(y, "The guess's second coordinate")
        self.submit_limiter.check(session)
        with self._tx(write=True) as db:
            room = self._room(db, code)
            student = self._student(db, room, token)
            self._touch(db, room)  # before the question's lock: the room comes first (see _lock)
            question = self._current(db, room, lock=True, read=True)
            if question is None:
                raise WrongState("There is no question to answer yet: wait for your teacher to ask one.")
            if question.state != "asked":
                raise WrongState("This question has been revealed: guesses are closed.")
            if not (question.x0 <= px <= question.x1 and question.y0 <= py <= question.y1):
                raise InvalidInput(
                    f"A guess must lie on the map: between {question.x0:g} and {question.x1:g} across "
                    f"and between {question.y0:g} and {question.y1:g} up."
                )
            now = self.clock()
            values = dict(
                question_id=question.id,
                student_id=student.id,
                x=px,
                y=py,
                created_at=now,
                updated_at=now,
                revision=1,
            )
            dialect = db.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            stmt = insert(Guess).values(**values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[Guess.question_id, Guess.student_id],
                set_={
                    "x": stmt.excluded.x,
                    "y": stmt.excluded.y,
                    "updated_at": stmt.excluded.updated_at,
                    "revision": Guess.revision + 1,
                },
            )
            db.execute(stmt)
            return GuessPoint(px, py, student.name, mine=True)

    def student_view(self, code: object, token: object) -> StudentView:
        """What a student's page may show: the question, their own guess and, after the reveal only,
        the class's guesses."""
        with self._tx(write=False) as db:
            room = self._room(db, code)
            student = self._student(db, room, token)
            question = self._current(db, room)
            mine = None
            everyone: tuple[GuessPoint, ...] = ()
            if question is not None:
                own = db.execute(
                    select(Guess.x, Guess.y).where(
                        Guess.question_id == question.id, Guess.student_id == student.id
                    )
                ).one_or_none()
                if own is not None:
                    mine = GuessPoint(own.x, own.y, student.name, mine=True)
                if question.state == "revealed":
                    rows = db.execute(
                        select(Guess.x, Guess.y, Guess.student_id, Student.name)
                        .join(Student, Student.id == Guess.student_id)
                        .where(Guess.question_id == question.id)
                        .order_by(Guess.id)
                    ).all()
                    everyone = tuple(
                        GuessPoint(
                            x,
                            y,
                            name if (room.show_names or sid == student.id) else None,
                            mine=sid == student.id,
                        )
                        for x, y, sid, name in rows
                    )
            return StudentView(
                room.code, self._state(question), self._info(question), student.name, mine, everyone
            )


def distance(a: tuple[float, float], b: tuple[float, float], window=None) -> float:
    """Distance between two points; with a window, in units of its width and height (so both axes
    count alike, whatever their ranges).

    >>> distance((0.0, 0.0), (3.0, 4.0))
    5.0
    >>> distance((0.0, 0.0), (1.0, 1.0), window=((0.0, 2.0), (0.0, 4.0)))
    0.5590169943749475
    """
    dx, dy = a[0] - b[0], a[1] - b[1]
    if window is not None:
        (x0, x1), (y0, y1) = window
        dx, dy = dx / (x1 - x0), dy / (y1 - y0)
    return math.hypot(dx, dy)
