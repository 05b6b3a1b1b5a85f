"""Engines, short explicit sessions, and migrations for the SQL store.

    python -m chatbot migrate      # bring the database to the newest schema
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, timeout_s: float | None = None) -> Engine:
    """An engine for a sqlite:/// or postgresql:// URL, tuned for many short sessions.

    With `timeout_s` (the served desk's CHATBOT_DATABASE_TIMEOUT_S), an unreachable
    PostgreSQL fails fast instead of hanging a request: connecting, waiting for a pooled
    connection and unacknowledged network writes (a server that stopped answering) each give
    up after it, and a statement runs at most ten times as long.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if timeout_s is None:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    connect_args = {"connect_timeout": max(1, round(timeout_s)), "tcp_user_timeout": round(timeout_s * 1000),
                    "options": f"-c statement_timeout={round(timeout_s * 10_000)}"}
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_timeout=timeout_s, connect_args=connect_args)
    _watch(engine, ping_s=timeout_s, statement_s=timeout_s * 10)
    return engine


def _watch(engine: Engine, ping_s: float, statement_s: float) -> None:
    """Bound the waits that no PostgreSQL timeout covers: a server that accepts connections
    and then never answers (hung, or a proxy in front of a dead one) leaves psycopg waiting
    for a reply forever, since libpq has no read timeout and the server's own timeouts never
    run. A pooled connection must answer a ping within `ping_s` (else the pool drops it and
    connects anew, under connect_timeout) and a statement within `statement_s`; past that,
    a watchdog shuts the connection's socket down, which ends the wait with an error."""

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection, _record, _proxy) -> None:
        with _deadline(dbapi_connection, ping_s):
            try:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except Exception as exc:  # any failure: this connection is gone, try a new one
                raise DisconnectionError(f"ping failed: {type(exc).__name__}") from None

    @event.listens_for(engine, "before_cursor_execute")
    def arm(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        connection.info.setdefault("watchdogs", []).append(_watchdog(dbapi_connection, statement_s))

    @event.listens_for(engine, "after_cursor_execute")
    def disarm(connection, *_args) -> None:
        if connection.info.get("watchdogs"):
            connection.info["watchdogs"].pop().cancel()

    @event.listens_for(engine, "handle_error")
    def disarm_on_error(context) -> None:
        connection = context.connection
        if connection is not None and connection.info.get("watchdogs"):
            connection.info["watchdogs"].pop().cancel()


def _watchdog(dbapi_connection, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, _shut_down, (dbapi_connection.fileno(),))
    timer.daemon = True
    timer.start()
    return timer


@contextmanager
def _deadline(dbapi_connection, seconds: float) -> Iterator[None]:
    timer = _watchdog(dbapi_connection, seconds)
    try:
        yield
    finally:
        timer.cancel()


def _shut_down(fd: int) -> None:
    """Shut down the socket behind `fd` (a duplicate, so the connection still owns and closes it)."""
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the agent console read while the pipeline writes; foreign keys are off by
    # default in SQLite and the schema relies on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One short unit of work: commit on success, roll back on any error."""
    with sessions.begin() as session:
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic reads this through configparser, which treats % as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class SchemaBehind(Exception):
    """The database is not at the newest migration: the desk would fail on every turn."""


def check_schema(engine: Engine) -> None:
    """Raise SchemaBehind unless engine's database is at the newest migration, saying how to
    bring it there (its URL, which may hold a password, is not said)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise SchemaBehind(f"the database's schema is at revision {current or 'none (empty)'}; this version "
                           f"needs {head}: run `python -m chatbot migrate` (or `make setup`) first")


def migrate(url: str) -> None:
    """Upgrade the database at url to the newest migration (creates it if needed)."""
    make_engine(url).dispose()  # creates the SQLite file's folder
    command.upgrade(alembic_config(url), "head")
