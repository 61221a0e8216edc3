"""Inserts one claimable offer (with everything it hangs off) straight into the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.store import tables as t
from tests.factories.incidents import insert_incident_and_campaign


@dataclass(frozen=True)
class SeededOffer:
    token: str  # the raw link token, as the e-mail would carry it
    offer_id: str
    account_id: str
    campaign_id: str
    incident_id: str


def seed_offer(
    engine: sa.Engine,
    now: datetime,
    *,
    email: str = "jane.doe@example.com",
    locale: str = "en-US",
    currency: str = "USD",
    price_minor: int = 799,
    amount_minor: int = 24,
    next_bill_date: date = date(2026, 4, 1),
    claim_days: int = 7,
    state: str = "open",
    token_revoked: bool = False,
    account_id: str | None = None,
) -> SeededOffer:
    """One plan, account, incident, launched campaign, cohort member, offer and claim token."""
    plan_id = new_id("pln")
    account_id = account_id or new_id("acc")
    incident_id = new_id("inc")
    campaign_id = new_id("cmp")
    offer_id = new_id("ofr")
    token = new_token()
    outage_start = now - timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(
            t.plans.insert().values(
                plan_id=plan_id,
                name="Premium Streaming",
                monthly_price_minor=price_minor,
                currency=currency,
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
        insert_incident_and_campaign(
            conn,
            incident_id=incident_id,
            campaign_id=campaign_id,
            title="Playback outage of 22 March",
            starts_at=outage_start,
            ends_at=outage_start + timedelta(hours=5),
            at=now,
            affected_count=1,
            claim_days=claim_days,
            approved_at=now,
            approved_by="test",
            launched_at=now,
            launched_by="test",
        )
        conn.execute(
            t.cohort_members.insert().values(
                campaign_id=campaign_id,
                account_id=account_id,
                failed_attempts=4,
                first_failure_at=outage_start + timedelta(minutes=10),
                last_failure_at=outage_start + timedelta(hours=2),
                plan_id=plan_id,
                currency=currency,
                amount_minor=amount_minor,
            )
        )
        conn.execute(
            t.offers.insert().values(
                id=offer_id,
                campaign_id=campaign_id,
                incident_id=incident_id,
                account_id=account_id,
                state=state,
                amount_minor=amount_minor,
                currency=currency,
                plan_id=plan_id,
                created_at=now,
                expires_at=now + timedelta(days=claim_days),
                # The launch's link lives on the offer; a replaced one in claim_tokens.
                token_hash=None if token_revoked else hash_token(token),
            )
        )
        if token_revoked:
            conn.execute(
                t.claim_tokens.insert().values(
                    token_hash=hash_token(token), offer_id=offer_id, created_at=now, revoked_at=now
                )
            )
    return SeededOffer(token, offer_id, account_id, campaign_id, incident_id)


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables a claim may touch, to prove that something changed nothing."""
    tables = (t.offers, t.credits, t.claim_tokens, t.audit_log, t.messages)
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))
            ]
            for table in tables
        }


def credit_rows(engine: sa.Engine, offer_id: str) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.credits).where(t.credits.c.offer_id == offer_id)))
