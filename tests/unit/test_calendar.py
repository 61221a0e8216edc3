"""Billing calendar: month clamping, leap years, and the instant a credit lands."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.calendar import add_months, lands_on, statement_cutoff
from makegood.domain.statements import due_dates

anchors = st.integers(min_value=1, max_value=31)
years = st.integers(min_value=1990, max_value=2200)
months = st.integers(min_value=1, max_value=12)


def _on_anchor(year: int, month: int, billing_day: int) -> date:
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def test_day_31_clamps_to_february_and_comes_back_in_march() -> None:
    jan = date(2026, 1, 31)
    feb = add_months(jan, 31)
    mar = add_months(feb, 31)
    assert (feb, mar) == (date(2026, 2, 28), date(2026, 3, 31))
    assert add_months(mar, 31) == date(2026, 4, 30)


def test_leap_year_february_has_29_days() -> None:
    assert add_months(date(2028, 1, 31), 31) == date(2028, 2, 29)
    assert add_months(date(2028, 1, 30), 30) == date(2028, 2, 29)
    assert add_months(date(2028, 2, 29), 29, months=12) == date(2029, 2, 28)
    assert add_months(date(2029, 2, 28), 29, months=12) == date(2030, 2, 28)
    assert add_months(date(2031, 2, 28), 29, months=12) == date(2032, 2, 29)


def test_december_rolls_into_the_next_year() -> None:
    assert add_months(date(2026, 12, 15), 15) == date(2027, 1, 15)


@given(years, months, anchors, st.integers(min_value=-36, max_value=36))
def test_the_day_is_the_anchor_clamped_to_the_month(
    year: int, month: int, billing_day: int, steps: int
) -> None:
    result = add_months(_on_anchor(year, month, billing_day), billing_day, months=steps)
    assert result.day == min(billing_day, calendar.monthrange(result.year, result.month)[1])
    assert (result.year * 12 + result.month) - (year * 12 + month) == steps


@given(years, months, anchors, st.integers(min_value=1, max_value=40))
def test_successive_months_strictly_increase_one_month_apart(
    year: int, month: int, billing_day: int, count: int
) -> None:
    current = _on_anchor(year, month, billing_day)
    for _ in range(count):
        following = add_months(current, billing_day)
        assert following > current
        assert (following.year * 12 + following.month) - (current.year * 12 + current.month) == 1
        assert 28 <= (following - current).days <= 31
        current = following


@given(years, months, anchors)
def test_twelve_steps_are_one_year_later_on_the_same_anchor(
    year: int, month: int, billing_day: int
) -> None:
    start = _on_anchor(year, month, billing_day)
    stepped = start
    for _ in range(12):
        stepped = add_months(stepped, billing_day)
    assert stepped == _on_anchor(year + 1, month, billing_day)
    assert stepped == add_months(start, billing_day, months=12)


@given(years, months, anchors, st.integers(min_value=0, max_value=800))
def test_due_dates_are_every_cycle_up_to_through_and_then_the_next(
    year: int, month: int, billing_day: int, days_ahead: int
) -> None:
    start = _on_anchor(year, month, billing_day)
    through = start + timedelta(days=days_ahead)
    dates, following = due_dates(start, billing_day, through)
    assert dates[0] == start
    assert all(d <= through for d in dates)
    assert following > through
    assert [*dates[1:], following] == [add_months(d, billing_day) for d in dates]


def test_nothing_is_due_before_the_next_bill_date() -> None:
    assert due_dates(date(2026, 4, 1), 1, date(2026, 3, 31)) == ([], date(2026, 4, 1))


def test_a_credit_lands_only_when_granted_before_midnight_utc_of_the_statement_date() -> None:
    statement = date(2026, 4, 1)
    assert statement_cutoff(statement) == datetime(2026, 4, 1, tzinfo=UTC)
    assert lands_on(datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC), statement)
    assert not lands_on(datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC), statement)
    # 20:30 in New York on Mar 31 is already 00:30 UTC on Apr 1: too late for that statement.
    new_york = timezone(timedelta(hours=-4))
    assert not lands_on(datetime(2026, 3, 31, 20, 30, tzinfo=new_york), statement)


def test_a_naive_grant_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        lands_on(datetime(2026, 3, 31, 12), date(2026, 4, 1))  # noqa: DTZ001 - the point
