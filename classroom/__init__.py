"""Class mode's storage and security: rooms, questions and guesses in SQLite or PostgreSQL.

Pure Python (SQLAlchemy 2, psycopg 3, segno); no Streamlit. The Class page calls it:

>>> store = ClassStore("sqlite://")  # in memory; the default is CLIFFS_DB or ./data
>>> room = store.create_room()
>>> student = store.join(room.code, session="phone-1", name="Ada")
>>> store.ask(room.code, room.secret, "landscape=pascanu&start=4.7,-2.2&lr=0.5&c=1&steps=60").state
'asked'
>>> store.submit_guess(room.code, student.token, 5.0, -2.0, session="phone-1").mine
True
>>> store.teacher_view(room.code, room.secret).count
1
>>> store.reveal(room.code, "not-the-secret")
Traceback (most recent call last):
...
classroom.errors.NotAuthorized: Only the teacher's link can do that in this room.
"""

from .db import MIGRATIONS, SchemaTooNew, database_url, make_engine, migrate, schema_version
from .errors import (
    ClassroomError,
    InvalidInput,
    NotAuthorized,
    RateLimited,
    RoomExpired,
    RoomNotFound,
    WrongState,
)
from .limits import JOIN_LIMIT, SUBMIT_LIMIT, Limit, RateLimiter
from .models import SCHEMA_VERSION
from .qr import join_link, join_qr, join_qr_png, join_qr_svg
from .store import (
    IDLE_SECONDS,
    ClassStore,
    GuessPoint,
    QuestionInfo,
    StudentTicket,
    StudentView,
    TeacherTicket,
    TeacherView,
    distance,
    question_query,
)
from .text import CODE_ALPHABET, CODE_LENGTH, MAX_NAME_LENGTH, name_html, normalize_code, sanitize_name

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "IDLE_SECONDS",
    "JOIN_LIMIT",
    "MAX_NAME_LENGTH",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SUBMIT_LIMIT",
    "ClassStore",
    "ClassroomError",
    "GuessPoint",
    "InvalidInput",
    "Limit",
    "NotAuthorized",
    "QuestionInfo",
    "RateLimited",
    "RateLimiter",
    "RoomExpired",
    "RoomNotFound",
    "SchemaTooNew",
    "StudentTicket",
    "StudentView",
    "TeacherTicket",
    "TeacherView",
    "WrongState",
    "database_url",
    "distance",
    "join_link",
    "join_qr",
    "join_qr_png",
    "join_qr_svg",
    "make_engine",
    "migrate",
    "name_html",
    "normalize_code",
    "question_query",
    "sanitize_name",
    "schema_version",
]
