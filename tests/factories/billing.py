"""Plans, accounts and granted credits for the billing tests, written through the import's
store code and the claim service (the credit, its ledger entry and audit entry as in life)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from makegood.store.tables import accounts, campaigns, credits, statement_lines, statements
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.offers import add_offer, claim

SEEDED_AT = datetime(2026, 3, 1, tzinfo=UTC)
OPEN_UNTIL = datetime(2026, 12, 31, tzinfo=UTC)


def add_plan(
    conn: sa.Connection,
    plan_id: str = "basic",
    price_minor: int = 799,
    currency: str = "USD",
    name: str | None = None,
) -> str:
    save_plans(conn, [plan(plan_id, name=name, price_minor=price_minor, currency=currency)])
    return plan_id


def add_account(
    conn: sa.Connection,
    account_id: str,
    plan_id: str = "basic",
    next_bill_date: date = date(2026, 4, 1),
    status: str = "active",
    billing_day: int | None = None,
    stripe_customer_id: str | None = None,
) -> str:
    row = account(
        account_id,
        plan_id=plan_id,
        status=status,
        next_bill_date=next_bill_date,
        billing_day=billing_day,
        stripe_customer_id=stripe_customer_id,
    )
    save_accounts(conn, [row])
    return account_id


def add_credit(
    conn: sa.Connection,
    account_id: str,
    amount_minor: int,
    granted_at: datetime,
    currency: str = "USD",
    plan_id: str = "basic",
    title: str = "Streaming outage",
) -> dict[str, Any]:
    """A credit the subscriber claimed at `granted_at` (through the claim service), with the
    incident, campaign and offer it needs; returns their ids."""
    incident_id, campaign_id = _incident_and_campaign(conn, title, affected_count=1)
    offer_id = add_offer(
        conn,
        campaign_id=campaign_id,
        incident_id=incident_id,
        account_id=account_id,
        plan_id=plan_id,
        amount_minor=amount_minor,
        currency=currency,
        created_at=SEEDED_AT,
        expires_at=OPEN_UNTIL,
    )
    credit_id = claim(conn, offer_id, granted_at).credit_id
    return {"credit_id": credit_id, "campaign_id": campaign_id, "offer_id": offer_id}


def credit_applied(conn: sa.Connection, credit_id: str) -> int:
    query = sa.select(credits.c.applied_minor).where(credits.c.id == credit_id)
    return int(conn.execute(query).scalar_one())


def next_bill_date(conn: sa.Connection, account_id: str) -> date:
    query = sa.select(accounts.c.next_bill_date).where(accounts.c.account_id == account_id)
    value = conn.execute(query).scalar_one()
    assert isinstance(value, date)
    return value


def table_snapshot(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the billing tables, sorted, to prove a run changed nothing."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for table in (accounts, credits, statements, statement_lines):
        rows = conn.execute(sa.select(table)).all()
        snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot


def add_open_offer(
    conn: sa.Connection,
    campaign_id: str,
    account_id: str,
    amount_minor: int = 24,
    currency: str = "USD",
    plan_id: str = "basic",
) -> str:
    """One more open offer in an existing campaign (claim or grant it through the services)."""
    incident_id = conn.execute(
        sa.select(campaigns.c.incident_id).where(campaigns.c.id == campaign_id)
    ).scalar_one()
    return add_offer(
        conn,
        campaign_id=campaign_id,
        incident_id=incident_id,
        account_id=account_id,
        plan_id=plan_id,
        amount_minor=amount_minor,
        currency=currency,
        created_at=SEEDED_AT,
        expires_at=OPEN_UNTIL,
    )


def add_campaign(conn: sa.Connection, title: str = "Streaming outage") -> str:
    """A launched campaign (claim mode) with its incident, and no offers yet."""
    return _incident_and_campaign(conn, title, affected_count=0)[1]


def _incident_and_campaign(conn: sa.Connection, title: str, affected_count: int) -> tuple[str, str]:
    """A launched claim campaign on a March outage; (incident id, campaign id)."""
    return insert_incident_and_campaign(
        conn,
        title=title,
        starts_at=datetime(2026, 3, 20, 18, tzinfo=UTC),
        ends_at=datetime(2026, 3, 20, 23, tzinfo=UTC),
        at=SEEDED_AT,
        affected_count=affected_count,
    )
