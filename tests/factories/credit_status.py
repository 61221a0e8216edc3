"""One account seen through several incidents: offered, claimed, excluded, not affected..."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.store import tables as t
from tests.factories.incidents import insert_incident_and_campaign


@dataclass
class StatusWorld:
    account_id: str
    email: str
    incidents: dict[str, str] = field(default_factory=dict)  # name -> incident id
    offers: dict[str, str] = field(default_factory=dict)  # name -> offer id
    tokens: dict[str, str] = field(default_factory=dict)  # name -> raw claim token


def seed_account(
    conn: sa.Connection,
    now: datetime,
    *,
    email: str = "sam.status@example.com",
    locale: str = "en-US",
    next_bill_date: date = date(2026, 4, 1),
) -> StatusWorld:
    account_id, plan_id = new_id("acc"), new_id("pln")
    conn.execute(
        t.plans.insert().values(
            plan_id=plan_id,
            name="Premium Streaming",
            monthly_price_minor=799,
            currency="USD",
            updated_at=now,
        )
    )
    conn.execute(
        t.accounts.insert().values(
            account_id=account_id,
            email=email,
            plan_id=plan_id,
            status="active",
            country="US",
            locale=locale,
            next_bill_date=next_bill_date,
            billing_day=next_bill_date.day,
            updated_at=now,
        )
    )
    world = StatusWorld(account_id, email)
    world.incidents["plan"] = plan_id
    return world


def add_incident(
    conn: sa.Connection,
    world: StatusWorld,
    name: str,
    *,
    starts_at: datetime,
    now: datetime,
    member: bool = True,
    excluded_reason: str | None = None,
    offer_state: str | None = None,
    expires_at: datetime | None = None,
    credited_at: datetime | None = None,
    impact_minutes: int | None = 95,
) -> None:
    """An incident with a launched campaign; the account in its snapshot when `member`, with an
    offer in `offer_state` when given (and a credit when claimed or granted)."""
    incident_id, campaign_id = new_id("inc"), new_id("cmp")
    insert_incident_and_campaign(
        conn,
        incident_id=incident_id,
        campaign_id=campaign_id,
        title=f"Outage {name}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        at=starts_at + timedelta(hours=4),
        affected_count=1,
        launched_at=starts_at + timedelta(hours=5),
    )
    world.incidents[name] = incident_id
    plan_id = world.incidents["plan"]
    if member:
        conn.execute(
            t.cohort_members.insert().values(
                campaign_id=campaign_id,
                account_id=world.account_id,
                failed_attempts=3,
                first_failure_at=starts_at + timedelta(minutes=5),
                last_failure_at=starts_at + timedelta(minutes=40),
                excluded_reason=excluded_reason,
                plan_id=plan_id,
                currency="USD",
                amount_minor=None if excluded_reason else 24,
                impact_minutes=impact_minutes,
            )
        )
    if offer_state is None:
        return
    offer_id = new_id("ofr")
    conn.execute(
        t.offers.insert().values(
            id=offer_id,
            campaign_id=campaign_id,
            incident_id=incident_id,
            account_id=world.account_id,
            state=offer_state,
            amount_minor=24,
            currency="USD",
            plan_id=plan_id,
            created_at=starts_at + timedelta(hours=5),
            expires_at=expires_at or now + timedelta(days=5),
            credited_at=credited_at,
            credited_via="web" if credited_at else None,
        )
    )
    token = new_token()
    conn.execute(
        t.claim_tokens.insert().values(
            token_hash=hash_token(token), offer_id=offer_id, created_at=starts_at
        )
    )
    world.offers[name], world.tokens[name] = offer_id, token
    if credited_at is not None:
        conn.execute(
            t.credits.insert().values(
                id=new_id("crd"),
                offer_id=offer_id,
                account_id=world.account_id,
                campaign_id=campaign_id,
                amount_minor=24,
                currency="USD",
                granted_at=credited_at,
                applied_minor=0,
            )
        )
