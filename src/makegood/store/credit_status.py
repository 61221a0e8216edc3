"""Where an account stands for each recent incident: the one query behind the account API
(`GET /api/v1/accounts/{id}/credits`) and the status e-mail (`POST /credits`).

Read from the campaign snapshot (`cohort_members`: evidence and the exclusion reason), the
offer, its credit and what billing did with it (statement lines, connector acknowledgements,
credit states). The statement a credit lands on comes from the one rule,
`domain.calendar.statement_date_for`, as on the claim page. Reads only; a handful of small
queries bounded by the number of incidents in the window, never by the number of accounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from makegood.domain.calendar import statement_date_for
from makegood.domain.offers import claimable
from makegood.store import tables as t
from makegood.store.repository import Repository
from makegood.store.tables_billing import connector_postings, credit_states

WINDOW_DAYS = 90
STATUSES = (
    "not_affected",
    "excluded",
    "offered",
    "claimed",
    "granted",
    "applied",
    "expired",
    "revoked",
)
# Campaign states whose snapshot is complete (a build in progress or failed is not).
_SNAPSHOT_STATES = ("draft", "approved", "launching", "launched")
# An affected, eligible account whose campaign has not offered it anything yet.
NOT_OFFERED_YET = "not_offered_yet"


@dataclass(frozen=True, slots=True)
class IncidentCredit:
    """One incident as one account saw it."""

    incident_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    status: str  # one of STATUSES
    reason: str | None  # the exclusion reason when excluded
    amount_minor: int | None
    currency: str | None
    failed_attempts: int | None
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    impact_minutes: int | None
    statement_date: date | None
    offer_id: str | None = None
    offer_expires_at: datetime | None = None
    posted_by: str | None = None  # the billing connector that acknowledged the credit


@dataclass(frozen=True, slots=True)
class AccountCredits:
    account_id: str
    email: str
    locale: str
    incidents: list[IncidentCredit]


class CreditStatusReports(Repository):
    """The account-credits read model of `uow.reports` (store/reports.py)."""

    def account_credits(
        self, account_id: str, now: datetime, window_days: int = WINDOW_DAYS
    ) -> AccountCredits | None:
        """Every incident that ended in the last `window_days` (newest first) with this
        account's status in it; None when the account is unknown."""
        conn = self.conn
        a = t.accounts
        account = conn.execute(
            sa.select(
                a.c.account_id, a.c.email, a.c.locale, a.c.next_bill_date, a.c.billing_day
            ).where(a.c.account_id == account_id)
        ).one_or_none()
        if account is None:
            return None
        i = t.incidents
        incidents = conn.execute(
            sa.select(i.c.id, i.c.title, i.c.starts_at, i.c.ends_at)
            .where(i.c.ends_at > now - timedelta(days=window_days))
            .order_by(i.c.starts_at.desc(), i.c.id)
        ).all()
        ids = [r.id for r in incidents]
        offers = _offers(conn, account_id, ids)
        members = _members(conn, account_id, ids)
        applied_on = _statement_dates(conn, [o["credit_id"] for o in offers.values()])
        entries = [
            _entry(r, offers.get(r.id), members.get(r.id), applied_on, account, now)
            for r in incidents
        ]
        return AccountCredits(account.account_id, account.email, account.locale, entries)


def _offers(conn: sa.Connection, account_id: str, incident_ids: list[str]) -> dict[str, Any]:
    """incident id -> the account's offer there, with its credit and billing outcome."""
    if not incident_ids:
        return {}
    o, c, cs, cp = t.offers, t.credits, credit_states, connector_postings
    rows = conn.execute(
        sa.select(
            o.c.id,
            o.c.incident_id,
            o.c.campaign_id,
            o.c.state,
            o.c.amount_minor,
            o.c.currency,
            o.c.expires_at,
            o.c.credited_at,
            c.c.id.label("credit_id"),
            c.c.granted_at,
            c.c.amount_minor.label("credit_minor"),
            c.c.applied_minor,
            cs.c.state.label("credit_state"),
            cp.c.connector,
        )
        .select_from(
            o.outerjoin(c, c.c.offer_id == o.c.id)
            .outerjoin(cs, cs.c.credit_id == c.c.id)
            .outerjoin(
                cp,
                sa.and_(cp.c.credit_id == c.c.id, cp.c.purpose == "credit", cp.c.state == "acked"),
            )
        )
        .where(o.c.account_id == account_id, o.c.incident_id.in_(incident_ids))
    ).mappings()
    return {r["incident_id"]: r for r in rows}


def _members(conn: sa.Connection, account_id: str, incident_ids: list[str]) -> dict[str, Any]:
    """incident id -> the account's snapshot row, from the launched campaign when there is one,
    else from the newest complete snapshot."""
    if not incident_ids:
        return {}
    cm, cmp = t.cohort_members, t.campaigns
    rows = conn.execute(
        sa.select(cm, cmp.c.incident_id, cmp.c.state.label("campaign_state"))
        .join(cmp, cmp.c.id == cm.c.campaign_id)
        .where(
            cm.c.account_id == account_id,
            cmp.c.incident_id.in_(incident_ids),
            cmp.c.state.in_(_SNAPSHOT_STATES),
        )
        .order_by((cmp.c.state == "launched").desc(), cmp.c.created_at.desc(), cmp.c.id.desc())
    ).mappings()
    chosen: dict[str, Any] = {}
    for r in rows:
        chosen.setdefault(r["incident_id"], r)
    return chosen


def _statement_dates(conn: sa.Connection, credit_ids: Iterable[str | None]) -> dict[str, date]:
    """credit id -> the date of the last of our statements that applied part of it."""
    ids = [c for c in credit_ids if c]
    if not ids:
        return {}
    sl, st = t.statement_lines, t.statements
    rows = conn.execute(
        sa.select(sl.c.credit_id, sa.func.max(st.c.statement_date))
        .join(st, st.c.id == sl.c.statement_id)
        .where(sl.c.credit_id.in_(ids), sl.c.kind == "credit")
        .group_by(sl.c.credit_id)
    ).all()
    return {r[0]: r[1] for r in rows}


def _entry(
    incident: Any,
    offer: Any | None,
    member: Any | None,
    applied_on: dict[str, date],
    account: Any,
    now: datetime,
) -> IncidentCredit:
    evidence: dict[str, Any] = {
        "failed_attempts": None,
        "first_failure_at": None,
        "last_failure_at": None,
        "impact_minutes": None,
    }
    if member is not None:
        evidence = {k: member[k] for k in evidence}
    base = {
        "incident_id": incident.id,
        "title": incident.title,
        "starts_at": incident.starts_at,
        "ends_at": incident.ends_at,
        **evidence,
    }
    if offer is None:
        if member is None:
            return IncidentCredit(
                **base,
                status="not_affected",
                reason=None,
                amount_minor=None,
                currency=None,
                statement_date=None,
            )
        return IncidentCredit(
            **base,
            status="excluded",
            reason=member["excluded_reason"] or NOT_OFFERED_YET,
            amount_minor=None,
            currency=member["currency"],
            statement_date=None,
        )
    status, statement_date = _offer_status(offer, applied_on, account, now)
    return IncidentCredit(
        **base,
        status=status,
        reason=None,
        amount_minor=offer["amount_minor"],
        currency=offer["currency"],
        statement_date=statement_date,
        offer_id=offer["id"],
        offer_expires_at=offer["expires_at"],
        posted_by=offer["connector"] if status == "applied" else None,
    )


def _offer_status(
    offer: Any, applied_on: dict[str, date], account: Any, now: datetime
) -> tuple[str, date | None]:
    state = offer["state"]
    if state == "revoked" or offer["credit_state"] == "reversed":
        return "revoked", None
    if claimable(state, offer["expires_at"], now):
        return "offered", None
    if claimable(state, offer["expires_at"], now, even_after_expiry=True):
        return "expired", None
    credit_id = offer["credit_id"]
    if offer["connector"] is not None:
        # The billing system acknowledged it: its statement is theirs, not one of ours.
        return "applied", applied_on.get(credit_id)
    if credit_id is not None and offer["applied_minor"] >= offer["credit_minor"]:
        return "applied", applied_on.get(credit_id)
    granted_at = offer["granted_at"] or offer["credited_at"] or now
    lands = statement_date_for(granted_at, account.next_bill_date, account.billing_day)
    return str(state), lands
