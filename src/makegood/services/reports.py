"""The campaign funnel and its money: affected, offered, notified, claimed, applied."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.money import format_major
from makegood.domain.offers import CREDITED
from makegood.services.campaigns import get_campaign, preview
from makegood.store import outbox
from makegood.store import tables as t
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
    o, m, c = t.offers, outbox.all_messages(), t.credits
    offered = uow.conn.execute(
        sa.select(sa.func.count()).where(o.c.campaign_id == campaign_id)
    ).scalar_one()
    notified = uow.conn.execute(
        sa.select(sa.func.count(sa.distinct(m.c.offer_id)))
        .select_from(m.join(o, o.c.id == m.c.offer_id))
        .where(o.c.campaign_id == campaign_id, m.c.channel == "email", m.c.state == "sent")
    ).scalar_one()
    by_state: dict[str, int] = dict(
        uow.conn.execute(
            sa.select(o.c.state, sa.func.count())
            .where(o.c.campaign_id == campaign_id)
            .group_by(o.c.state)
        ).all()
    )
    claimed = sum(by_state.get(s, 0) for s in CREDITED)
    applied = uow.conn.execute(
        sa.select(sa.func.count()).where(c.c.campaign_id == campaign_id, c.c.applied_minor > 0)
    ).scalar_one()
    claimed_amount = _per_currency(
        uow.conn.execute(
            sa.select(c.c.currency, sa.func.sum(c.c.amount_minor))
            .where(c.c.campaign_id == campaign_id)
            .group_by(c.c.currency)
            .order_by(c.c.currency)
        )
    )
    applied_amount = _per_currency(
        uow.conn.execute(
            sa.select(c.c.currency, sa.func.sum(c.c.applied_minor))
            .where(c.c.campaign_id == campaign_id)
            .group_by(c.c.currency)
            .order_by(c.c.currency)
        )
    )
    messages = {
        f"{channel}_{state}": count
        for channel, state, count in uow.conn.execute(
            sa.select(m.c.channel, m.c.state, sa.func.count())
            .select_from(m.join(o, o.c.id == m.c.offer_id))
            .where(o.c.campaign_id == campaign_id)
            .group_by(m.c.channel, m.c.state)
        )
    }
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
        "notified": notified,
        "claimed": claimed,
        "granted_automatically": by_state.get("granted", 0) if campaign.mode == "auto" else 0,
        "applied": applied,
        "claim_rate": round(claimed / offered, 4) if offered else 0.0,
        "liability": draft["liability"],
        "claimed_amount": claimed_amount,
        "applied_amount": applied_amount,
        "messages": messages,
        "pay_within_days": campaign.pay_within_days,
        **deadlines,
    }
