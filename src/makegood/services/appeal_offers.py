"""One offer issued for an appeal: the rows a launch writes for one account, in the caller's
transaction (services/launch_rows.py makes them, store/ writes them).

The offer gets a fresh claim window (the campaign's claim days from now: the launch's window
may have closed while the appeal waited). In automatic mode it is granted at once, with its
credit, and `credited_via` says `appeal`. The account's evidence joins the campaign's snapshot,
so the claim page, the e-mail and the status API show what the logs held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from makegood.domain.policy import Decision, Mode
from makegood.services.campaigns import Campaign
from makegood.services.channels import launch_rows
from makegood.services.launch_rows import CREDIT_COLUMNS, LaunchTerms, chunk_rows, credit_dicts
from makegood.store.uow import UnitOfWork
from makegood.telemetry.account_log import AccountLog

VIA = "appeal"


def issue_offer(
    uow: UnitOfWork,
    campaign: Campaign,
    account_id: str,
    plan_id: str,
    decision: Decision,
    log: AccountLog,
    now: datetime,
    *,
    auto: bool | None = None,
    messages: bool = True,
    channels: tuple[str, ...] = (),
    actor: str = "system:appeal",
) -> str:
    """Write the offer (and in automatic mode its credit) and, with `messages`, its e-mail and
    its messages on `channels` (services/channels.py configured_channels); returns the offer's
    id. UNIQUE (account_id, incident_id) refuses a second offer for the incident."""
    assert decision.amount is not None
    auto = campaign.mode == Mode.AUTO if auto is None else auto
    terms = LaunchTerms(
        campaign_id=campaign.id,
        incident_id=campaign.incident_id,
        expires_at=now + timedelta(days=campaign.claim_days),
        auto=auto,
    )
    member = (account_id, decision.amount.minor, decision.amount.currency, plan_id)
    postgres = uow.dialect == "postgresql"
    rows = chunk_rows([member], account_id, terms, now, postgres, email=messages)
    offer_id = str(rows.offers[0][0])
    # Its e-mail, with `messages`, is pending on the offer, as a launch's (store/outbox.py).
    uow.offers.insert(rows.offers, rows.offers_binary)
    if messages and channels:  # SMS / push, as a launch sends them
        links, extra = launch_rows(
            channels,
            offer_id=offer_id,
            account_id=account_id,
            template=rows.template,
            needs_link=rows.offers[0][12] is not None,
            now=now,
        )
        uow.offers.add_links(links)
        uow.outbox.queue(extra)
    if rows.credits:
        uow.credits.add_rows(CREDIT_COLUMNS, rows.credits)
        uow.ledger.add_grants(credit_dicts(rows), now, actor)
        uow.offers.set_credited_via(offer_id, VIA)
    if log.failed_attempts and log.first_failure_at and log.last_failure_at:
        uow.cohort.add_member(
            {
                "campaign_id": campaign.id,
                "account_id": account_id,
                "failed_attempts": log.failed_attempts,
                "first_failure_at": log.first_failure_at,
                "last_failure_at": log.last_failure_at,
                "excluded_reason": None,
                "plan_id": plan_id,
                "currency": decision.amount.currency,
                "amount_minor": decision.amount.minor,
                "impact_minutes": log.impact_minutes,
                "tier": decision.tier,
                "why": decision.why,
                "why_count": decision.why_count,
            },
        )
    return offer_id
