"""Plans and accounts, written by the store code the file imports use (stage, then upsert)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import sqlalchemy as sa

from makegood.store.accounts import Accounts, Plans

PLAN_COLUMNS = ("plan_id", "name", "monthly_price_minor", "currency")
ACCOUNT_COLUMNS = (
    "account_id",
    "email",
    "plan_id",
    "status",
    "country",
    "locale",
    "next_bill_date",
    "billing_day",
    "stripe_customer_id",
)
UPDATED_AT = datetime(2026, 3, 1, tzinfo=UTC)


def plan(
    plan_id: str = "basic",
    *,
    name: str | None = None,
    price_minor: int = 799,
    currency: str = "USD",
) -> dict[str, Any]:
    """A plan row; the name defaults to "Plan <id>"."""
    return {
        "plan_id": plan_id,
        "name": name or f"Plan {plan_id}",
        "monthly_price_minor": price_minor,
        "currency": currency,
    }


def account(
    account_id: str,
    *,
    plan_id: str = "basic",
    email: str | None = None,
    status: str = "active",
    country: str = "US",
    locale: str = "en-US",
    next_bill_date: date = date(2026, 4, 1),
    billing_day: int | None = None,
    stripe_customer_id: str | None = None,
) -> dict[str, Any]:
    """An account row; e-mail `<id>@example.com` and billing day the next bill's unless said."""
    return {
        "account_id": account_id,
        "email": email or f"{account_id}@example.com",
        "plan_id": plan_id,
        "status": status,
        "country": country,
        "locale": locale,
        "next_bill_date": next_bill_date,
        "billing_day": billing_day or next_bill_date.day,
        "stripe_customer_id": stripe_customer_id,
    }


def _batch(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([{c: row[c] for c in columns} for row in rows])


def save_plans(
    conn: sa.Connection, rows: Sequence[dict[str, Any]], now: datetime = UPDATED_AT
) -> None:
    """Create or update plans in the caller's transaction, as `makegood import plans` does."""
    if rows:
        Plans(conn).import_rows(PLAN_COLUMNS, [_batch(rows, PLAN_COLUMNS)], now)


def save_accounts(
    conn: sa.Connection, rows: Sequence[dict[str, Any]], now: datetime = UPDATED_AT
) -> None:
    """Create or update accounts in the caller's transaction, as `makegood import accounts`
    does (a re-import keeps the billing anchor when the next bill date did not change)."""
    if rows:
        Accounts(conn).import_rows(ACCOUNT_COLUMNS, [_batch(rows, ACCOUNT_COLUMNS)], now)
