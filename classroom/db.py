"""Where the classroom's database lives, how to connect to it, and how its schema is brought up to date.

- ``CLIFFS_DB`` set: a SQLAlchemy URL, e.g. ``postgresql://user:pw@host:5432/cliffs`` (psycopg 3 is
  used for ``postgresql://`` URLs without a driver) or ``sqlite:////path/file.sqlite3``.
- otherwise SQLite in ``$CLIFFS_DATA/classroom.sqlite3`` (``CLIFFS_DATA`` defaults to ``./data``):
  nothing to install, and rooms survive a server restart.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, text, update
from sqlalchemy.engine import make_url

from .models import SCHEMA_VERSION, Base, SchemaVersion

DB_FILE = "classroom.sqlite3"


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The database URL the environment asks for (see the module docstring).

    >>> database_url({"CLIFFS_DB": "postgresql://u@h/db"})
    'postgresql+psycopg://u@h/db'
    >>> database_url({"CLIFFS_DATA": "/srv/cliffs"})
    'sqlite:////srv/cliffs/classroom.sqlite3'
    """
    env = os.environ if env is None else env
    url = env.get("CLIFFS_DB", "").strip()
    if url:
        parsed = make_url(url)  # raises ArgumentError for a string that is not a URL
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    folder = Path(env.get("CLIFFS_DATA", "").strip() or "data").absolute()
    return f"sqlite:///{folder / DB_FILE}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`database_url`) set up for many concurrent writers.

    SQLite: the folder is created; WAL journal (readers do not block the writer), a 30 s busy
    timeout, foreign keys enforced, and a write transaction starts with ``BEGIN IMMEDIATE`` (it
    takes the write lock up front, so two writers queue instead of one failing when it upgrades
    its read lock). PostgreSQL: pooled connections, checked before use (a database restart does
    not break a replica).
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _use_wal(cursor, limit: float = 30.0) -> None:
    """Puts the database file in WAL mode (once per file: the mode is stored in it). Switching
    needs the file to itself, and SQLite answers "database is locked" at once, without its busy
    timeout, while another connection (a replica starting at the same moment) holds it: retried
    for up to ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's begin event (below) emit BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("cliffs_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def writing(engine: Engine) -> Engine:
    """The same engine, marked so that its SQLite transactions take the write lock at BEGIN."""
    return engine.execution_options(cliffs_write=True)


def _add_show_names(conn: Connection) -> None:
    default = "false" if conn.dialect.name == "postgresql" else "0"
    conn.execute(text(f"ALTER TABLE rooms ADD COLUMN show_names BOOLEAN NOT NULL DEFAULT {default}"))


#: Schema steps: MIGRATIONS[v] takes a database at version v - 1 to version v.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _add_show_names}


class SchemaTooNew(RuntimeError):
    """The database was written by a newer version of the app than this one."""


def schema_version(conn: Connection) -> int | None:
    """The version the database holds, or None for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return None
    return conn.execute(select(SchemaVersion.version)).scalar_one_or_none()


def migrate(engine: Engine) -> int:
    """Creates the schema in an empty database, or brings an older one up to :data:`SCHEMA_VERSION`.

    Safe when several replicas start at once: PostgreSQL holds an advisory lock for the
    transaction, SQLite's ``BEGIN IMMEDIATE`` admits one writer. Returns the version found
    (0 for an empty database).

    Raises:
      SchemaTooNew: for a database written by a newer schema.
    """
    with writing(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('cliffs-classroom-schema'))"))
        found = schema_version(conn)
        if found is None:
            Base.metadata.create_all(conn)
            conn.execute(insert(SchemaVersion).values(version=SCHEMA_VERSION))
            return 0
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the classroom database has schema version {found}; this app knows up to {SCHEMA_VERSION}"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](conn)
        if found < SCHEMA_VERSION:
            conn.execute(update(SchemaVersion).values(version=SCHEMA_VERSION))
        return found
