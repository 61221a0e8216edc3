"""INSERT ... ON CONFLICT (DO UPDATE, DO NOTHING) for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
) -> None:
    """Insert `rows`; rows whose `key` exists update every other column (or `overrides`)."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    columns = [c for c in rows[0] if c not in key]
    updates: dict[str, Any] = {c: stmt.excluded[c] for c in columns}
    for name, build in (overrides or {}).items():
        updates[name] = build(stmt.excluded) if callable(build) else build
    conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=updates), list(rows))


def insert_new(
    conn: sa.Connection, table: sa.Table, row: Mapping[str, Any], key: Sequence[str]
) -> bool:
    """Insert `row` unless a row with the same `key` exists; True if it was inserted."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(**row).on_conflict_do_nothing(index_elements=list(key))
    # RETURNING rather than rowcount: psycopg reports -1 for this statement.
    returning = [table.c[name] for name in key]
    return conn.execute(stmt.returning(*returning)).first() is not None
