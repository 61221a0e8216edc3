"""One account's attempts over an incident's whole window (an appeal), read with DuckDB.

An appeal asks "did this account fail to play?" for one account, whatever the incident's
scope: every region and device. The failures are measured by the cohort's own SQL
(telemetry.cohort: distinct failures, first and last, impact minutes to the next success),
restricted to the one account, so an appeal and the bulk path count alike; successes in the
window are counted beside them, to tell the subscriber what the logs hold. Rows that break
the contract are left out here rather than refusing the appeal (the campaign's build already
judged the source); the files' headers are still checked.
"""

# SQL is assembled from telemetry.cohort's constants; values are bound.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from makegood.telemetry.attempts import (
    USABLE,
    create_attempts_view,
    inspect_files,
    resolve_attempt_files,
    source_errors,
)
from makegood.telemetry.cohort import _COHORT_SQL, _WINDOW, _from_micros, window_micros
from makegood.telemetry.engine import EngineConfig
from makegood.telemetry.source import AttemptSource


@dataclass(frozen=True, slots=True)
class AccountLog:
    """What the logs hold for one account in [starts_at, ends_at): failed attempts (distinct,
    as the cohort counts them) and successful ones, with the first and last of each."""

    failed_attempts: int = 0
    first_failure_at: datetime | None = None
    last_failure_at: datetime | None = None
    impact_minutes: int = 0
    successful_attempts: int = 0
    first_success_at: datetime | None = None
    last_success_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The findings as stored on the appeal (instants as ISO 8601 text)."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountLog:
        values: dict[str, Any] = {
            k: datetime.fromisoformat(v) if k.endswith("_at") and v else v
            for k, v in data.items()
            if k in cls.__dataclass_fields__
        }
        return cls(**values)


def read_account_log(
    events: str | AttemptSource,
    account_id: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    config: EngineConfig,
) -> AccountLog:
    """The account's attempts in the window, any region and device, read by DuckDB within
    `config`'s limits; InvalidInput naming the source when its files cannot be read."""
    source = AttemptSource.of(events)
    start_us, end_us = window_micros(starts_at, ends_at, 1)
    conn = config.connect()
    try:
        with source_errors(source):
            files = inspect_files(conn, resolve_attempt_files(source.path), (), source)
            create_attempts_view(conn, files, source)
            params: dict[str, object] = {
                "start": start_us,
                "end": end_us,
                "min_failures": 1,
                "strict": False,
                "account": account_id,
            }
            conn.execute(
                _COHORT_SQL.format(scope="account_id = $account", usable=USABLE, window=_WINDOW),
                params,
            )
            failed = conn.execute(
                "SELECT failed_attempts, first_us, last_us, impact_minutes FROM cohort "
                "WHERE account_id = $account",
                {"account": account_id},
            ).fetchone()
            ok = conn.execute(
                "SELECT count(*), epoch_us(min(ts)), epoch_us(max(ts)) FROM (SELECT DISTINCT ts, "
                f"error_code, region, device FROM attempts WHERE {USABLE} AND NOT failed "
                f"AND account_id = $account AND {_WINDOW})",
                {"account": account_id, "start": start_us, "end": end_us},
            ).fetchone()
    finally:
        conn.close()
    log: dict[str, Any] = {}
    if failed is not None:
        count, first, last, minutes = failed
        log.update(
            failed_attempts=int(count),
            first_failure_at=_from_micros(int(first)),
            last_failure_at=_from_micros(int(last)),
            impact_minutes=int(minutes),
        )
    if ok is not None and ok[0]:
        log.update(
            successful_attempts=int(ok[0]),
            first_success_at=_from_micros(int(ok[1])),
            last_success_at=_from_micros(int(ok[2])),
        )
    return AccountLog(**log)
