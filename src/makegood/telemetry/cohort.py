"""The affected cohort of an incident, computed from playback-attempt logs with DuckDB.

An account is affected when it has at least one failed attempt with ts in [starts_at,
ends_at) inside the incident's scope (regions and devices; an empty list means no
restriction). Identical rows count once. Accounts unknown to the database are included:
the cohort comes before eligibility. Rows are ordered by account_id.
"""

# SQL is assembled from constants; values are bound, file names pass through sql_string.
# ruff: noqa: S608

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.telemetry.attempts import (
    USABLE,
    check_attempts,
    create_attempts_view,
    inspect_files,
    reader_problem,
    resolve_attempt_files,
    sql_string,
)
from makegood.telemetry.engine import connect_duckdb

COHORT_COLUMNS = ("account_id", "failed_attempts", "first_failure_at", "last_failure_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One affected account and its evidence (failed attempts counted once each)."""

    account_id: str
    failed_attempts: int
    first_failure_at: datetime  # UTC
    last_failure_at: datetime  # UTC


@dataclass(frozen=True)
class CohortStats:
    """What the source held and what the cohort rests on."""

    files: int
    rows_read: int
    rows_skipped: int  # no account_id or no ts: not counted
    failures_in_scope: int  # failed attempts in the window and scope, duplicates included
    duplicates_ignored: int
    failed_attempts: int  # distinct failed attempts in the window and scope
    affected: int

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

    Use as a context manager, or call close(). Rows come in account_id order.
    """

    def __init__(self, conn: Any, stats: CohortStats) -> None:
        self._conn = conn
        self.stats = stats

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
                "SELECT account_id, failed_attempts, first_us, last_us FROM cohort "
                "WHERE $after IS NULL OR account_id > $after ORDER BY account_id LIMIT $size",
                {"after": after, "size": size},
            ).fetchall()
            if not rows:
                return
            yield [
                CohortRow(str(a), int(n), _from_micros(first), _from_micros(last))
                for a, n, first, last in rows
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
            options = "FORMAT csv, HEADER true"
        elif suffix == ".parquet":
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
            f"COPY (SELECT account_id, failed_attempts, {first} AS first_failure_at, "
            f"{last} AS last_failure_at FROM cohort ORDER BY account_id) "
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


def compute_cohort(
    events: str,
    starts_at: datetime,
    ends_at: datetime,
    regions: Sequence[str],
    devices: Sequence[str],
    *,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
) -> CohortResult:
    """The accounts with a failed attempt in [starts_at, ends_at) inside the scope.

    `events` is a file, directory or glob of attempt files. Raises InvalidInput naming the
    file, line and column when the source breaks the contract (nothing is computed then).
    """
    start_us, end_us = _utc_micros(starts_at, "starts_at"), _utc_micros(ends_at, "ends_at")
    if end_us <= start_us:
        raise InvalidInput("the incident window must end after it starts")
    paths = resolve_attempt_files(events)
    scope_columns = [name for name, values in (("region", regions), ("device", devices)) if values]
    conn = connect_duckdb(memory_limit=memory_limit, temp_dir=temp_dir)
    try:
        files = inspect_files(conn, paths, scope_columns)
        create_attempts_view(conn, files)
        counts = check_attempts(conn)
        conditions = [
            USABLE,
            "outcome = 'failure'",
            "ts >= make_timestamp($start::BIGINT)::TIMESTAMPTZ",
            "ts < make_timestamp($end::BIGINT)::TIMESTAMPTZ",
        ]
        params: dict[str, object] = {"start": start_us, "end": end_us}
        if regions:
            conditions.append("list_contains($regions, region)")
            params["regions"] = list(regions)
        if devices:
            conditions.append("list_contains($devices, device)")
            params["devices"] = list(devices)
        # Identical rows are one attempt logged twice (retried shipping, overlapping files).
        conn.execute(
            f"""
            CREATE TEMP TABLE cohort AS
            WITH hits AS (
                SELECT account_id, ts, error_code, region, device, count(*) AS copies
                FROM attempts WHERE {" AND ".join(conditions)}
                GROUP BY account_id, ts, error_code, region, device
            )
            SELECT account_id, count(*) AS failed_attempts, sum(copies) AS copies,
                   epoch_us(min(ts)) AS first_us, epoch_us(max(ts)) AS last_us
            FROM hits GROUP BY account_id
            """,
            params,
        )
        totals = conn.execute(
            "SELECT count(*), coalesce(sum(failed_attempts), 0), coalesce(sum(copies), 0) "
            "FROM cohort"
        ).fetchone()
    except InvalidInput:
        conn.close()
        raise
    except Exception as exc:
        conn.close()
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise InvalidInput(
                f"{events}: cannot read the attempt files: {reader_problem(exc)}"
            ) from exc
        raise
    affected, distinct, raw = (int(v) for v in totals)
    stats = CohortStats(
        files=len(paths),
        rows_read=counts.rows,
        rows_skipped=counts.skipped,
        failures_in_scope=raw,
        duplicates_ignored=raw - distinct,
        failed_attempts=distinct,
        affected=affected,
    )
    return CohortResult(conn, stats)
