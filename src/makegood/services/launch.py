"""Launch: one offer per eligible account, its token and its messages, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from makegood.billing import journal
from makegood.bootstrap import Container
from makegood.domain.errors import InvalidState
from makegood.domain.ids import new_id
from makegood.domain.offers import CampaignState, OfferState, check_transition
from makegood.domain.policy import Mode
from makegood.domain.tokens import hash_token, new_token
from makegood.notify.channels import configured_channels, launch_rows
from makegood.services.audit import record
from makegood.services.campaigns import get_campaign
from makegood.store import tables as t

BATCH = 5_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LaunchResult:
    campaign_id: str
    offers: int
    already_launched: bool
    expires_at: datetime | None


def launch_campaign(
    container: Container, campaign_id: str, actor: str = "cli", progress: Progress | None = None
) -> LaunchResult:
    """Issue the offers of an approved campaign exactly once; a second launch issues nothing."""
    now = container.now()
    with container.uow() as uow:
        campaign = get_campaign(uow, campaign_id, lock=True)
        if campaign.state == CampaignState.LAUNCHED:
            return LaunchResult(
                campaign_id, 0, True, _expiry(campaign.launched_at, campaign.claim_days)
            )
        check_transition(campaign.state, CampaignState.LAUNCHED)
        # The conditional transition is the guard against two launches running at once.
        changed = uow.conn.execute(
            t.campaigns.update()
            .where(t.campaigns.c.id == campaign_id, t.campaigns.c.state == CampaignState.APPROVED)
            .values(state=CampaignState.LAUNCHED, launched_at=now, launched_by=actor)
        ).rowcount
        if changed != 1:
            return LaunchResult(campaign_id, 0, True, None)
        expires_at = now + timedelta(days=campaign.claim_days)
        issued = 0
        last = ""
        auto = campaign.mode == Mode.AUTO
        try:
            while members := _next_members(uow.conn, campaign_id, campaign.incident_id, last):
                rows = _offer_rows(
                    members, campaign_id, campaign.incident_id, now, expires_at, auto
                )
                _add_channel_rows(rows, configured_channels(container.settings), now, auto)
                for table, values in rows.items():
                    if values:
                        uow.conn.execute(table.insert(), values)
                journal.add_grants(uow.conn, rows[t.credits], now, actor)  # auto mode's ledger
                issued += len(members)
                last = members[-1]["account_id"]
                if progress:
                    progress(issued)
        except sa.exc.IntegrityError:
            raise InvalidState(
                "another campaign of this incident offered some of these accounts at the same "
                "time; nothing was launched: run launch again"
            ) from None
        record(
            uow,
            now,
            actor,
            "campaign.launched",
            "campaign",
            campaign_id,
            {"offers": issued, "expires_at": expires_at.isoformat(), "mode": campaign.mode},
        )
        uow.commit()
    return LaunchResult(campaign_id, issued, False, expires_at)


def _expiry(launched_at: datetime | None, days: int) -> datetime | None:
    return launched_at + timedelta(days=days) if launched_at else None


def _next_members(
    conn: sa.Connection, campaign_id: str, incident_id: str, after: str
) -> list[dict[str, Any]]:
    """The next eligible members by account id, skipping accounts offered for this incident."""
    cm, o = t.cohort_members, t.offers
    offered = sa.select(o.c.id).where(
        o.c.incident_id == incident_id, o.c.account_id == cm.c.account_id
    )
    query = (
        sa.select(cm.c.account_id, cm.c.amount_minor, cm.c.currency, cm.c.plan_id)
        .where(
            cm.c.campaign_id == campaign_id,
            cm.c.excluded_reason.is_(None),
            cm.c.account_id > after,
            ~offered.exists(),
        )
        .order_by(cm.c.account_id)
        .limit(BATCH)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def _add_channel_rows(
    rows: dict[sa.Table, list[dict[str, Any]]], channels: tuple[str, ...], now: datetime, auto: bool
) -> None:
    """SMS / push rows (issue 5), only for the channels the operator configured."""
    if not channels:
        return
    for offer in rows[t.offers]:
        tokens, messages = launch_rows(
            channels,
            offer_id=offer["id"],
            account_id=offer["account_id"],
            template="offer_granted" if auto else "offer_claim",
            needs_link=not auto,
            now=now,
        )
        rows[t.claim_tokens] += tokens
        rows[t.messages] += messages


def _offer_rows(
    members: list[dict[str, Any]],
    campaign_id: str,
    incident_id: str,
    now: datetime,
    expires_at: datetime,
    auto: bool,
) -> dict[sa.Table, list[dict[str, Any]]]:
    offers: list[dict[str, Any]] = []
    tokens: list[dict[str, Any]] = []
    credits: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    template = "offer_granted" if auto else "offer_claim"
    for m in members:
        offer_id = new_id("ofr")
        offers.append(
            {
                "id": offer_id,
                "campaign_id": campaign_id,
                "incident_id": incident_id,
                "account_id": m["account_id"],
                "state": OfferState.GRANTED if auto else OfferState.OPEN,
                "amount_minor": m["amount_minor"],
                "currency": m["currency"],
                "plan_id": m["plan_id"],
                "created_at": now,
                "expires_at": expires_at,
                "credited_at": now if auto else None,
                "credited_via": "auto" if auto else None,
            }
        )
        token = None
        if auto:
            credits.append(
                {
                    "id": new_id("crd"),
                    "offer_id": offer_id,
                    "account_id": m["account_id"],
                    "campaign_id": campaign_id,
                    "amount_minor": m["amount_minor"],
                    "currency": m["currency"],
                    "granted_at": now,
                    "applied_minor": 0,
                }
            )
        else:
            token = new_token()
            tokens.append(
                {"token_hash": hash_token(token), "offer_id": offer_id, "created_at": now}
            )
        for channel, state in (("email", "pending"), ("inapp", "unread")):
            messages.append(
                {
                    "id": new_id("msg"),
                    "offer_id": offer_id,
                    "account_id": m["account_id"],
                    "channel": channel,
                    "template": template,
                    "state": state,
                    "attempts": 0,
                    "next_attempt_at": now,
                    # Only the e-mail carries the raw token, and only until it is accepted.
                    "claim_token": token if channel == "email" else None,
                    "created_at": now,
                }
            )
    return {
        t.offers: offers,
        t.claim_tokens: tokens,
        t.credits: credits,
        t.messages: messages,
    }
