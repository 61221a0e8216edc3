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

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import OfferUnavailable
from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_token
from makegood.services.claims import grant_offer
from makegood.store import offers, outbox
from makegood.store import tables as t

REMINDER = "offer_reminder"


@dataclass
class ExpiryReport:
    granted: int = 0
    already_closed: int = 0  # claimed or withdrawn between the query and the grant


def queue_reminders(container: Container, *, days: float) -> int:
    """Queue one reminder per open offer expiring within `days`; returns how many."""
    now = container.now()
    o, m, c = t.offers, t.messages, t.campaigns
    # A reminder is never a launch e-mail: `ix_messages_offer_id` finds it.
    reminded = sa.exists().where(
        m.c.offer_id == o.c.id, outbox.not_launch_email(m), m.c.template == REMINDER
    )
    query = (
        sa.select(o.c.id, o.c.account_id)
        .select_from(o.join(c, c.c.id == o.c.campaign_id))
        .where(
            offers.claimable_clause(o, now),
            c.c.mode == "claim",
            o.c.expires_at <= now + timedelta(days=days),
            ~reminded,
        )
        .order_by(o.c.id)
    )
    with container.uow() as uow:
        due = uow.conn.execute(query.with_for_update(of=o, skip_locked=True)).all()
        tokens, messages = [], []
        for offer_id, account_id in due:
            token = new_token()
            tokens.append(
                {"token_hash": hash_token(token), "offer_id": offer_id, "created_at": now}
            )
            messages.append(
                outbox.new_message(
                    new_id("msg"), account_id, REMINDER, now, offer_id=offer_id, claim_token=token
                )
            )
        offers.add_links(uow.conn, tokens)
        outbox.queue(uow.conn, messages)
        uow.commit()
    return len(messages)


def grant_expiring(container: Container, *, lead: timedelta) -> ExpiryReport:
    """Grant every open offer expiring within `lead` (policy "grant anyway at expiry")."""
    now = container.now()
    o = t.offers
    query = (
        sa.select(o.c.id, o.c.account_id)
        .where(offers.claimable_clause(o, now), o.c.expires_at <= now + lead)
        .order_by(o.c.id)
    )
    with container.uow() as uow:
        due = uow.conn.execute(query).all()
    report = ExpiryReport()
    for offer_id, account_id in due:
        with container.uow() as uow:
            # The notice and the grant commit together: both, or neither.
            outbox.queue(
                uow.conn,
                [
                    outbox.new_message(
                        new_id("msg"), account_id, "offer_granted", now, offer_id=offer_id
                    )
                ],
            )
            try:
                grant_offer(uow, offer_id, container.now(), via="expiry", actor="system:expiry")
                uow.commit()
            except OfferUnavailable:
                report.already_closed += 1  # claimed meanwhile: nothing to do
                continue
        report.granted += 1
    return report
