"""Reversing a campaign that went wrong: withdraw what is open, undo what is not billed yet, and
charge back what was billed, all in one transaction with an audit entry.

For each part of the campaign:
- open offers become `revoked`; their links stay readable and say the offer was withdrawn
  (the claim page answers 410 "withdrawn" for a revoked offer; revoking the token itself would
  make the link an anonymous 404). Their queued e-mails are dropped, in-app messages dismissed.
- the unbilled part of each credit leaves the ledger as a `reversed` entry and the credit's
  state becomes `reversed` (it will never be applied or posted);
- the part already applied on our statements becomes a `clawback` entry: the next close puts a
  positive charge line "Reversal of make-good credit" on the account's statement;
- a credit a billing system acknowledged gets a reversal posting (the opposite amount, key
  `makegood-{campaign}-{account}-reversal`) that `makegood billing push` (or the export) sends.
Credits already forfeited or paid out are left as they are (reported).

A campaign is reversed at most once (a unique key). While a posting of the campaign may be in
flight (`pending`) the reversal refuses: push first, so nothing is undone twice or not at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput, InvalidState
from makegood.domain.ids import new_id
from makegood.domain.offers import CampaignState
from makegood.services.campaigns import get_campaign
from makegood.store.ledger import Entry
from makegood.store.postings import idempotency_key
from makegood.store.uow import UnitOfWork

REASON_MAX = 1_000


@dataclass
class ReversalSummary:
    reversal_id: str
    campaign_id: str
    offers_revoked: int = 0
    credits_reversed: int = 0  # credits with an unbilled part withdrawn
    reversed_minor: Counter[str] = field(default_factory=Counter)
    charge_backs: int = 0  # billed credits to charge back on the next statement
    charge_back_minor: Counter[str] = field(default_factory=Counter)
    connector_reversals: int = 0  # reversal postings queued for a billing system
    untouched: int = 0  # forfeited or paid out already

    def document(self) -> dict[str, Any]:
        return {
            "reversal_id": self.reversal_id,
            "campaign_id": self.campaign_id,
            "offers_revoked": self.offers_revoked,
            "credits_reversed": self.credits_reversed,
            "reversed_minor": dict(sorted(self.reversed_minor.items())),
            "charge_backs": self.charge_backs,
            "charge_back_minor": dict(sorted(self.charge_back_minor.items())),
            "connector_reversals": self.connector_reversals,
            "untouched": self.untouched,
        }


def reverse_campaign(
    container: Container, campaign_id: str, reason: str, actor: str = "cli"
) -> ReversalSummary:
    """Reverse a launched campaign once and commit; InvalidInput, NotFound or InvalidState
    (not launched, reversed already, a posting in flight) leave everything unchanged."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput(f"--reason must say why, in 1 to {REASON_MAX} characters")
    now = container.now()
    with container.uow() as uow:
        campaign = get_campaign(uow, campaign_id, lock=True)
        if campaign.state != CampaignState.LAUNCHED:
            raise InvalidState(f"campaign is {campaign.state}: only a launched one can be reversed")
        _refuse_in_flight(uow, campaign_id)
        summary = ReversalSummary(new_id("rev"), campaign_id)
        try:
            uow.reversals.add(summary.reversal_id, campaign_id, reason, actor, now)
        except sa.exc.IntegrityError:
            raise InvalidState(f"campaign {campaign_id} was reversed already") from None
        summary.offers_revoked = _revoke_open_offers(uow, campaign_id)
        _reverse_credits(uow, campaign_id, reason, now, actor, summary)
        document = summary.document()
        uow.reversals.set_summary(summary.reversal_id, document)
        uow.audit.record(
            now,
            actor,
            "campaign.reversed",
            "campaign",
            campaign_id,
            {**document, "reason": reason},
        )
        uow.commit()
    return summary


def _refuse_in_flight(uow: UnitOfWork, campaign_id: str) -> None:
    in_flight = uow.postings.pending_of_campaign(campaign_id)
    if in_flight:
        raise InvalidState(
            f"{in_flight} postings of this campaign may be in flight to the billing system: "
            "run `makegood billing push` (or load the export's acknowledgement) first"
        )


def _revoke_open_offers(uow: UnitOfWork, campaign_id: str) -> int:
    # Open offers are withdrawn whether or not their window has closed. Their unsent e-mails
    # would carry a link to a withdrawn offer: drop them (and their raw tokens) first, launch
    # e-mails still on their offers too.
    uow.outbox.write_launch_emails_of_open_offers(campaign_id)
    uow.outbox.drop_unsent_emails_of_open_offers(campaign_id, "offer withdrawn: campaign reversed")
    uow.outbox.dismiss_unread_inapp_of_open_offers(campaign_id)
    return uow.offers.revoke_open(campaign_id)


def _reverse_credits(
    uow: UnitOfWork,
    campaign_id: str,
    reason: str,
    now: datetime,
    actor: str,
    summary: ReversalSummary,
) -> None:
    credits = uow.credits.of_campaign(campaign_id)
    ids = list(credits)
    acked = {
        p.credit_id: p
        for p in uow.postings.of_credits(ids)
        if p.state == "acked" and p.purpose == "credit"
    }
    left = uow.ledger.unsettled(ids)
    entries: list[Entry] = []
    reversal_postings: list[dict[str, Any]] = []
    for row in credits.values():
        if row.state in ("forfeited", "paid_out"):
            summary.untouched += 1
            continue
        remaining = left.get(row.id, 0)
        if remaining > 0:
            entries.append(Entry("reversed", row.id, row.account_id, row.currency, -remaining))
            summary.credits_reversed += 1
            summary.reversed_minor[row.currency] += remaining
        if row.applied_minor > 0:
            entries.append(
                Entry("clawback", row.id, row.account_id, row.currency, -row.applied_minor)
            )
            summary.charge_backs += 1
            summary.charge_back_minor[row.currency] += row.applied_minor
        posting = acked.get(row.id)
        if posting is not None:
            posting_id = new_id("pst")
            amount = -posting.amount_minor  # the opposite of what the billing system booked
            reversal_postings.append(
                {
                    "id": posting_id,
                    "credit_id": row.id,
                    "connector": posting.connector,
                    "purpose": "reversal",
                    "account_id": row.account_id,
                    "amount_minor": amount,
                    "currency": row.currency,
                    "idempotency_key": idempotency_key(campaign_id, row.account_id, "reversal"),
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            entries.append(
                Entry(
                    "clawback", row.id, row.account_id, row.currency, -amount, posting_id=posting_id
                )
            )
            summary.connector_reversals += 1
            summary.charge_back_minor[row.currency] += amount
        uow.ledger.set_state(row.id, "reversed", f"campaign reversed: {reason}"[:500], now)
    # Postings that never reached the billing system (refused or skipped) are called off.
    uow.postings.cancel_unsent_of_credits(ids, "campaign reversed", now)
    uow.postings.add_rows(reversal_postings)
    uow.ledger.append(entries, now, actor)
