"""The affected cohort of an incident, computed from playback-attempt logs with DuckDB.

An account is affected when it has at least one (or `min_failures`) failed attempt with ts in
[starts_at, ends_at) inside the incident's scope (regions and devices; an empty list means no
restriction) and, when `strict`, no successful attempt after its first failure before the
window's end. Identical rows count once. Accounts unknown to the database are included: the
cohort comes before eligibility. Rows are ordered by account_id. See docs/cohort.md.
"""

# SQL is assembled from constants; values are bound, file names pass through sql_string.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from makegood.domain.cohort import check_min_failures
from makegood.domain.csv_cells import safe_cell_sql
from makegood.domain.errors import InvalidInput
from makegood.telemetry.attempts import USABLE, AttemptCounts, open_attempts, source_errors
from makegood.telemetry.engine import connect_duckdb
from makegood.telemetry.source import AttemptSource
from makegood.telemetry.sql import sql_string

# The four contract columns first, unchanged; then what later issues added.
COHORT_COLUMNS = (
    "account_id",
    "failed_attempts",
    "first_failure_at",
    "last_failure_at",
    "impact_minutes",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One affected account and its evidence (failed attempts counted once each).

    `impact_minutes`: from the first failure to the next successful attempt after it, or to the
    window's end, in whole minutes rounded up (at least 1).
    """

    account_id: str
    failed_attempts: int
    first_failure_at: datetime  # UTC
    last_failure_at: datetime  # UTC
    impact_minutes: int


@dataclass(frozen=True)
class CohortStats:
    """What the source held and what the cohort rests on."""

    files: int
    rows_read: int
    rows_skipped: int  # no account_id or no ts: not counted
    failures_in_scope: int  # the cohort's failed attempts in window and scope, with duplicates
    duplicates_ignored: int
    failed_attempts: int  # the cohort's distinct failed attempts in the window and scope
    affected: int
    rows_bad: int = 0  # unparseable ts or outcome, left out (only when the source skips them)
    below_min_failures: int = 0  # accounts with a failure, but fewer than --min-failures
    recovered: int = 0  # accounts with enough failures and a later success (--strict drops them)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _utc_micros(value: datetime, name: str) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _iso_utc(column: str) -> str:
    """SQL rendering epoch microseconds as Python's isoformat() of a UTC datetime."""
    ts = f"make_timestamp({column})"
    return (
        f"strftime({ts}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN {column} % 1000000 = 0 THEN '' "
        f"ELSE '.' || strftime({ts}, '%f') END || '+00:00'"
    )


class CohortResult:
    """The computed cohort, held by DuckDB (spilling to disk when large) until closed.

    Use as a context manager, or call close(). Rows come in account_id order. An engine hands
    over a connection holding the table `cohort(account_id VARCHAR, failed_attempts BIGINT,
    copies BIGINT, first_us BIGINT, last_us BIGINT, impact_minutes BIGINT, kept BOOLEAN)`:
    one row per account with a failure in the window and scope, `kept` for those in the cohort.
    """

    def __init__(self, conn: Any, stats: CohortStats) -> None:
        self._conn = conn
        self.stats = stats

    @property
    def duck(self) -> Any:
        """The DuckDB connection holding the table `cohort` (eligibility joins it there)."""
        return self._conn

    @property
    def count(self) -> int:
        """Affected accounts."""
        return self.stats.affected

    def batches(self, size: int = 50_000) -> Iterator[list[CohortRow]]:
        """Rows in account_id order, `size` at a time, so memory stays bounded."""
        if size < 1:
            raise ValueError("batch size must be positive")
        after: str | None = None
        while True:
            rows = self._conn.execute(
                "SELECT account_id, failed_attempts, first_us, last_us, impact_minutes "
                "FROM cohort WHERE kept AND ($after IS NULL OR account_id > $after) "
                "ORDER BY account_id LIMIT $size",
                {"after": after, "size": size},
            ).fetchall()
            if not rows:
                return
            yield [
                CohortRow(str(a), int(n), _from_micros(first), _from_micros(last), int(minutes))
                for a, n, first, last, minutes in rows
            ]
            after = str(rows[-1][0])

    def rows(self, batch_size: int = 50_000) -> Iterator[CohortRow]:
        """Every row in account_id order, read `batch_size` at a time."""
        for batch in self.batches(batch_size):
            yield from batch

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the cohort to `path`: CSV (timestamps ISO 8601 with +00:00) or Parquet
        (timestamps in microseconds, adjusted to UTC), chosen by extension. Written to a
        temporary name first, so a reader never sees half a file."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".csv":
            first, last = _iso_utc("first_us"), _iso_utc("last_us")
            account = safe_cell_sql("account_id")  # a spreadsheet opens it: no formulas
            options = "FORMAT csv, HEADER true"
        elif suffix == ".parquet":
            account = "account_id"
            first, last = (
                "make_timestamp(first_us)::TIMESTAMPTZ",
                "make_timestamp(last_us)::TIMESTAMPTZ",
            )
            options = "FORMAT parquet"
        else:
            raise InvalidInput(f"{target}: the cohort file must end in .csv or .parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        self._conn.execute(
            f"COPY (SELECT {account} AS account_id, failed_attempts, {first} AS first_failure_at, "
            f"{last} AS last_failure_at, impact_minutes FROM cohort WHERE kept "
            f"ORDER BY cohort.account_id) "
            f"TO {sql_string(str(partial))} ({options})"
        )
        os.replace(partial, target)
        return target

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> CohortResult:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _scope_conditions(
    regions: Sequence[str], devices: Sequence[str], params: dict[str, object]
) -> str:
    """The scope as `column IN (values)` with bound values: a form DuckDB hands to the Parquet
    scan, which then skips row groups whose min/max exclude every value."""
    conditions = ["true"]
    for column, values in (("region", regions), ("device", devices)):
        if values:
            names = [f"{column}_{i}" for i in range(len(values))]
            params.update(zip(names, values, strict=True))
            conditions.append(f"{column} IN ({', '.join('$' + n for n in names)})")
    return " AND ".join(conditions)


# Per account: distinct failures in the window and scope, and the first success (anywhere:
# the subscriber could watch again) after the first of them, before the window's end.
# `kept`: domain.cohort.enough_failures in bulk (and, when strict, no success after).
# Identical rows are one attempt logged twice (retried shipping, overlapping files).
# Failures and successes are two reads of the view rather than one materialised window: each
# read keeps only the rows and columns it needs, the window's bounds reach the Parquet scan
# (row groups outside it are skipped by their min/max) and nothing the size of the window is
# held or spilled; only `accounts` (one row per account with a failure) is materialised.
_COHORT_SQL = """
CREATE TEMP TABLE cohort AS
WITH hits AS (
    SELECT account_id, ts, error_code, region, device, count(*) AS copies
    FROM attempts
    WHERE {usable} AND failed AND ({scope}) AND {window}
    GROUP BY account_id, ts, error_code, region, device
), accounts AS MATERIALIZED (
    SELECT account_id, count(*) AS failed_attempts, sum(copies) AS copies,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM hits GROUP BY account_id
), successes AS (
    SELECT account_id, ts FROM attempts WHERE {usable} AND NOT failed AND {window}
), recovered AS (
    SELECT a.account_id, min(s.ts) AS success_ts
    FROM accounts a JOIN successes s ON s.account_id = a.account_id AND s.ts > a.first_ts
    GROUP BY a.account_id
)
SELECT a.account_id, a.failed_attempts, a.copies, epoch_us(a.first_ts) AS first_us,
       epoch_us(a.last_ts) AS last_us, epoch_us(r.success_ts) AS success_us,
       (coalesce(epoch_us(r.success_ts), $end::BIGINT) - epoch_us(a.first_ts) + 59999999)
           // 60000000 AS impact_minutes,
       a.failed_attempts >= $min_failures AND ($strict = false OR r.success_ts IS NULL)
           AS kept
FROM accounts a LEFT JOIN recovered r USING (account_id)
"""
_WINDOW = (
    "ts >= make_timestamp($start::BIGINT)::TIMESTAMPTZ "
    "AND ts < make_timestamp($end::BIGINT)::TIMESTAMPTZ"
)


def compute_cohort(
    events: str | AttemptSource,
    starts_at: datetime,
    ends_at: datetime,
    regions: Sequence[str],
    devices: Sequence[str],
    *,
    min_failures: int = 1,
    strict: bool = False,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
    say: Callable[[str], None] | None = None,
) -> CohortResult:
    """The accounts with at least `min_failures` distinct failed attempts in [starts_at,
    ends_at) inside the scope and, when `strict`, no successful attempt after their first
    failure before the window's end. Each row carries its impact minutes (docs/cohort.md).

    `events` is an AttemptSource or a path (file, directory or glob). Raises InvalidInput
    naming the file, line and column when the source breaks the contract and the source does
    not skip bad rows (nothing is computed then). `say` receives a line per phase.
    """
    source = AttemptSource.of(events)
    start_us, end_us = window_micros(starts_at, ends_at, min_failures)
    scope_columns = scope_columns_of(regions, devices)
    conn = connect_duckdb(memory_limit=memory_limit, temp_dir=temp_dir)
    try:
        with source_errors(source):
            paths, counts = open_attempts(conn, source, scope_columns, say)
            params: dict[str, object] = {
                "start": start_us,
                "end": end_us,
                "min_failures": min_failures,
                "strict": strict,
            }
            scope = _scope_conditions(regions, devices, params)
            if say:
                say("computing the cohort of the window")
            conn.execute(_COHORT_SQL.format(scope=scope, usable=USABLE, window=_WINDOW), params)
            result = cohort_result(conn, len(paths), counts, min_failures)
    except Exception:
        conn.close()
        raise
    return result


def window_micros(starts_at: datetime, ends_at: datetime, min_failures: int) -> tuple[int, int]:
    """The window's bounds in UTC microseconds, after checking the request (every engine)."""
    start_us, end_us = _utc_micros(starts_at, "starts_at"), _utc_micros(ends_at, "ends_at")
    if end_us <= start_us:
        raise InvalidInput("the incident window must end after it starts")
    check_min_failures(min_failures)
    return start_us, end_us


def scope_columns_of(regions: Sequence[str], devices: Sequence[str]) -> list[str]:
    """The optional columns the incident's scope needs the attempt files to have."""
    return [name for name, values in (("region", regions), ("device", devices)) if values]


def cohort_result(conn: Any, files: int, counts: AttemptCounts, min_failures: int) -> CohortResult:
    """Totals and the result over the `cohort` table an engine left in `conn` (see module doc);
    `below_min_failures` counts the accounts domain.cohort.enough_failures does not keep."""
    totals = conn.execute(
        "SELECT count(*) FILTER (kept), "
        "coalesce(sum(failed_attempts) FILTER (kept), 0), "
        "coalesce(sum(copies) FILTER (kept), 0), "
        "count(*) FILTER (failed_attempts < $min_failures), "
        "count(*) FILTER (failed_attempts >= $min_failures AND success_us IS NOT NULL) "
        "FROM cohort",
        {"min_failures": min_failures},
    ).fetchone()
    affected, distinct, raw, few, recovered = (int(v) for v in totals)
    stats = CohortStats(
        files=files,
        rows_read=counts.rows,
        rows_skipped=counts.skipped,
        rows_bad=counts.bad,
        failures_in_scope=raw,
        duplicates_ignored=raw - distinct,
        failed_attempts=distinct,
        below_min_failures=few,
        recovered=recovered,
        affected=affected,
    )
    return CohortResult(conn, stats)
