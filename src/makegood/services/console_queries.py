"""Read-only queries behind the console and the API: lists, look-ups, account history, audit.

Every function takes a unit of work and changes nothing. Lists are bounded (`limit`), newest
first, so a page never loads a whole table.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.errors import NotFound
from makegood.domain.offers import CREDITED
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

MAX_LIMIT = 500


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def list_incidents(uow: UnitOfWork, limit: int = 100) -> list[dict[str, Any]]:
    """Incidents, newest first, with the number of campaigns each has."""
    return [dict(r) for r in uow.incidents.newest(_limit(limit))]


def get_incident_row(uow: UnitOfWork, incident_id: str) -> dict[str, Any]:
    """The incident as stored, or NotFound."""
    row = uow.incidents.get(incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id!r}")
    return dict(row)


def list_campaigns(
    uow: UnitOfWork, incident_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Campaigns (of one incident, or all), newest first."""
    return [dict(r) for r in uow.campaigns.newest(incident_id, _limit(limit))]


def claims_by_day(uow: UnitOfWork, campaign_id: str) -> list[tuple[str, int]]:
    """(YYYY-MM-DD in UTC, credits made that day) for the campaign, in date order."""
    o = t.offers
    days: Counter[str] = Counter()
    result = uow.conn.execute(
        sa.select(o.c.credited_at).where(
            o.c.campaign_id == campaign_id, o.c.state.in_(list(CREDITED))
        )
    )
    # Grouping in Python keeps one query for both dialects; one row per credit is small.
    for (credited_at,) in result:
        if credited_at is not None:
            days[credited_at.date().isoformat()] += 1
    return sorted(days.items())


def find_accounts(uow: UnitOfWork, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Accounts whose id is `query` or whose e-mail is `query` (case-insensitive)."""
    a = t.accounts
    text = query.strip()
    if not text:
        return []
    rows = uow.conn.execute(
        sa.select(a.c.account_id, a.c.email, a.c.status, a.c.locale, a.c.plan_id)
        .where(sa.or_(a.c.account_id == text, sa.func.lower(a.c.email) == text.lower()))
        .order_by(a.c.account_id)
        .limit(_limit(limit))
    ).mappings()
    return [dict(r) for r in rows]


def get_account(uow: UnitOfWork, account_id: str) -> dict[str, Any]:
    """The account and its plan, or NotFound."""
    a, p = t.accounts, t.plans
    row = (
        uow.conn.execute(
            sa.select(a, p.c.name.label("plan_name"), p.c.currency)
            .join(p, p.c.plan_id == a.c.plan_id)
            .where(a.c.account_id == account_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no account {account_id!r}: search by the account id or the e-mail")
    return dict(row)


def offers_for(
    uow: UnitOfWork,
    *,
    account_id: str | None = None,
    campaign_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Offers of an account or a campaign, newest first, with incident title and evidence."""
    o, i, cm = t.offers, t.incidents, t.cohort_members
    query = (
        sa.select(
            o,
            i.c.title.label("incident_title"),
            cm.c.failed_attempts,
            cm.c.first_failure_at,
            cm.c.last_failure_at,
        )
        .join(i, i.c.id == o.c.incident_id)
        .outerjoin(
            cm, sa.and_(cm.c.campaign_id == o.c.campaign_id, cm.c.account_id == o.c.account_id)
        )
    )
    if account_id is not None:
        query = query.where(o.c.account_id == account_id)
    if campaign_id is not None:
        query = query.where(o.c.campaign_id == campaign_id)
    rows = uow.conn.execute(
        query.order_by(o.c.created_at.desc(), o.c.id.desc()).limit(_limit(limit))
    ).mappings()
    return [dict(r) for r in rows]


def get_offer(uow: UnitOfWork, offer_id: str) -> dict[str, Any]:
    """One offer, or NotFound."""
    row = uow.conn.execute(sa.select(t.offers).where(t.offers.c.id == offer_id)).mappings().first()
    if row is None:
        raise NotFound(f"no offer {offer_id!r}")
    return dict(row)


def messages_for(uow: UnitOfWork, account_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Every message of the account (both channels) with its delivery state; never the token."""
    m = outbox.account_messages(account_id)
    rows = uow.conn.execute(
        sa.select(
            m.c.id,
            m.c.offer_id,
            m.c.channel,
            m.c.template,
            m.c.state,
            m.c.attempts,
            m.c.last_error,
            m.c.created_at,
            m.c.sent_at,
        )
        .order_by(m.c.created_at.desc(), m.c.id.desc())
        .limit(_limit(limit))
    ).mappings()
    return [dict(r) for r in rows]


def audit_entries(
    uow: UnitOfWork,
    *,
    subject_ids: list[str] | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first; `subject_ids` narrows to those things, `before` pages."""
    al = t.audit_log
    query = sa.select(al)
    if subject_ids is not None:
        query = query.where(al.c.subject_id.in_(subject_ids))
    if before is not None:
        query = query.where(al.c.id < before)
    rows = uow.conn.execute(query.order_by(al.c.id.desc()).limit(_limit(limit))).mappings()
    return [dict(r) for r in rows]


def account_audit(uow: UnitOfWork, account_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """Audit entries about the account or any of its offers."""
    offer_ids = [
        str(v)
        for v in uow.conn.execute(
            sa.select(t.offers.c.id).where(t.offers.c.account_id == account_id)
        ).scalars()
    ]
    return audit_entries(uow, subject_ids=[account_id, *offer_ids], limit=limit)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
