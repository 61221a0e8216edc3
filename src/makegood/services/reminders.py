"""Reaching everyone: a reminder before the claim window closes, and "grant anyway at expiry".

- `queue_reminders`: every open offer of a claim campaign that expires within `days` and has
  no reminder yet gets one reminder e-mail in the outbox (template ``offer_reminder``), with a
  fresh claim link (its own token; the first link keeps working until the same expiry).
- `grant_expiring`: with the policy on, every open offer that expires within `lead` is granted
  now through `services.claims.grant_offer` (via "expiry"), before it would lapse, and a
  "credit applied" e-mail is queued. Offers are only ever issued to verified-affected
  accounts (failed attempts in the outage window), so every open offer qualifies.

Both are idempotent: running them again, or from several workers, adds nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from makegood.bootstrap import Container
from makegood.domain.errors import OfferUnavailable
from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.services.claims import grant_offer
from makegood.store.outbox import new_message

REMINDER = "offer_reminder"


@dataclass
class ExpiryReport:
    granted: int = 0
    already_closed: int = 0  # claimed or withdrawn between the query and the grant


def queue_reminders(container: Container, *, days: float) -> int:
    """Queue one reminder per open offer expiring within `days`; returns how many."""
    now = container.now()
    with container.uow() as uow:
        due = uow.outbox.offers_to_remind(now, now + timedelta(days=days), REMINDER)
        tokens, messages = [], []
        for offer_id, account_id in due:
            token = new_token()
            tokens.append(
                {"token_hash": hash_token(token), "offer_id": offer_id, "created_at": now}
            )
            messages.append(
                new_message(
                    new_id("msg"), account_id, REMINDER, now, offer_id=offer_id, claim_token=token
                )
            )
        uow.offers.add_links(tokens)
        uow.outbox.queue(messages)
        uow.commit()
    return len(messages)


def grant_expiring(container: Container, *, lead: timedelta) -> ExpiryReport:
    """Grant every open offer expiring within `lead` (policy "grant anyway at expiry")."""
    now = container.now()
    with container.uow() as uow:
        due = uow.offers.open_expiring(now, now + lead)
    report = ExpiryReport()
    for offer_id, account_id in due:
        with container.uow() as uow:
            # The notice and the grant commit together: both, or neither.
            uow.outbox.queue(
                [new_message(new_id("msg"), account_id, "offer_granted", now, offer_id=offer_id)]
            )
            try:
                grant_offer(uow, offer_id, container.now(), via="expiry", actor="system:expiry")
                uow.commit()
            except OfferUnavailable:
                report.already_closed += 1  # claimed meanwhile: nothing to do
                continue
        report.granted += 1
    return report
