"""Bulk inserts for launch: PostgreSQL's COPY on the transaction's own connection, else
executemany (SQLite). Rows are tuples in the order of the given columns.

COPY sends rows as one stream that the server parses while the next ones are built, which is
what lets a launch of millions of offers run close to the speed of a bare COPY; it stays inside
the caller's transaction, so a failure anywhere still leaves nothing behind.

Two formats: text (`encode_rows`, any table) and binary (`encode_binary`, the launch's offers:
the server parses no timestamp or number, about an eighth of its work on a chunk of offers).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

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
        # A bulk write stamps its rows with the same few instants: format each once.
        text = datetimes.get(value)
        if text is None:
            if value.tzinfo is None:
                raise ValueError("timestamps must be timezone-aware")
            text = datetimes[value] = value.isoformat()
        return text
    return str(value)


# COPY's binary format: a header, then per row its field count and per field its length (-1:
# NULL) and bytes in network order; a trailer of -1. Text is UTF-8, bigint 8 bytes (integer 4,
# smallint 2), timestamptz the microseconds since 2000-01-01 UTC in 8 bytes.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
BINARY_TRAILER = b"\xff\xff"
BINARY_NULL = b"\xff\xff\xff\xff"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
BinaryKind = Literal["text", "int8", "int4", "int2", "bool", "timestamptz"]


def binary_kinds(table: sa.Table, columns: Sequence[str]) -> tuple[BinaryKind, ...]:
    """How each column is sent in COPY's binary format, from its type in `tables.py`."""

    def kind(column: sa.Column[Any]) -> BinaryKind:
        impl = column.type
        if isinstance(impl, sa.types.TypeDecorator):
            impl = impl.impl_instance
        if isinstance(impl, sa.DateTime) and impl.timezone:
            return "timestamptz"
        if isinstance(impl, sa.Boolean):
            return "bool"
        if isinstance(impl, sa.BigInteger):
            return "int8"
        if isinstance(impl, sa.SmallInteger):
            return "int2"
        if isinstance(impl, sa.Integer):
            return "int4"
        if isinstance(impl, sa.String):
            return "text"
        raise TypeError(f"{table.name}.{column.name}: no binary COPY for {column.type!r}")

    return tuple(kind(table.c[name]) for name in columns)


def binary_value(value: Any, kind: BinaryKind) -> bytes:
    """One field in COPY's binary format: its length, then its bytes (NULL: length -1)."""
    if value is None:
        return BINARY_NULL
    if kind == "text":
        data = str(value).encode()
    elif kind == "int8":
        data = int(value).to_bytes(8, "big", signed=True)
    elif kind == "int4":
        data = int(value).to_bytes(4, "big", signed=True)
    elif kind == "int2":
        data = int(value).to_bytes(2, "big", signed=True)
    elif kind == "bool":
        data = b"\x01" if value else b"\x00"
    else:
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        data = ((value - _PG_EPOCH) // _MICROSECOND).to_bytes(8, "big", signed=True)
    return len(data).to_bytes(4, "big") + data


def encode_binary(table: sa.Table, columns: Sequence[str], rows: Sequence[Row]) -> bytes:
    """`rows` as one COPY binary stream (value by value: the reference the launch's per-column
    encoding in services/launch_rows.py is held to)."""
    kinds = binary_kinds(table, columns)
    count = len(columns).to_bytes(2, "big")
    out = [BINARY_HEADER]
    for row in rows:
        out.append(count)
        out.extend(binary_value(v, k) for v, k in zip(row, kinds, strict=True))
    out.append(BINARY_TRAILER)
    return b"".join(out)


def copy_binary(conn: sa.Connection, table: sa.Table, columns: Sequence[str], data: bytes) -> None:
    """COPY a binary stream made by `encode_binary` (or its equal) into `table`, in the
    connection's transaction."""
    _copy_in(conn, table, columns, [data], binary=True)


def copy_binary_rows(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Any]
) -> None:
    """COPY `rows`, pieces of binary rows without header or trailer (bytes-like, as
    `arrow_binary.binary_pieces` makes them), into `table` in the connection's transaction.
    psycopg's writer thread sends each piece while the iterable makes the next."""
    stream = itertools.chain([BINARY_HEADER], rows, [BINARY_TRAILER])
    _copy_in(conn, table, columns, stream, binary=True, queued=True)


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
    """`rows` as COPY text, in chunks of `_CHUNK_ROWS` lines."""
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


def _copy(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    _copy_in(conn, table, columns, encode_rows(rows), binary=False)


def _copy_in(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    chunks: Iterable[str] | Iterable[Any],
    *,
    binary: bool,
    queued: bool = False,
) -> None:
    """COPY `chunks` (text made by `encode_rows`, or a binary stream) into `table` on the
    transaction's own connection; `queued`: sent by psycopg's writer thread while the caller
    makes the next chunk."""
    from psycopg.copy import QueuedLibpqWriter

    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    sql = f"COPY {quote(table.name)} ({names}) FROM STDIN{' (FORMAT BINARY)' if binary else ''}"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        if binary and driver.info.encoding != "utf-8":
            # Text fields of a binary COPY are read in the client encoding; ours are UTF-8
            # (text COPY is encoded by the driver in the connection's own).
            cursor.execute("SET LOCAL client_encoding TO 'UTF8'")
        with cursor.copy(sql, writer=QueuedLibpqWriter(cursor) if queued else None) as copy:
            for chunk in chunks:
                copy.write(chunk)
