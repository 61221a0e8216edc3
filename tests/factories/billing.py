"""Rows for billing tests, inserted with SQLAlchemy Core (plans, accounts, credits)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from makegood.store import ledger
from makegood.store.tables import (
    accounts,
    campaigns,
    credits,
    offers,
    plans,
    statement_lines,
    statements,
)
from tests.factories.incidents import insert_incident_and_campaign

SEEDED_AT = datetime(2026, 3, 1, tzinfo=UTC)
_serial = itertools.count(1)


def add_plan(
    conn: sa.Connection,
    plan_id: str = "basic",
    price_minor: int = 799,
    currency: str = "USD",
    name: str | None = None,
) -> str:
    conn.execute(
        plans.insert().values(
            plan_id=plan_id,
            name=name or f"Plan {plan_id}",
            monthly_price_minor=price_minor,
            currency=currency,
            updated_at=SEEDED_AT,
        )
    )
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
    conn.execute(
        accounts.insert().values(
            account_id=account_id,
            email=f"{account_id}@example.com",
            plan_id=plan_id,
            status=status,
            country="US",
            locale="en-US",
            next_bill_date=next_bill_date,
            billing_day=billing_day or next_bill_date.day,
            updated_at=SEEDED_AT,
            stripe_customer_id=stripe_customer_id,
        )
    )
    return account_id


def add_credit(
    conn: sa.Connection,
    account_id: str,
    amount_minor: int,
    granted_at: datetime,
    currency: str = "USD",
    plan_id: str = "basic",
    title: str = "Streaming outage",
    applied_minor: int = 0,
) -> dict[str, Any]:
    """A granted credit with the incident, campaign and offer it needs; returns their ids."""
    incident_id, campaign_id = _incident_and_campaign(conn, title, affected_count=1)
    n = next(_serial)
    offer_id, credit_id = f"ofr_t{n}", f"crd_t{n}"
    conn.execute(
        offers.insert().values(
            id=offer_id,
            campaign_id=campaign_id,
            incident_id=incident_id,
            account_id=account_id,
            state="claimed",
            amount_minor=amount_minor,
            currency=currency,
            plan_id=plan_id,
            created_at=SEEDED_AT,
            expires_at=datetime(2026, 12, 31, tzinfo=UTC),
            credited_at=granted_at,
            credited_via="web",
        )
    )
    conn.execute(
        credits.insert().values(
            id=credit_id,
            offer_id=offer_id,
            account_id=account_id,
            campaign_id=campaign_id,
            amount_minor=amount_minor,
            currency=currency,
            granted_at=granted_at,
            applied_minor=applied_minor,
        )
    )
    # The ledger moves with the credit, as in the services that grant them.
    entries = [ledger.Entry("granted", credit_id, account_id, currency, amount_minor)]
    if applied_minor:
        entries.append(ledger.Entry("applied", credit_id, account_id, currency, -applied_minor))
    ledger.append(conn, entries, granted_at, "test")
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
    campaign = conn.execute(
        sa.select(campaigns.c.incident_id).where(campaigns.c.id == campaign_id)
    ).scalar_one()
    offer_id = f"ofr_o{next(_serial)}"
    conn.execute(
        offers.insert().values(
            id=offer_id,
            campaign_id=campaign_id,
            incident_id=campaign,
            account_id=account_id,
            state="open",
            amount_minor=amount_minor,
            currency=currency,
            plan_id=plan_id,
            created_at=SEEDED_AT,
            expires_at=datetime(2026, 12, 31, tzinfo=UTC),
        )
    )
    return offer_id


def add_campaign(conn: sa.Connection, title: str = "Streaming outage") -> str:
    """A launched campaign (claim mode) with its incident, and no offers yet."""
    return _incident_and_campaign(conn, title, affected_count=0)[1]


def _incident_and_campaign(conn: sa.Connection, title: str, affected_count: int) -> tuple[str, str]:
    """A launched claim campaign on a March outage; (incident id, campaign id)."""
    n = next(_serial)
    incident_id, campaign_id = f"inc_c{n}", f"cmp_c{n}"
    insert_incident_and_campaign(
        conn,
        incident_id=incident_id,
        campaign_id=campaign_id,
        title=title,
        starts_at=datetime(2026, 3, 20, 18, tzinfo=UTC),
        ends_at=datetime(2026, 3, 20, 23, tzinfo=UTC),
        at=SEEDED_AT,
        affected_count=affected_count,
    )
    return incident_id, campaign_id
