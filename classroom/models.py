"""The classroom's tables (SQLAlchemy 2 declarative models) and the schema's version history.

Times are seconds since the epoch as floats (from the store's clock, so tests can move time).
Every child row is deleted with its room (``ON DELETE CASCADE``; SQLite enforces it because
:func:`classroom.db.make_engine` turns ``PRAGMA foreign_keys`` on for every connection).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The schema this code writes. Version history (each step in :data:`classroom.db.MIGRATIONS`):
#:   1. rooms, students, questions, guesses, schema_version;
#:   2. ``rooms.show_names`` (the teacher's switch for names on the projector).
SCHEMA_VERSION = 2


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    """One row: the version of the schema the database holds."""

    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    last_activity: Mapped[float] = mapped_column(Float, index=True)
    show_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Student(Base):
    __tablename__ = "students"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(20), nullable=True)
    joined_at: Mapped[float] = mapped_column(Float)


class Question(Base):
    """One question of a room: an Explorer state (its URL query) and the window guesses must lie in.

    ``state`` runs ``asked`` -> ``revealed`` -> ``done`` (``done`` once the teacher moves on).
    """

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("room_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    query: Mapped[str] = mapped_column(Text)
    x0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(10))
    asked_at: Mapped[float] = mapped_column(Float)
    revealed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Guess(Base):
    """A student's guess for a question: one row per (question, student), written by an upsert.

    ``revision`` counts the submissions that wrote the row (the upsert adds 1 in the database
    itself), so the sum over the rows equals the number of accepted submissions: no lost writes.
    """

    __tablename__ = "guesses"
    __table_args__ = (
        UniqueConstraint("question_id", "student_id", name="uq_guess_per_student"),
        Index("ix_guesses_student", "student_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(Integer, default=1)


TABLES = ("rooms", "students", "questions", "guesses")
