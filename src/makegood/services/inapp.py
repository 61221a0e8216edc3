"""In-app messages for the service's own app: list the pending ones, claim, dismiss.

In-app messages live on the offers (store/outbox.py derives them). A message is pending while
it is unread or read (not dismissed) and still means something: a claim message whose offer
is open and unexpired, or a granted-credit message. Claiming goes
through `claims.claim_offer_by_id`, the same exactly-once path as the claim link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from makegood.domain.calendar import statement_date_for
from makegood.domain.errors import NotFound
from makegood.domain.offers import claimable
from makegood.services.claims import ClaimResult, claim_offer_by_id
from makegood.store.uow import UnitOfWork


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


def pending_messages(uow: UnitOfWork, account_id: str, now: datetime) -> list[InappMessage]:
    """The account's pending in-app messages, newest first; NotFound for an unknown account."""
    if not uow.accounts.exists(account_id):
        raise NotFound(f"no account {account_id!r}")
    result = []
    for r in uow.outbox.account_inapp(account_id, visible_only=True):
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


def _offer_of(uow: UnitOfWork, account_id: str, message_id: str) -> str:
    """The offer of the account's pending message `message_id` (NotFound otherwise)."""
    found = uow.outbox.account_inapp(account_id, message_id=message_id, visible_only=True)
    if not found:
        raise NotFound(f"no pending message {message_id!r} for this account")
    return str(found[0]["offer_id"])


def claim_message(uow: UnitOfWork, account_id: str, message_id: str, now: datetime) -> ClaimResult:
    """Claim the offer of the account's message (via="inapp") exactly once, in the caller's
    unit of work (the caller commits); the message becomes read. Errors as for a claim link
    (expired, already claimed, ...)."""
    offer_id = _offer_of(uow, account_id, message_id)
    uow.outbox.set_inapp_state(offer_id, "read")
    return claim_offer_by_id(uow, offer_id, now, via="inapp")


def dismiss_message(uow: UnitOfWork, account_id: str, message_id: str, now: datetime) -> None:
    """Hide the message from the app for good, in the caller's unit of work (the caller
    commits)."""
    offer_id = _offer_of(uow, account_id, message_id)
    uow.outbox.set_inapp_state(offer_id, "dismissed")
    uow.audit.record(
        now,
        f"subscriber:{account_id}",
        "message.dismissed",
        "offer",
        offer_id,
        {"message_id": message_id},
    )
