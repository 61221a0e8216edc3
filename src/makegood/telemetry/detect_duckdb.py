"""Outage detection on DuckDB: bucket rows and accounts touched, for telemetry.detect."""

# SQL is assembled from constants and the fixed --by column names; values are bound.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from makegood.telemetry.attempts import USABLE, open_attempts, source_errors
from makegood.telemetry.detect import (
    BucketRow,
    Detection,
    DetectionRule,
    Window,
    bucket_us,
    check_by,
    from_micros,
    propose_windows,
)
from makegood.telemetry.engine import connect_duckdb
from makegood.telemetry.source import AttemptSource

Say = Callable[[str], None]


def bucket_rows_duckdb(conn: Any, rule: DetectionRule, by: Sequence[str]) -> list[BucketRow]:
    """BucketRows of the `attempts` view (see telemetry.attempts): usable rows only."""
    check_by(by)
    columns = "".join(f", {name}" for name in by)
    rows = conn.execute(
        f"SELECT (epoch_us(ts) // $width) * $width AS start_us{columns}, count(*), "
        f"count(*) FILTER (failed) FROM attempts WHERE {USABLE} GROUP BY ALL ORDER BY ALL",
        {"width": bucket_us(rule)},
    ).fetchall()
    return [
        BucketRow(from_micros(int(r[0])), tuple(r[1 : 1 + len(by)]), int(r[-2]), int(r[-1]))
        for r in rows
    ]


def accounts_touched_duckdb(
    conn: Any, windows: Sequence[Window], by: Sequence[str]
) -> list[Window]:
    """The windows with `accounts_touched`: distinct accounts with a failed attempt in the
    window's [start, end) and one of its segments."""
    check_by(by)
    if not windows:
        return []
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE proposed (idx INTEGER, start_ts TIMESTAMPTZ, "
        "end_ts TIMESTAMPTZ" + "".join(f", {name} VARCHAR" for name in by) + ")"
    )
    conn.executemany(
        f"INSERT INTO proposed VALUES (?, ?, ?{', ?' * len(by)})",
        [(w.index, w.start, w.end, *segment) for w in windows for segment in w.segments],
    )
    same = "".join(f" AND a.{name} IS NOT DISTINCT FROM p.{name}" for name in by)
    counts = dict(
        conn.execute(
            f"SELECT p.idx, count(DISTINCT a.account_id) FROM attempts a JOIN proposed p "
            f"ON a.ts >= p.start_ts AND a.ts < p.end_ts{same} "
            f"WHERE {USABLE} AND a.failed GROUP BY p.idx"
        ).fetchall()
    )
    return [_with_accounts(w, int(counts.get(w.index, 0))) for w in windows]


def _with_accounts(window: Window, accounts: int) -> Window:
    from dataclasses import replace

    return replace(window, accounts_touched=accounts)


def detect_duckdb(
    source: str | AttemptSource,
    rule: DetectionRule,
    by: Sequence[str],
    bucket: str,
    *,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
    say: Say | None = None,
) -> Detection:
    """Scan the source into bucket rows, propose windows, and count their accounts."""
    source = AttemptSource.of(source)
    conn = connect_duckdb(memory_limit=memory_limit, temp_dir=temp_dir)
    try:
        with source_errors(source):
            _, counts = open_attempts(conn, source, by, say)
            if say:
                say(
                    f"counting attempts per {bucket} bucket"
                    + (f" and {', '.join(by)}" if by else "")
                )
            rows = bucket_rows_duckdb(conn, rule, by)
            windows = propose_windows(rows, rule)
            if say:
                say(f"{len(windows)} window(s) proposed; counting the accounts they touched")
            windows = accounts_touched_duckdb(conn, windows, by)
    finally:
        conn.close()
    return Detection(
        rule=rule,
        bucket=bucket,
        by=tuple(by),
        rows=rows,
        windows=windows,
        rows_read=counts.rows,
        rows_bad=counts.bad,
    )
