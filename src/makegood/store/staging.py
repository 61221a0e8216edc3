"""Bulk upsert through a staging table: rows streamed in, then one set-based statement.

PostgreSQL: COPY (CSV) into an unindexed TEMP table, then one INSERT ... SELECT ... ON CONFLICT
DO UPDATE. SQLite: executemany into a TEMP table, then the same statement. Everything runs in
the caller's transaction, so an import killed at any instant (the process, or its connection
on the server) leaves the target table as it was. Rows whose values did not change are not
rewritten: a re-import of the same file costs index look-ups, not a new version of every row.
"""

# SQL here is built from this module's own identifiers and rules; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import sqlalchemy as sa

STAGE = "import_stage"
Progress = Callable[[int], None]


def stage_and_upsert(
    conn: sa.Connection,
    table: sa.Table,
    key: str,
    columns: Sequence[str],
    batches: Iterable[pa.RecordBatch],
    now: datetime,
    overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Upsert `batches` (columns in `columns` order) into `table` by `key`, stamping
    `updated_at = now` on new and changed rows; returns how many keys existed before.

    `overrides` maps a column to the SQL of its value on update (`t.` is the stored row,
    `excluded.` the new one)."""
    quote = conn.dialect.identifier_preparer.quote
    names = [quote(c) for c in columns]
    _create_stage(conn, table, names)
    if conn.dialect.name == "postgresql":
        _copy(conn, names, batches, progress)
    else:
        _insert(conn, names, batches, progress)
    target = quote(table.name)
    k = quote(key)
    existing = conn.execute(
        sa.text(f"SELECT count(*) FROM {STAGE} s JOIN {target} t ON t.{k} = s.{k}")
    ).scalar_one()
    sets = {n: f"excluded.{n}" for n in names if n != k}
    sets.update({quote(c): sql for c, sql in (overrides or {}).items()})
    changed = " OR ".join(f"t.{n} IS DISTINCT FROM {sql}" for n, sql in sets.items())
    assignments = ", ".join(f"{n} = {sql}" for n, sql in sets.items())
    statement = sa.text(
        f"INSERT INTO {target} AS t ({', '.join(names)}, updated_at)"
        f" SELECT {', '.join(names)}, :now FROM {STAGE} WHERE true"
        f" ON CONFLICT ({k}) DO UPDATE SET {assignments}, updated_at = excluded.updated_at"
        f" WHERE {changed}"
    ).bindparams(sa.bindparam("now", type_=table.c.updated_at.type))
    conn.execute(statement, {"now": now})
    conn.exec_driver_sql(f"DROP TABLE {STAGE}")
    return int(existing)


def _create_stage(conn: sa.Connection, table: sa.Table, names: Sequence[str]) -> None:
    if conn.dialect.name == "postgresql":
        # Same column types as the target, no index, no constraint, no WAL (TEMP).
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT {', '.join(names)}"
            f" FROM {conn.dialect.identifier_preparer.quote(table.name)} WITH NO DATA"
        )
    else:
        # No declared types: SQLite keeps each value as given (no affinity turning "007" to 7).
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{STAGE}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {STAGE} ({', '.join(names)})")


_CSV = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def _copy(
    conn: sa.Connection,
    names: Sequence[str],
    batches: Iterable[pa.RecordBatch],
    progress: Progress | None,
) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"COPY {STAGE} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
    staged = 0
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for batch in batches:
            sink = pa.BufferOutputStream()
            pacsv.write_csv(batch, sink, _CSV)  # vectorised: no Python per row
            copy.write(memoryview(sink.getvalue()))
            staged += batch.num_rows
            if progress:
                progress(staged)


def _insert(
    conn: sa.Connection,
    names: Sequence[str],
    batches: Iterable[pa.RecordBatch],
    progress: Progress | None,
) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    sql = f"INSERT INTO {STAGE} VALUES ({', '.join('?' for _ in names)})"
    staged = 0
    for batch in batches:
        # sqlite3 takes Python values only; one batch at a time keeps memory bounded.
        driver.executemany(sql, zip(*(c.to_pylist() for c in batch.columns), strict=True))
        staged += batch.num_rows
        if progress:
            progress(staged)
