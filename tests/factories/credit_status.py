"""One account seen through several incidents: offered, claimed, excluded, not affected...
written through the import's store code, the incident service, store/offers.py and the claim
service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.domain.tokens import new_token
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.offers import add_link, add_member, add_offer, claim


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
    save_plans(conn, [plan(plan_id, name="Premium Streaming")], now)
    save_accounts(
        conn,
        [
            account(
                account_id,
                plan_id=plan_id,
                email=email,
                locale=locale,
                next_bill_date=next_bill_date,
            )
        ],
        now,
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
    offer in `offer_state` when given ("claimed": claimed at `credited_at` through the claim
    service) and one claim link."""
    incident_id, campaign_id = insert_incident_and_campaign(
        conn,
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
        add_member(
            conn,
            campaign_id,
            world.account_id,
            plan_id=plan_id,
            currency="USD",
            amount_minor=None if excluded_reason else 24,
            first_failure_at=starts_at + timedelta(minutes=5),
            last_failure_at=starts_at + timedelta(minutes=40),
            excluded_reason=excluded_reason,
            impact_minutes=impact_minutes,
        )
    if offer_state is None:
        return
    if offer_state not in ("open", "claimed", "revoked"):
        raise ValueError(f"add_incident: offer_state {offer_state!r}: open, claimed or revoked")
    if (offer_state == "claimed") != (credited_at is not None):
        raise ValueError("add_incident: a claimed offer needs credited_at, and only it")
    offer_id = add_offer(
        conn,
        campaign_id=campaign_id,
        incident_id=incident_id,
        account_id=world.account_id,
        plan_id=plan_id,
        state="revoked" if offer_state == "revoked" else "open",
        created_at=starts_at + timedelta(hours=5),
        expires_at=expires_at or now + timedelta(days=5),
    )
    token = new_token()
    add_link(conn, offer_id, token, starts_at)
    world.offers[name], world.tokens[name] = offer_id, token
    if credited_at is not None:
        claim(conn, offer_id, credited_at)
