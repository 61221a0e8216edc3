"""Billing dates: monthly cycles anchored on a billing day, and when a credit lands (pure)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime


def add_months(current: date, billing_day: int, months: int = 1) -> date:
    """The billing date `months` later, on `billing_day` clamped to the month's length."""
    index = current.year * 12 + (current.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(billing_day, last))


def statement_cutoff(statement_date: date) -> datetime:
    """A credit granted at t lands on the first statement D with t < D 00:00 UTC."""
    return datetime(statement_date.year, statement_date.month, statement_date.day, tzinfo=UTC)


def lands_on(granted_at: datetime, statement_date: date) -> bool:
    """True when a credit granted at `granted_at` may appear on the statement of that date."""
    if granted_at.tzinfo is None:
        raise ValueError("granted_at must be timezone-aware")
    return granted_at < statement_cutoff(statement_date)


def statement_date_for(credited_at: datetime, next_bill_date: date, billing_day: int) -> date:
    """The first statement from `next_bill_date` on that a credit made at `credited_at` lands on
    (the one rule: the claim page, the status e-mail and the account API all ask here)."""
    day = next_bill_date
    while not lands_on(credited_at, day):
        day = add_months(day, billing_day)
    return day
