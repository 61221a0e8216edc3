"""SQL for connector postings: which credits a billing system still has to receive, and their state.

A posting is created (state `pending`, a fixed idempotency key) and committed BEFORE anything is
sent, so a crash at any point leaves a row that the next push resends with the same key: the
billing system deduplicates, and we never post a credit twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.store.ledger import Entry, Ledger
from makegood.store.tables import accounts, campaigns, credits, incidents
from makegood.store.tables_billing import connector_postings, credit_states

PAGE = 200
RESENDABLE = ("pending", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class Posting:
    """One credit (or the reversal of one) to send to a billing system."""

    id: str
    connector: str
    purpose: str  # credit | reversal
    credit_id: str
    campaign_id: str
    account_id: str
    amount_minor: int  # as the billing system books it: a credit is negative
    currency: str
    idempotency_key: str
    attempts: int
    label: str  # the incident title, for the description the subscriber reads
    stripe_customer_id: str | None


def idempotency_key(campaign_id: str, account_id: str, purpose: str) -> str:
    """Deterministic from campaign and account: a resend after a crash reuses it."""
    base = f"makegood-{campaign_id}-{account_id}"
    return base if purpose == "credit" else f"{base}-{purpose}"


def create_credit_postings(
    conn: sa.Connection, connector: str, campaign_id: str | None, now: datetime
) -> int:
    """A pending posting for every credit ready to leave for `connector`; returns how many.

    Ready: granted, nothing of it applied on our statements, not held/settled/reversed, its
    account active, and not already handed to any connector.
    """
    created = 0
    after = ""
    while True:
        query = (
            sa.select(credits.c.id, credits.c.campaign_id, credits.c.account_id, credits.c.currency)
            .join(accounts, accounts.c.account_id == credits.c.account_id)
            .where(
                credits.c.id > after,
                credits.c.applied_minor == 0,
                accounts.c.status == "active",
                ~sa.exists().where(credit_states.c.credit_id == credits.c.id),
                ~sa.exists().where(
                    connector_postings.c.credit_id == credits.c.id,
                    connector_postings.c.purpose == "credit",
                    connector_postings.c.state != "cancelled",
                ),
            )
            .order_by(credits.c.id)
            .limit(PAGE)
        )
        if campaign_id is not None:
            query = query.where(credits.c.campaign_id == campaign_id)
        rows = conn.execute(query).all()
        if not rows:
            return created
        after = rows[-1].id
        left = Ledger(conn).unsettled([r.id for r in rows])
        values = [
            {
                "id": new_id("pst"),
                "credit_id": r.id,
                "connector": connector,
                "purpose": "credit",
                "account_id": r.account_id,
                "amount_minor": -left[r.id],
                "currency": r.currency,
                "idempotency_key": idempotency_key(r.campaign_id, r.account_id, "credit"),
                "state": "pending",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
            if left.get(r.id, 0) > 0
        ]
        if values:
            conn.execute(connector_postings.insert(), values)
        created += len(values)


def resendable_page(
    conn: sa.Connection, connector: str, campaign_id: str | None, after: str
) -> list[Posting]:
    """The next postings not yet acknowledged (pending, failed, skipped), by posting id."""
    cp = connector_postings
    query = (
        sa.select(
            cp.c.id,
            cp.c.connector,
            cp.c.purpose,
            cp.c.credit_id,
            credits.c.campaign_id,
            cp.c.account_id,
            cp.c.amount_minor,
            cp.c.currency,
            cp.c.idempotency_key,
            cp.c.attempts,
            incidents.c.title,
            accounts.c.stripe_customer_id,
        )
        .join(credits, credits.c.id == cp.c.credit_id)
        .join(campaigns, campaigns.c.id == credits.c.campaign_id)
        .join(incidents, incidents.c.id == campaigns.c.incident_id)
        .join(accounts, accounts.c.account_id == cp.c.account_id)
        .where(cp.c.connector == connector, cp.c.state.in_(RESENDABLE), cp.c.id > after)
        .order_by(cp.c.id)
        .limit(PAGE)
    )
    if campaign_id is not None:
        query = query.where(credits.c.campaign_id == campaign_id)
    return [
        Posting(
            r.id,
            r.connector,
            r.purpose,
            r.credit_id,
            r.campaign_id,
            r.account_id,
            r.amount_minor,
            r.currency,
            r.idempotency_key,
            r.attempts,
            r.title,
            r.stripe_customer_id,
        )
        for r in conn.execute(query)
    ]


def mark(conn: sa.Connection, posting_id: str, now: datetime, **values: Any) -> None:
    conn.execute(
        connector_postings.update()
        .where(connector_postings.c.id == posting_id)
        .values(updated_at=now, **values)
    )


def acknowledge(
    conn: sa.Connection, posting: Posting, external_id: str | None, now: datetime, actor: str
) -> bool:
    """Record the billing system's acknowledgement and its ledger entry, once; False if it was
    acknowledged already (a replayed acknowledgement changes nothing)."""
    changed = conn.execute(
        connector_postings.update()
        .where(connector_postings.c.id == posting.id, connector_postings.c.state != "acked")
        .values(
            state="acked", external_id=external_id, acked_at=now, updated_at=now, last_error=None
        )
    ).rowcount
    if changed != 1:
        return False
    # A credit posting settles the credit; a reversal posting bills its charge-back.
    kind = "posted" if posting.purpose == "credit" else "clawback_billed"
    Ledger(conn).append(
        [
            Entry(
                kind,
                posting.credit_id,
                posting.account_id,
                posting.currency,
                posting.amount_minor,
                posting_id=posting.id,
                reference=f"{posting.connector}:{external_id}"
                if external_id
                else posting.connector,
            )
        ],
        now,
        actor,
    )
    return True
