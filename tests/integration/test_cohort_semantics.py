"""Cohort semantics (docs/cohort.md): --min-failures, --strict, impact minutes, by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from makegood.domain.errors import InvalidInput
from makegood.telemetry.cohort import CohortRow, compute_cohort
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv

START = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
END = datetime(2026, 3, 22, 16, 0, tzinfo=UTC)

ROWS = [
    # recovers: failures 12:10 and 12:20, watches at 12:35 -> 25 minutes, not strict
    attempt("recovers", "2026-03-22T12:10:00Z"),
    attempt("recovers", "2026-03-22T12:20:00Z"),
    attempt("recovers", "2026-03-22T12:35:00Z", outcome="success"),
    attempt("recovers", "2026-03-22T12:50:00Z", outcome="success"),
    # never: one failure at 13:00:30, nothing after -> 179.5 minutes, rounded up to 180
    attempt("never", "2026-03-22T13:00:30Z"),
    # watched_before: a success before the first failure does not count
    attempt("watched_before", "2026-03-22T12:05:00Z", outcome="success"),
    attempt("watched_before", "2026-03-22T12:30:00Z"),
    # last_moment: 0.5 s before the end -> 1 minute, the least impact there is
    attempt("last_moment", "2026-03-22T15:59:59.500000Z"),
    # after_end: its success at the window's end (excluded) does not end the impact
    attempt("after_end", "2026-03-22T12:00:00Z"),
    attempt("after_end", "2026-03-22T16:00:00Z", outcome="success"),
    # elsewhere: fails in scope, then watches in a region outside it: it could watch again
    attempt("elsewhere", "2026-03-22T13:00:00Z", region="us-east"),
    attempt("elsewhere", "2026-03-22T13:07:00+00:00", outcome="success", region="eu-west"),
    # same_instant: a success logged at the very instant of the failure is not after it
    attempt("same_instant", "2026-03-22T14:00:00Z"),
    attempt("same_instant", "2026-03-22T14:00:00Z", outcome="success"),
    # twice: the same failure logged twice is one failed attempt
    attempt("twice", "2026-03-22T15:00:00Z"),
    attempt("twice", "2026-03-22T15:00:00Z"),
    # out_of_scope: fails only in a region outside the scope
    attempt("out_of_scope", "2026-03-22T13:00:00Z", region="eu-west"),
    # offsets: +05:30 and -08:00 converted before the window applies
    attempt("ist", "2026-03-22T19:30:00+05:30"),  # 14:00Z
    attempt("ist", "2026-03-22T06:30:00-08:00", outcome="success"),  # 14:30Z -> 30 minutes
    # nulls: no account or no timestamp: skipped
    attempt("", "2026-03-22T13:00:00Z"),
    attempt("no_ts", ""),
]

IMPACT = {
    "after_end": 240,
    "elsewhere": 7,
    "ist": 30,
    "last_moment": 1,
    "never": 180,
    "recovers": 25,
    "same_instant": 120,
    "twice": 60,
    "watched_before": 210,
}


@pytest.fixture
def events(tmp_path: Path) -> str:
    return str(write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, ROWS))


def cohort(events: str, **options: object) -> dict[str, CohortRow]:
    with compute_cohort(events, START, END, ["us-east"], [], **options) as result:  # type: ignore[arg-type]
        rows = {row.account_id: row for row in result.rows()}
        assert result.count == len(rows)
        return rows


def test_default_is_one_failure_in_window_and_scope_with_impact_minutes(events: str) -> None:
    rows = cohort(events)
    assert {a: r.impact_minutes for a, r in rows.items()} == IMPACT
    assert rows["recovers"].failed_attempts == 2
    assert rows["twice"].failed_attempts == 1
    assert rows["ist"].first_failure_at == datetime(2026, 3, 22, 14, 0, tzinfo=UTC)


def test_min_failures_counts_distinct_failed_attempts(events: str) -> None:
    with compute_cohort(events, START, END, ["us-east"], [], min_failures=2) as result:
        assert [r.account_id for r in result.rows()] == ["recovers"]
        assert result.stats.below_min_failures == len(IMPACT) - 1
        assert result.stats.failed_attempts == 2


def test_strict_keeps_who_tried_and_could_not_watch(events: str) -> None:
    with compute_cohort(events, START, END, ["us-east"], [], strict=True) as result:
        kept = {r.account_id: r.impact_minutes for r in result.rows()}
        assert result.stats.recovered == 3
    assert kept == {a: m for a, m in IMPACT.items() if a not in {"recovers", "elsewhere", "ist"}}
    # strict and min-failures together
    assert cohort(events, strict=True, min_failures=2) == {}


def test_the_four_contract_columns_are_unchanged_by_the_new_semantics(events: str) -> None:
    row = cohort(events)["recovers"]
    assert (row.account_id, row.failed_attempts, row.first_failure_at, row.last_failure_at) == (
        "recovers",
        2,
        datetime(2026, 3, 22, 12, 10, tzinfo=UTC),
        datetime(2026, 3, 22, 12, 20, tzinfo=UTC),
    )


def test_min_failures_below_one_is_refused(events: str) -> None:
    with pytest.raises(InvalidInput, match="--min-failures must be at least 1"):
        compute_cohort(events, START, END, [], [], min_failures=0)
