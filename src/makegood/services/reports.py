"""The campaign funnel and its money: affected, offered, notified, claimed, applied."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from makegood.domain.money import format_major
from makegood.domain.offers import CREDITED
from makegood.services.campaigns import get_campaign, preview
from makegood.store.uow import UnitOfWork

DEADLINE_FIELDS = ("applied_on_time", "applied_late", "unapplied_overdue")


def _per_currency(rows: Any) -> dict[str, str]:
    return {cur: format_major(int(total or 0), cur) for cur, total in rows if cur is not None}


def campaign_report(
    uow: UnitOfWork, campaign_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """Counts and amounts of one campaign, read from the offers, messages and credits; with a
    payment deadline, how many credits were applied on time, late, or are overdue at `now`
    (null without one)."""
    campaign = get_campaign(uow, campaign_id)
    draft = preview(uow, campaign_id)
    funnel = uow.reports.funnel(campaign_id)
    offered, by_state = funnel["offered"], funnel["by_state"]
    claimed = sum(by_state.get(s, 0) for s in CREDITED)
    messages = {f"{channel}_{state}": count for channel, state, count in funnel["messages"]}
    deadlines: dict[str, int | None] = dict.fromkeys(DEADLINE_FIELDS)
    if campaign.pay_within_days is not None:
        counts = uow.reports.deadline_counts(
            campaign_id, campaign.pay_within_days, now or datetime.now(UTC)
        )
        deadlines = {name: getattr(counts, name) for name in DEADLINE_FIELDS}
    return {
        "campaign": campaign.id,
        "incident": campaign.incident_id,
        "state": campaign.state,
        "mode": campaign.mode,
        "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None,
        "affected": draft["affected"],
        "eligible": draft["eligible"],
        "excluded": draft["excluded"],
        "offered": offered,
        "notified": funnel["notified"],
        "claimed": claimed,
        "granted_automatically": by_state.get("granted", 0) if campaign.mode == "auto" else 0,
        "applied": funnel["applied"],
        "claim_rate": round(claimed / offered, 4) if offered else 0.0,
        "liability": draft["liability"],
        "claimed_amount": _per_currency(funnel["granted_minor"]),
        "applied_amount": _per_currency(funnel["applied_minor"]),
        "messages": messages,
        "pay_within_days": campaign.pay_within_days,
        **deadlines,
    }
