"""Alembic environment: the same migrations for SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import context

from makegood.domain.errors import InvalidState
from makegood.store.all_tables import metadata
from makegood.store.engine import make_engine

config = context.config

# Rows named in the message when references point nowhere; the rest are counted.
_SHOWN = 5


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from makegood.settings import get_settings

        url = get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Batch mode rebuilds a table by copying it and dropping the old one; with foreign keys on,
    # SQLite refuses the drop while other tables hold rows that refer to it. So the migrations
    # run with them off, in one transaction (begun before Alembic sees the connection, so that
    # it commits none of its own) that commits only if every reference still holds.
    with _sqlite_foreign_keys_off(connection), connection.begin():
        _configure(connection)
        before = _heads()
        context.run_migrations()
        if _heads() != before:
            _check_references(connection)


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )


def _heads() -> tuple[str, ...]:
    return tuple(sorted(context.get_context().get_current_heads()))


@contextmanager
def _sqlite_foreign_keys_off(connection: sa.Connection) -> Iterator[None]:
    """Foreign keys off on this connection while the block runs, then as they were. SQLite
    ignores the pragma inside a transaction, so it goes to the driver's connection directly:
    SQLAlchemy's would begin one first (store/engine.py begins every transaction itself)."""
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations need a connection outside any transaction")
    driver: Any = connection.connection.dbapi_connection
    was = driver.execute("PRAGMA foreign_keys").fetchone()[0]
    driver.execute("PRAGMA foreign_keys=OFF")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0]:
        raise RuntimeError("SQLite kept foreign keys on: the migrations would fail")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA foreign_keys={'ON' if was else 'OFF'}")


def _check_references(connection: sa.Connection) -> None:
    """Stop (the transaction rolls back) when a row refers to one that does not exist."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if not broken:
        return
    shown = ", ".join(
        f"{table} row {rowid} ({parent})" for table, rowid, parent, _ in broken[:_SHOWN]
    )
    more = f" and {len(broken) - _SHOWN} more" if len(broken) > _SHOWN else ""
    raise InvalidState(
        "the upgrade stopped and changed nothing: these rows refer to rows that do not exist: "
        f"{shown}{more}. Correct or delete them, then run `makegood db upgrade` again"
    )


run_migrations_online()
