"""Cohort semantics (docs/cohort.md): --min-failures, --strict, impact minutes, by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from makegood.domain.cohort import enough_failures
from makegood.domain.errors import InvalidInput
from makegood.telemetry.cohort import CohortRow, compute_cohort
from tests.factories.cohort_cases import IMPACT, ROWS
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv

START = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
END = datetime(2026, 3, 22, 16, 0, tzinfo=UTC)


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


@pytest.mark.parametrize("min_failures", [1, 2, 3, 4, 5])
def test_the_cohort_keeps_whom_the_domain_rule_keeps(tmp_path: Path, min_failures: int) -> None:
    """DuckDB's `kept` and `below_min_failures` are domain.cohort.enough_failures in bulk (the
    appeal path asks the rule itself): equal on accounts with 1 to 4 distinct failures."""
    failures = {f"acc-{n}": n for n in (1, 2, 3, 4)}
    rows = [
        attempt(account, f"2026-03-22T13:{10 * i:02d}:00Z")
        for account, n in failures.items()
        for i in range(n)
    ]
    events = str(write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, rows))
    with compute_cohort(events, START, END, [], [], min_failures=min_failures) as result:
        kept = {r.account_id: r.failed_attempts for r in result.rows()}
        below = result.stats.below_min_failures
    assert kept == {a: n for a, n in failures.items() if enough_failures(n, min_failures)}
    assert below == sum(not enough_failures(n, min_failures) for n in failures.values())
