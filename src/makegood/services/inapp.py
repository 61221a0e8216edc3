"""In-app messages for the service's own app: list the pending ones, claim, dismiss.

In-app messages live on the offers (store/outbox.py derives them). A message is pending while
it is unread or read (not dismissed) and still means something: a claim message whose offer
is open and unexpired, or a granted-credit message. Claiming goes
through `claims.claim_offer_by_id`, the same exactly-once path as the claim link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from makegood.domain.calendar import statement_date_for
from makegood.domain.errors import NotFound
from makegood.domain.offers import claimable
from makegood.services.claims import ClaimResult, claim_offer_by_id
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

VISIBLE = ("unread", "read")


@dataclass(frozen=True, slots=True)
class InappMessage:
    id: str
    offer_id: str
    template: str  # offer_claim | offer_granted
    state: str  # unread | read
    created_at: datetime
    locale: str
    amount_minor: int
    currency: str
    plan_name: str
    incident_title: str
    expires_at: datetime
    claimable: bool
    statement_date: date


def _query(account_id: str) -> sa.Select[tuple[object, ...]]:
    o, a, p, i = t.offers, t.accounts, t.plans, t.incidents
    return (
        sa.select(
            outbox.inapp_id().label("id"),
            o.c.id.label("offer_id"),
            outbox.inapp_template().label("template"),
            o.c.inapp_state.label("state"),
            o.c.created_at,
            a.c.locale,
            a.c.next_bill_date,
            a.c.billing_day,
            o.c.amount_minor,
            o.c.currency,
            o.c.state.label("offer_state"),
            o.c.expires_at,
            o.c.credited_at,
            p.c.name.label("plan_name"),
            i.c.title.label("incident_title"),
        )
        .select_from(
            o.join(a, a.c.account_id == o.c.account_id)
            .join(p, p.c.plan_id == o.c.plan_id)
            .join(i, i.c.id == o.c.incident_id)
        )
        .where(o.c.account_id == account_id, o.c.inapp_state.is_not(None))
    )


def pending_messages(uow: UnitOfWork, account_id: str, now: datetime) -> list[InappMessage]:
    """The account's pending in-app messages, newest first; NotFound for an unknown account."""
    exists = uow.conn.execute(
        sa.select(t.accounts.c.account_id).where(t.accounts.c.account_id == account_id)
    ).first()
    if exists is None:
        raise NotFound(f"no account {account_id!r}")
    rows = uow.conn.execute(
        _query(account_id)
        .where(t.offers.c.inapp_state.in_(VISIBLE))
        .order_by(t.offers.c.created_at.desc(), outbox.inapp_id().desc())
    ).mappings()
    result = []
    for r in rows:
        open_now = claimable(r["offer_state"], r["expires_at"], now)
        if r["template"] == "offer_claim" and not open_now:
            continue
        credited = r["credited_at"] or now
        result.append(
            InappMessage(
                id=r["id"],
                offer_id=r["offer_id"],
                template=r["template"],
                state=r["state"],
                created_at=r["created_at"],
                locale=r["locale"],
                amount_minor=r["amount_minor"],
                currency=r["currency"],
                plan_name=r["plan_name"],
                incident_title=r["incident_title"],
                expires_at=r["expires_at"],
                claimable=open_now,
                statement_date=statement_date_for(credited, r["next_bill_date"], r["billing_day"]),
            )
        )
    return result


def _message(uow: UnitOfWork, account_id: str, message_id: str) -> sa.RowMapping:
    row = (
        uow.conn.execute(_query(account_id).where(outbox.inapp_id() == message_id))
        .mappings()
        .first()
    )
    if row is None or row["state"] not in VISIBLE:
        raise NotFound(f"no pending message {message_id!r} for this account")
    return row


def claim_message(uow: UnitOfWork, account_id: str, message_id: str, now: datetime) -> ClaimResult:
    """Claim the offer of the account's message (via="inapp") exactly once, in the caller's
    unit of work (the caller commits); the message becomes read. Errors as for a claim link
    (expired, already claimed, ...)."""
    row = _message(uow, account_id, message_id)
    outbox.set_inapp_state(uow.conn, row["offer_id"], "read")
    return claim_offer_by_id(uow, row["offer_id"], now, via="inapp")


def dismiss_message(uow: UnitOfWork, account_id: str, message_id: str, now: datetime) -> None:
    """Hide the message from the app for good and commit."""
    row = _message(uow, account_id, message_id)
    outbox.set_inapp_state(uow.conn, row["offer_id"], "dismissed")
    uow.audit.record(
        now,
        f"subscriber:{account_id}",
        "message.dismissed",
        "offer",
        row["offer_id"],
        {"message_id": message_id},
    )
    uow.commit()
