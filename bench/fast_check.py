"""A proposed change to makegood.telemetry.attempts, applied in-process for measurement only.

Profiling `makegood cohort` on 100M Parquet attempts showed two costs the hand-written query
does not pay (see docs/performance.md):

1. For Parquet files whose `ts` is a real timestamp, the view's `ts_text` is
   `CAST(ts AS VARCHAR)`, and `ts_text IS NOT NULL` (in the contract check and in USABLE)
   formats every timestamp as text. Only its presence is ever read there (such a ts is never
   a bad value), so a presence marker gives the same answers without the formatting.
2. The contract check reads every row of every file (account_id is the most expensive column
   to decode). For Parquet files the footer statistics already prove the usual case: no null
   account_id or ts (null_count = 0) and no blank account_id (the smallest value is neither
   empty nor starting with a blank). Then the only column to scan is the outcome, compared
   raw with the accepted values first (dictionary-encoded, so cheap); any doubt falls back to
   the full check, so results and messages are unchanged.

`install()` applies both to the running process. The benchmark's part "makegood_fast" uses it
so the proposal is measured in the same run as the current code.
"""

# ruff: noqa: S608 - SQL assembled from file names through sql_list / sql_ident.

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def install() -> None:
    from makegood.telemetry import attempts
    from makegood.telemetry.files import AttemptFile
    from makegood.telemetry.source import AttemptSource
    from makegood.telemetry.sql import sql_ident, sql_list

    projection = attempts._projection
    full_check = attempts.check_attempts
    create_view = attempts.create_attempts_view
    seen: list[AttemptFile] = []

    def fast_projection(
        source: AttemptSource, group: Sequence[AttemptFile], reader: str, ts_is_text: bool
    ) -> str:
        sql = projection(source, group, reader, ts_is_text)
        if ts_is_text:
            return sql
        ts = sql_ident(source.column("ts"))
        return sql.replace(
            f"CAST({ts} AS VARCHAR) AS ts_text",
            f"CASE WHEN {ts} IS NOT NULL THEN 'timestamp' END AS ts_text",
        )

    def remembering_view(conn: Any, files: Sequence[AttemptFile], source: Any = None) -> None:
        seen[:] = files
        create_view(conn, files, source)

    def fast_check(conn: Any, source: AttemptSource | None = None) -> Any:
        source = source or AttemptSource("")
        if not seen or not all(f.kind == "parquet" and not f.ts_is_text for f in seen):
            return full_check(conn, source)
        paths = sql_list([f.path for f in seen])
        account, ts = source.column("account_id"), source.column("ts")
        (proven,) = conn.execute(
            f"SELECT bool_and(stats_null_count = 0 AND (path_in_schema <> $account OR "
            f"(stats_min_value <> '' AND NOT starts_with(stats_min_value, ' ')))) "
            f"FROM parquet_metadata({paths}) WHERE path_in_schema IN ($account, $ts)",
            {"account": account, "ts": ts},
        ).fetchone()
        if not proven:
            return full_check(conn, source)
        outcome = sql_ident(source.column("outcome"))
        accepted = sql_list([*source.failure_values, *source.success_values])[1:-1]
        rows, odd = conn.execute(
            f"SELECT count(*), count(*) FILTER ({outcome} IS NULL OR {outcome} NOT IN "
            f"({accepted})) FROM read_parquet({paths}, union_by_name = true)"
        ).fetchone()
        if odd:  # blanks around a value, or bad values: the full check words it
            return full_check(conn, source)
        return attempts.AttemptCounts(rows=int(rows), skipped=0)

    attempts._projection = fast_projection  # type: ignore[assignment]
    attempts.create_attempts_view = remembering_view  # type: ignore[assignment]
    attempts.check_attempts = fast_check  # type: ignore[assignment]
