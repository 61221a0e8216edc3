"""Bulk inserts for launch: PostgreSQL's COPY on the transaction's own connection, else
executemany (SQLite). Rows are tuples in the order of the given columns.

COPY sends rows as one stream that the server parses while the next ones are built, which is
what lets a launch of millions of offers run close to the speed of a bare COPY; it stays inside
the caller's transaction, so a failure anywhere still leaves nothing behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

Row = Sequence[Any]
_CHUNK_ROWS = 2_000  # rows per write to the COPY stream: bounded memory, few calls
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any, datetimes: dict[datetime, str]) -> str:
    """One value in COPY's text format (`\\N` is NULL; backslash, tab and newlines escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value if _SPECIAL.search(value) is None else value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        # A launch stamps millions of rows with the same few instants: format each once.
        text = datetimes.get(value)
        if text is None:
            if value.tzinfo is None:
                raise ValueError("timestamps must be timezone-aware")
            text = datetimes[value] = value.isoformat()
        return text
    return str(value)


def insert_rows(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """Insert `rows` into `table` inside the connection's current transaction."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def insert_dicts(conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    """`insert_rows` for rows given as dicts (grouped by their keys)."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(tuple(row.values()))
    for columns, values in groups.items():
        insert_rows(conn, table, columns, values)


def encode_rows(rows: Sequence[Row]) -> list[str]:
    """`rows` as COPY text, in chunks of `_CHUNK_ROWS` lines (pure: any thread may do it)."""
    datetimes: dict[datetime, str] = {}
    chunks = []
    for start in range(0, len(rows), _CHUNK_ROWS):
        lines = [
            "\t".join([copy_text(v, datetimes) for v in row])
            for row in rows[start : start + _CHUNK_ROWS]
        ]
        lines.append("")
        chunks.append("\n".join(lines))
    return chunks


def copy_encoded(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], chunks: Sequence[str]
) -> None:
    """COPY text made by `encode_rows` into `table`, in the connection's transaction."""
    if not chunks:
        return
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for chunk in chunks:
            copy.write(chunk)


def _copy(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    copy_encoded(conn, table, columns, encode_rows(rows))
