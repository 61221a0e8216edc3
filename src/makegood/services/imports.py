"""Import plans and accounts: validate the whole file, then upsert by id in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.money import Money, MoneyError
from makegood.services.audit import record
from makegood.services.tabular import Problems, read_rows
from makegood.store import tables as t
from makegood.store.upsert import upsert

PLAN_COLUMNS = ("plan_id", "name", "monthly_price", "currency")
ACCOUNT_COLUMNS = (
    "account_id",
    "email",
    "plan_id",
    "status",
    "country",
    "locale",
    "next_bill_date",
)
STATUSES = ("active", "paused", "cancelled")
CHUNK = 5_000
ID_MAX = 64

# BCP 47 language tag, well-formed (RFC 5646 syntax, without grandfathered irregular tags).
_BCP47 = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?$"
)
# Deliberately plain: one @, no spaces or control characters (which would allow header injection).
_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f<>,;\"]+@[^@\s\x00-\x1f\x7f<>,;\"]+\.[^@\s\x00-\x1f\x7f<>,;\"]+$"
)
_COUNTRY = re.compile(r"^[A-Za-z]{2,3}$")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    created: int
    updated: int


def well_formed_locale(tag: str) -> bool:
    """True for a well-formed BCP 47 tag such as en-US, pt-BR, zh-Hant-TW or sr-Latn."""
    return bool(_BCP47.match(tag)) and len(tag) <= 64


def _has_control(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def _check_id(problems: Problems, line: int, column: str, value: str) -> bool:
    if not value:
        problems.add(line, column, "is empty; every row needs an id")
        return False
    if len(value) > ID_MAX or any(c.isspace() or ord(c) < 32 for c in value):
        problems.add(line, column, f"id must be at most {ID_MAX} characters without spaces")
        return False
    return True


def _check_duplicate(
    problems: Problems, seen: dict[str, int], line: int, column: str, value: str
) -> None:
    first = seen.setdefault(value, line)
    if first != line:
        problems.add(line, column, f"duplicate id {value!r} (first on line {first})")


def _plan_row(row: dict[str, str], line: int, problems: Problems) -> dict[str, Any] | None:
    currency = row["currency"].upper()
    try:
        price = Money.parse(row["monthly_price"], currency)
    except MoneyError as exc:
        column = "currency" if "currency" in str(exc) else "monthly_price"
        problems.add(line, column, str(exc))
        return None
    if price.minor < 0:
        problems.add(line, "monthly_price", "must not be negative")
        return None
    if not row["name"]:
        problems.add(line, "name", "is empty")
        return None
    if _has_control(row["name"]):  # PostgreSQL text cannot hold NUL; names are one line
        problems.add(line, "name", "must not contain control characters (line breaks, NUL)")
        return None
    return {
        "plan_id": row["plan_id"],
        "name": row["name"][:200],
        "monthly_price_minor": price.minor,
        "currency": currency,
    }


def import_plans(container: Container, path: Path, actor: str = "cli") -> ImportSummary:
    """Create or update plans from `path`; any bad row aborts the whole import."""
    problems = Problems(path)
    seen: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for row in read_rows(path, PLAN_COLUMNS):
        if row.width_problem:
            problems.add(row.line, "*", row.width_problem)
            continue
        if not _check_id(problems, row.line, "plan_id", row.values["plan_id"]):
            continue
        _check_duplicate(problems, seen, row.line, "plan_id", row.values["plan_id"])
        plan = _plan_row(row.values, row.line, problems)
        if plan is not None:
            rows.append(plan)
    problems.raise_if_any()
    now = container.now()
    with container.uow() as uow:
        existing = _existing(uow.conn, t.plans.c.plan_id, [r["plan_id"] for r in rows])
        upsert(uow.conn, t.plans, [{**r, "updated_at": now} for r in rows], ["plan_id"])
        summary = ImportSummary(len(rows), len(rows) - existing, existing)
        record(uow, now, actor, "plans.imported", "file", path.name, summary.__dict__)
        uow.commit()
    return summary


def _existing(conn: sa.Connection, column: sa.Column[str], ids: list[str]) -> int:
    found = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found += conn.execute(sa.select(sa.func.count()).where(column.in_(chunk))).scalar_one()
    return found


def _account_row(
    row: dict[str, str], line: int, problems: Problems, plans: set[str]
) -> dict[str, Any] | None:
    before = problems.count
    if not _EMAIL.match(row["email"]) or len(row["email"]) > 320:
        problems.add(line, "email", "is not a valid e-mail address")
    if row["plan_id"] not in plans:
        problems.add(line, "plan_id", f"unknown plan {row['plan_id']!r}; import plans first")
    status = row["status"].lower()
    if status not in STATUSES:
        problems.add(line, "status", f"{row['status']!r} must be one of {', '.join(STATUSES)}")
    if row["country"] and not _COUNTRY.match(row["country"]):
        problems.add(line, "country", f"{row['country']!r} is not a country code (US, FR)")
    if not well_formed_locale(row["locale"]):
        problems.add(line, "locale", f"{row['locale']!r} is not a BCP 47 tag (en-US, pt-BR)")
    try:
        next_bill = date.fromisoformat(row["next_bill_date"][:10])
        if len(row["next_bill_date"]) > 10 and "T" not in row["next_bill_date"]:
            raise ValueError
    except ValueError:
        problems.add(
            line, "next_bill_date", f"{row['next_bill_date']!r} is not a date (YYYY-MM-DD)"
        )
        return None
    billing_day = next_bill.day
    if row.get("billing_day"):
        if not row["billing_day"].isdigit() or not 1 <= int(row["billing_day"]) <= 31:
            problems.add(line, "billing_day", "must be a day of month from 1 to 31")
            return None
        billing_day = max(int(row["billing_day"]), next_bill.day)
    optional = _optional_columns(row, line, problems)
    if problems.count != before:
        return None
    account = {
        "account_id": row["account_id"],
        "email": row["email"],
        "plan_id": row["plan_id"],
        "status": status,
        "country": row["country"].upper(),
        "locale": row["locale"],
        "next_bill_date": next_bill,
        "billing_day": billing_day,
        **optional,
    }
    return account


def _optional_columns(row: dict[str, str], line: int, problems: Problems) -> dict[str, Any]:
    """Optional columns: only a file that has one sets (or, empty, clears) it."""
    optional: dict[str, Any] = {}
    customer = row.get("stripe_customer_id")
    if customer and (
        len(customer) > 255 or any(c.isspace() for c in customer) or _has_control(customer)
    ):
        problems.add(line, "stripe_customer_id", "must be a Stripe customer id such as cus_123")
    if customer is not None:
        optional["stripe_customer_id"] = customer or None
    if "cancelled_at" in row:
        optional["cancelled_at"] = _cancelled_at(row["cancelled_at"], line, problems)
    return optional


def _cancelled_at(value: str | None, line: int, problems: Problems) -> datetime | None:
    """Optional `cancelled_at`: ISO 8601 with an offset, empty when not cancelled."""
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None or len(value) > 40:
        problems.add(
            line,
            "cancelled_at",
            f"{value[:40]!r} is not an instant with an offset (2026-03-22T21:00:00+00:00); "
            "leave it empty when the account is not cancelled",
        )
        return None
    return instant.astimezone(UTC)


def import_accounts(
    container: Container, path: Path, actor: str = "cli", progress: Progress | None = None
) -> ImportSummary:
    """Create or update accounts from `path`, validated in full before anything is written."""
    with container.uow() as uow:
        plans = set(uow.conn.execute(sa.select(t.plans.c.plan_id)).scalars())
    problems = Problems(path)
    seen: dict[str, int] = {}
    for row in read_rows(path, ACCOUNT_COLUMNS):
        if row.width_problem:
            problems.add(row.line, "*", row.width_problem)
            continue
        if _check_id(problems, row.line, "account_id", row.values["account_id"]):
            _check_duplicate(problems, seen, row.line, "account_id", row.values["account_id"])
        _account_row(row.values, row.line, problems, plans)
    problems.raise_if_any()
    del seen
    now = container.now()
    created = total = 0
    with container.uow() as uow:
        batch: list[dict[str, Any]] = []
        for row in read_rows(path, ACCOUNT_COLUMNS):
            account = _account_row(row.values, row.line, problems, plans)
            assert account is not None  # validated above
            batch.append({**account, "updated_at": now})
            if len(batch) >= CHUNK:
                created += _write_accounts(uow.conn, batch)
                total += len(batch)
                batch = []
                if progress:
                    progress(total)
        created += _write_accounts(uow.conn, batch)
        total += len(batch)
        summary = ImportSummary(total, created, total - created)
        record(uow, now, actor, "accounts.imported", "file", path.name, summary.__dict__)
        uow.commit()
    if progress:
        progress(total)
    return summary


def _write_accounts(conn: sa.Connection, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    existing = _existing(conn, t.accounts.c.account_id, [r["account_id"] for r in batch])
    # Keep an account's billing anchor (31) when its next bill date did not change (Feb 28).
    keep_anchor = sa.case(
        (
            t.accounts.c.next_bill_date == sa.literal_column("excluded.next_bill_date"),
            t.accounts.c.billing_day,
        ),
        else_=sa.literal_column("excluded.billing_day"),
    )
    upsert(conn, t.accounts, batch, ["account_id"], {"billing_day": keep_anchor})
    return len(batch) - existing
