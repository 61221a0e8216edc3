"""Read-only queries behind the console and the API: lists, look-ups, account history, audit.

Every function takes a unit of work and changes nothing. Lists are bounded (`limit`), newest
first, so a page never loads a whole table.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from makegood.domain.errors import NotFound
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
    # Grouping in Python keeps one query for both dialects; one row per credit is small.
    days = Counter(at.date().isoformat() for at in uow.offers.credited_at_of_campaign(campaign_id))
    return sorted(days.items())


def find_accounts(uow: UnitOfWork, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Accounts whose id is `query` or whose e-mail is `query` (case-insensitive)."""
    text = query.strip()
    if not text:
        return []
    return [dict(r) for r in uow.accounts.find(text, _limit(limit))]


def get_account(uow: UnitOfWork, account_id: str) -> dict[str, Any]:
    """The account and its plan, or NotFound."""
    row = uow.accounts.with_plan(account_id)
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
    rows = uow.offers.with_terms(
        account_id=account_id, campaign_id=campaign_id, limit=_limit(limit)
    )
    return [dict(r) for r in rows]


def get_offer(uow: UnitOfWork, offer_id: str) -> dict[str, Any]:
    """One offer, or NotFound."""
    row = uow.offers.get(offer_id)
    if row is None:
        raise NotFound(f"no offer {offer_id!r}")
    return dict(row)


def messages_for(uow: UnitOfWork, account_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Every message of the account (both channels) with its delivery state; never the token."""
    return [dict(r) for r in uow.reports.account_messages(account_id, _limit(limit))]


def audit_entries(
    uow: UnitOfWork,
    *,
    subject_ids: list[str] | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first; `subject_ids` narrows to those things, `before` pages."""
    rows = uow.audit.entries(subject_ids=subject_ids, before=before, limit=_limit(limit))
    return [dict(r) for r in rows]


def account_audit(uow: UnitOfWork, account_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """Audit entries about the account or any of its offers."""
    offer_ids = uow.offers.ids_of_account(account_id)
    return audit_entries(uow, subject_ids=[account_id, *offer_ids], limit=limit)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
