"""Engines for the embedded SQLite default and PostgreSQL; nothing connects until first use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

# The database, for the annotations of code that hands it on (only store/ talks to it).
Engine = sa.Engine


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Build an engine for `url`; SQLite gets WAL, foreign keys and write-ahead locking."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs
        )
        _tune_sqlite(engine)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def ping(engine: sa.Engine) -> None:
    """One round trip (`SELECT 1`) on a fresh connection; sa.exc.DBAPIError when the database
    does not answer."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


# PostgreSQL's undefined_table and undefined_column; SQLite says it in words.
_MISSING_SQLSTATES = frozenset({"42P01", "42703"})
_SQLITE_MISSING = ("no such table", "no such column", "has no column named")


def names_missing_schema(error: BaseException) -> bool:
    """Whether `error` is the database saying a table or column does not exist."""
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in _MISSING_SQLSTATES:
        return True
    import sqlite3  # here: a PostgreSQL command need not load it

    reason = str(error.orig)
    return isinstance(error.orig, sqlite3.OperationalError) and any(
        words in reason for words in _SQLITE_MISSING
    )


def shown_url(url: str) -> str:
    """A database URL as messages show it: the password replaced by ***."""
    return make_url(url).render_as_string(hide_password=True)


def connect_failure(error: BaseException) -> str | None:
    """Why no connection could be opened, when `error` is that (SQLAlchemy names no statement
    then): the driver's first line (it names the host and database, never the password)."""
    if not isinstance(error, sa.exc.DBAPIError) or error.statement is not None:
        return None
    if not isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
        return None
    lines = str(error.orig).strip().splitlines()
    return lines[0].removeprefix("connection failed: ") if lines else type(error.orig).__name__


def _tune_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Take the write lock up front: a deferred transaction that later writes can fail with
        # "database is locked" instead of waiting, which would break concurrent claims.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
