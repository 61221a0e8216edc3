"""SQL for billing: due accounts page by page, open credits, statements and their lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.statements import ChargeBack, OpenCredit, PlanCharge
from makegood.store.bulk_insert import insert_dicts
from makegood.store.ledger import CHARGE_BACK
from makegood.store.tables import (
    accounts,
    campaigns,
    credits,
    incidents,
    plans,
    statement_lines,
    statements,
)
from makegood.store.tables_billing import connector_postings, credit_states, ledger_entries


@dataclass(frozen=True, slots=True)
class DueAccount:
    """An active account whose next bill date has come, with its plan."""

    account_id: str
    next_bill_date: date
    billing_day: int
    plan: PlanCharge


def due_accounts_page(
    conn: sa.Connection, through: date, after: str | None, limit: int
) -> list[DueAccount]:
    """Up to `limit` active accounts due by `through`, after `after` in account id order.

    Keyset pagination keeps each page cheap however many accounts there are. On PostgreSQL the
    rows are locked for the caller's transaction and rows another close holds are skipped, so
    concurrent runs share the work instead of billing the same cycles; SQLite needs no lock, as
    its writers are serialised (BEGIN IMMEDIATE).
    """
    query = (
        sa.select(
            accounts.c.account_id,
            accounts.c.next_bill_date,
            accounts.c.billing_day,
            plans.c.plan_id,
            plans.c.name,
            plans.c.monthly_price_minor,
            plans.c.currency,
        )
        .join(plans, plans.c.plan_id == accounts.c.plan_id)
        .where(accounts.c.status == "active", accounts.c.next_bill_date <= through)
        .order_by(accounts.c.account_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(accounts.c.account_id > after)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=accounts)
    return [
        DueAccount(
            account_id=row.account_id,
            next_bill_date=row.next_bill_date,
            billing_day=row.billing_day,
            plan=PlanCharge(row.plan_id, row.name, row.monthly_price_minor, row.currency),
        )
        for row in conn.execute(query)
    ]


_MOVE_DATES_PG = sa.text(
    """
UPDATE accounts SET next_bill_date = v.new_date, updated_at = :now
FROM (SELECT unnest(CAST(:ids AS text[])) AS account_id,
             unnest(CAST(:old AS date[])) AS old_date,
             unnest(CAST(:plans AS text[])) AS plan_id,
             unnest(CAST(:new AS date[])) AS new_date) AS v
WHERE accounts.account_id = v.account_id AND accounts.next_bill_date = v.old_date
  AND accounts.status = 'active' AND accounts.plan_id = v.plan_id
"""
)

_ADD_APPLIED_PG = sa.text(
    """
UPDATE credits SET applied_minor = credits.applied_minor + v.delta
FROM (SELECT unnest(CAST(:ids AS text[])) AS id,
             unnest(CAST(:deltas AS bigint[])) AS delta) AS v
WHERE credits.id = v.id
"""
)


def move_next_bill_dates(
    conn: sa.Connection, moves: Sequence[tuple[DueAccount, date]], now: datetime
) -> int:
    """Move each account's next bill date, only where it is still the one we read.

    Returns how many rows moved; the caller compares it with len(moves) and gives the page up
    when an account changed after the page was read.
    """
    if not moves:
        return 0
    if conn.dialect.name == "postgresql":
        # One statement for the page instead of one per account (arrays, unnested).
        moved = conn.execute(
            _MOVE_DATES_PG,
            {
                "ids": [account.account_id for account, _ in moves],
                "old": [account.next_bill_date for account, _ in moves],
                "plans": [account.plan.plan_id for account, _ in moves],
                "new": [new_date for _, new_date in moves],
                "now": now,
            },
        )
        return int(moved.rowcount)
    result = conn.execute(
        sa.update(accounts)
        .where(
            accounts.c.account_id == sa.bindparam("b_account"),
            accounts.c.next_bill_date == sa.bindparam("b_old", type_=sa.Date),
            accounts.c.status == "active",
            accounts.c.plan_id == sa.bindparam("b_plan"),
        )
        .values(next_bill_date=sa.bindparam("b_new", type_=sa.Date), updated_at=now),
        [
            {
                "b_account": account.account_id,
                "b_old": account.next_bill_date,
                "b_plan": account.plan.plan_id,
                "b_new": new_date,
            }
            for account, new_date in moves
        ],
    )
    return int(result.rowcount)


def open_credits(conn: sa.Connection, account_ids: Sequence[str]) -> dict[str, list[OpenCredit]]:
    """account id -> its credits with something left to apply (any currency)."""
    if not account_ids:
        return {}
    query = (
        sa.select(
            credits.c.id,
            credits.c.account_id,
            credits.c.campaign_id,
            credits.c.currency,
            credits.c.amount_minor,
            credits.c.applied_minor,
            credits.c.granted_at,
            incidents.c.title,
        )
        .join(campaigns, campaigns.c.id == credits.c.campaign_id)
        .join(incidents, incidents.c.id == campaigns.c.incident_id)
        .where(
            credits.c.account_id.in_(account_ids),
            credits.c.applied_minor < credits.c.amount_minor,
            # Held, forfeited, paid out or reversed credits wait or are gone; a credit handed to
            # a billing system (any posting not cancelled) is billed there, never here too.
            ~sa.exists().where(credit_states.c.credit_id == credits.c.id),
            ~sa.exists().where(
                connector_postings.c.credit_id == credits.c.id,
                connector_postings.c.state != "cancelled",
            ),
        )
    )
    found: dict[str, list[OpenCredit]] = {}
    for row in conn.execute(query):
        found.setdefault(row.account_id, []).append(
            OpenCredit(
                credit_id=row.id,
                campaign_id=row.campaign_id,
                currency=row.currency,
                amount_minor=row.amount_minor,
                remaining_minor=row.amount_minor - row.applied_minor,
                granted_at=row.granted_at,
                label=row.title,
            )
        )
    return found


def pending_charge_backs(
    conn: sa.Connection, account_ids: Sequence[str]
) -> dict[str, list[ChargeBack]]:
    """account id -> reversed credits it was billed for and is not yet charged back, oldest first.

    Charge-backs of credits a billing system holds are posted through its connector instead.
    """
    if not account_ids:
        return {}
    le = ledger_entries
    due = sa.func.sum(le.c.amount_minor)
    query = (
        sa.select(
            le.c.credit_id,
            credits.c.campaign_id,
            le.c.account_id,
            le.c.currency,
            due.label("due"),
            sa.func.min(le.c.created_at).label("reversed_at"),
            incidents.c.title,
        )
        .join(credits, credits.c.id == le.c.credit_id)
        .join(campaigns, campaigns.c.id == credits.c.campaign_id)
        .join(incidents, incidents.c.id == campaigns.c.incident_id)
        .where(
            le.c.account_id.in_(account_ids),
            le.c.kind.in_(CHARGE_BACK),
            le.c.posting_id.is_(None),
        )
        .group_by(
            le.c.credit_id, credits.c.campaign_id, le.c.account_id, le.c.currency, incidents.c.title
        )
        .having(due < 0)
    )
    found: dict[str, list[ChargeBack]] = {}
    for row in conn.execute(query):
        found.setdefault(row.account_id, []).append(
            ChargeBack(
                row.credit_id,
                row.campaign_id,
                row.currency,
                -int(row.due),
                row.reversed_at,
                row.title,
            )
        )
    for items in found.values():
        items.sort(key=lambda c: (c.reversed_at, c.credit_id))
    return found


def existing_statement_dates(
    conn: sa.Connection, account_ids: Sequence[str], through: date
) -> set[tuple[str, date]]:
    """(account id, date) of statements already there, so a rewound date never duplicates one."""
    if not account_ids:
        return set()
    query = sa.select(statements.c.account_id, statements.c.statement_date).where(
        statements.c.account_id.in_(account_ids), statements.c.statement_date <= through
    )
    return {(row.account_id, row.statement_date) for row in conn.execute(query)}


def insert_statements(
    conn: sa.Connection,
    statement_rows: Sequence[Mapping[str, Any]],
    line_rows: Sequence[Mapping[str, Any]],
) -> None:
    # COPY on PostgreSQL (a page of statements is hundreds of rows), executemany on SQLite.
    insert_dicts(conn, statements, [dict(r) for r in statement_rows])
    insert_dicts(conn, statement_lines, [dict(r) for r in line_rows])


def add_applied(conn: sa.Connection, applied: Mapping[str, int]) -> None:
    """Raise each credit's applied amount; the table's check refuses applying more than it holds."""
    if not applied:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_ADD_APPLIED_PG, {"ids": list(applied), "deltas": list(applied.values())})
        return
    conn.execute(
        sa.update(credits)
        .where(credits.c.id == sa.bindparam("b_id"))
        .values(
            applied_minor=credits.c.applied_minor + sa.bindparam("b_delta", type_=sa.BigInteger)
        ),
        [{"b_id": credit_id, "b_delta": minor} for credit_id, minor in applied.items()],
    )


def account_exists(conn: sa.Connection, account_id: str) -> bool:
    query = sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
    return conn.execute(query).first() is not None


def statement_rows(conn: sa.Connection, account_id: str) -> list[sa.Row[Any]]:
    """The account's statements, oldest first."""
    query = (
        sa.select(
            statements.c.id,
            statements.c.statement_date,
            statements.c.currency,
            statements.c.total_minor,
            statements.c.created_at,
        )
        .where(statements.c.account_id == account_id)
        .order_by(statements.c.statement_date)
    )
    return list(conn.execute(query))


def line_rows(conn: sa.Connection, account_id: str) -> list[sa.Row[Any]]:
    """The lines of the account's statements, in statement then position order."""
    query = (
        sa.select(
            statement_lines.c.statement_id,
            statement_lines.c.position,
            statement_lines.c.kind,
            statement_lines.c.amount_minor,
            statement_lines.c.description,
            statement_lines.c.campaign_id,
        )
        .join(statements, statements.c.id == statement_lines.c.statement_id)
        .where(statements.c.account_id == account_id)
        .order_by(statement_lines.c.statement_id, statement_lines.c.position)
    )
    return list(conn.execute(query))
