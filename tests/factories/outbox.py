"""Rows a launched campaign leaves behind (offers, tokens, outbox), inserted directly for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.notify.dispatch import dispatch_pending
from makegood.store import outbox
from makegood.store import tables as t
from tests.factories.incidents import insert_incident_and_campaign


@dataclass(frozen=True)
class Subscriber:
    account_id: str
    locale: str = "en-US"
    currency: str = "USD"
    amount_minor: int = 24
    email: str | None = None
    next_bill_date: date = date(2026, 4, 1)

    @property
    def address(self) -> str:
        return self.email or f"{self.account_id}@example.com"


@dataclass(frozen=True)
class SeededOffer:
    account_id: str
    address: str
    offer_id: str
    email_message_id: str
    inapp_message_id: str
    token: str | None  # raw claim token; None in auto mode


def seed_campaign(
    engine: sa.Engine,
    subscribers: list[Subscriber],
    *,
    now: datetime,
    mode: str = "claim",
    claim_days: int = 7,
    title: str = "Streaming outage",
) -> list[SeededOffer]:
    """A launched campaign with one offer, token and two messages per subscriber."""
    incident_id = new_id("inc")
    campaign_id = new_id("cmp")
    starts_at = now - timedelta(hours=20)
    ends_at = now - timedelta(hours=15)
    seeded: list[SeededOffer] = []
    with engine.begin() as conn:
        insert_incident_and_campaign(
            conn,
            incident_id=incident_id,
            campaign_id=campaign_id,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            at=now,
            affected_count=len(subscribers),
            mode=mode,
            claim_days=claim_days,
            approved_at=now,
            approved_by="test",
            launched_at=now,
            launched_by="test",
        )
        plans_done = set(conn.execute(sa.select(t.plans.c.plan_id)).scalars())
        for sub in subscribers:
            plan_id = f"plan-{sub.currency.lower()}"
            if plan_id not in plans_done:
                plans_done.add(plan_id)
                conn.execute(
                    sa.insert(t.plans).values(
                        plan_id=plan_id,
                        name=f"Unlimited {sub.currency}",
                        monthly_price_minor=799,
                        currency=sub.currency,
                        updated_at=now,
                    )
                )
            seeded.append(
                _seed_offer(conn, sub, plan_id, incident_id, campaign_id, now, mode, claim_days)
            )
    return seeded


def _seed_offer(
    conn: sa.Connection,
    sub: Subscriber,
    plan_id: str,
    incident_id: str,
    campaign_id: str,
    now: datetime,
    mode: str,
    claim_days: int,
) -> SeededOffer:
    conn.execute(
        sa.insert(t.accounts).values(
            account_id=sub.account_id,
            email=sub.address,
            plan_id=plan_id,
            status="active",
            country="XX",
            locale=sub.locale,
            next_bill_date=sub.next_bill_date,
            billing_day=sub.next_bill_date.day,
            updated_at=now,
        )
    )
    conn.execute(
        sa.insert(t.cohort_members).values(
            campaign_id=campaign_id,
            account_id=sub.account_id,
            failed_attempts=3,
            first_failure_at=now - timedelta(hours=19, minutes=50),
            last_failure_at=now - timedelta(hours=17, minutes=5),
            excluded_reason=None,
            plan_id=plan_id,
            currency=sub.currency,
            amount_minor=sub.amount_minor,
        )
    )
    offer_id = new_id("ofr")
    granted = mode == "auto"
    token = None if granted else new_token()
    conn.execute(
        sa.insert(t.offers).values(
            id=offer_id,
            campaign_id=campaign_id,
            incident_id=incident_id,
            account_id=sub.account_id,
            state="granted" if granted else "open",
            amount_minor=sub.amount_minor,
            currency=sub.currency,
            plan_id=plan_id,
            created_at=now,
            expires_at=now + timedelta(days=claim_days),
            credited_at=now if granted else None,
            credited_via="auto" if granted else None,
            token_hash=None if token is None else hash_token(token),
            inapp_state="unread",  # its in-app message lives on the offer
        )
    )
    email_id, inapp_id = new_id("msg"), "app_" + offer_id.partition("_")[2]
    common = {"offer_id": offer_id, "account_id": sub.account_id, "created_at": now}
    conn.execute(
        sa.insert(t.messages).values(
            id=email_id,
            channel="email",
            template="offer_granted" if granted else "offer_claim",
            state="pending",
            attempts=0,
            next_attempt_at=now,
            claim_token=token,
            **common,
        )
    )
    return SeededOffer(sub.account_id, sub.address, offer_id, email_id, inapp_id, token)


def message_row(engine: sa.Engine, message_id: str) -> sa.Row[tuple[object, ...]]:
    with engine.connect() as conn:
        m = outbox.all_messages()  # stored messages and in-app ones alike
        return conn.execute(sa.select(m).where(m.c.id == message_id)).one()


def sent_campaign(container: Container, n: int = 3) -> list[SeededOffer]:
    offers = seed_campaign(
        container.engine, [Subscriber(f"acc-{i}") for i in range(n)], now=container.now()
    )
    assert dispatch_pending(container).sent == n  # .eml files: accepted events recorded
    return offers
