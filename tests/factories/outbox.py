"""What a launched campaign leaves behind (offers, links, outbox), written through the import's
store code, the incident service, store/offers.py, the grant service and store/outbox.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.tokens import new_token
from makegood.services.dispatch import dispatch_pending
from makegood.store import outbox
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.offers import add_member, add_offer, grant


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
    """A launched campaign with, per subscriber, one offer (granted in "auto" mode, through the
    grant service), its in-app message and its launch e-mail, pending on the offer as a launch
    leaves it (the outbox writes its row when it takes it: `take_launch_emails`)."""
    starts_at = now - timedelta(hours=20)
    seeded: list[SeededOffer] = []
    with engine.begin() as conn:
        incident_id, campaign_id = insert_incident_and_campaign(
            conn,
            title=title,
            starts_at=starts_at,
            ends_at=now - timedelta(hours=15),
            at=now,
            affected_count=len(subscribers),
            mode=mode,
            claim_days=claim_days,
            approved_at=now,
            approved_by="test",
            launched_at=now,
            launched_by="test",
        )
        _save_plans_of(conn, subscribers, now)
        for sub in subscribers:
            seeded.append(_seed_offer(conn, sub, incident_id, campaign_id, now, mode, claim_days))
    return seeded


def _seed_offer(
    conn: sa.Connection,
    sub: Subscriber,
    incident_id: str,
    campaign_id: str,
    now: datetime,
    mode: str,
    claim_days: int,
) -> SeededOffer:
    plan_id = _enrol(conn, sub, campaign_id, now)
    granted = mode == "auto"
    token = None if granted else new_token()
    offer_id = add_offer(
        conn,
        campaign_id=campaign_id,
        incident_id=incident_id,
        account_id=sub.account_id,
        plan_id=plan_id,
        amount_minor=sub.amount_minor,
        currency=sub.currency,
        created_at=now,
        expires_at=now + timedelta(days=claim_days),
        token=token,
        inapp=True,  # its in-app message lives on the offer
        launch_email=True,  # and so does its launch e-mail, until the outbox takes it
    )
    if granted:
        grant(conn, offer_id, now, via="auto")
    email_id, inapp_id = outbox.launch_email_id(offer_id), "app_" + offer_id.partition("_")[2]
    return SeededOffer(sub.account_id, sub.address, offer_id, email_id, inapp_id, token)


def _enrol(conn: sa.Connection, sub: Subscriber, campaign_id: str, now: datetime) -> str:
    """The subscriber's account, and its place in the campaign's cohort; returns its plan."""
    plan_id = f"plan-{sub.currency.lower()}"
    save_accounts(
        conn,
        [
            account(
                sub.account_id,
                plan_id=plan_id,
                email=sub.address,
                country="XX",
                locale=sub.locale,
                next_bill_date=sub.next_bill_date,
            )
        ],
        now,
    )
    add_member(
        conn,
        campaign_id,
        sub.account_id,
        plan_id=plan_id,
        currency=sub.currency,
        amount_minor=sub.amount_minor,
        first_failure_at=now - timedelta(hours=19, minutes=50),
        last_failure_at=now - timedelta(hours=17, minutes=5),
    )
    return plan_id


def approved_campaign(engine: sa.Engine, subscribers: list[Subscriber], now: datetime) -> str:
    """An approved claim campaign whose cohort is these subscribers, ready to launch; returns
    its id."""
    with engine.begin() as conn:
        _, campaign_id = insert_incident_and_campaign(
            conn,
            title="Streaming outage",
            starts_at=now - timedelta(hours=20),
            ends_at=now - timedelta(hours=15),
            at=now,
            affected_count=len(subscribers),
            state="approved",
            approved_at=now,
            approved_by="test",
        )
        _save_plans_of(conn, subscribers, now)
        for sub in subscribers:
            _enrol(conn, sub, campaign_id, now)
    return campaign_id


def message_row(engine: sa.Engine, message_id: str) -> sa.Row[tuple[object, ...]]:
    with engine.connect() as conn:
        m = outbox.all_messages()  # stored messages and derived ones alike
        return conn.execute(sa.select(m).where(m.c.id == message_id)).one()


def take_launch_emails(engine: sa.Engine, seeded: list[SeededOffer]) -> None:
    """Their launch e-mails written to `messages`, as the outbox does when it takes them (for
    a test that changes the rows before a dispatch)."""
    with engine.begin() as conn:
        outbox.Outbox(conn).write_launch_emails([s.offer_id for s in seeded])


def sent_campaign(container: Container, n: int = 3) -> list[SeededOffer]:
    """A campaign of `n` subscribers whose e-mails the file transport sent."""
    offers = seed_campaign(
        container.engine, [Subscriber(f"acc-{i}") for i in range(n)], now=container.now()
    )
    assert dispatch_pending(container).sent == n  # .eml files: accepted events recorded
    return offers


def _save_plans_of(conn: sa.Connection, subscribers: list[Subscriber], now: datetime) -> None:
    """One plan per currency of the subscribers (`plan-<currency>`)."""
    currencies = sorted({sub.currency for sub in subscribers})
    save_plans(
        conn,
        [plan(f"plan-{c.lower()}", name=f"Unlimited {c}", currency=c) for c in currencies],
        now,
    )
