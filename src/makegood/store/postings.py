"""The connector_postings table: credits pushed to a billing connector, and their state.

A posting is created (state `pending`, a fixed idempotency key) and committed BEFORE anything is
sent, so a crash at any point leaves a row that the next push resends with the same key: the
billing system deduplicates, and we never post a credit twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.store.ledger import Entry, Ledger
from makegood.store.repository import Repository
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


def _postings() -> sa.Select[Any]:
    """A posting with what a connector sends (the campaign, the incident title, the Stripe
    customer) and its state: the one join every reader of postings goes through."""
    cp = connector_postings
    return (
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
            cp.c.state,
        )
        .join(credits, credits.c.id == cp.c.credit_id)
        .join(campaigns, campaigns.c.id == credits.c.campaign_id)
        .join(incidents, incidents.c.id == campaigns.c.incident_id)
        .join(accounts, accounts.c.account_id == cp.c.account_id)
    )


def _posting(r: Any) -> Posting:
    return Posting(
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


class Postings(Repository):
    """The connector_postings table: credits pushed to a billing connector (`uow.postings`)."""

    def create_for_ready_credits(
        self, connector: str, campaign_id: str | None, now: datetime
    ) -> int:
        """A pending posting for every credit ready to leave for `connector`; returns how many.

        Ready: granted, nothing of it applied on our statements, not held/settled/reversed, its
        account active, and not already handed to any connector.
        """
        ledger = Ledger(self.conn)
        created = 0
        after = ""
        while True:
            query = (
                sa.select(
                    credits.c.id, credits.c.campaign_id, credits.c.account_id, credits.c.currency
                )
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
            rows = self.conn.execute(query).all()
            if not rows:
                return created
            after = rows[-1].id
            left = ledger.unsettled([r.id for r in rows])
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
                self.conn.execute(connector_postings.insert(), values)
            created += len(values)

    def resendable_page(self, connector: str, campaign_id: str | None, after: str) -> list[Posting]:
        """The next postings not yet acknowledged (pending, failed, skipped), by posting id."""
        cp = connector_postings
        query = (
            _postings()
            .where(cp.c.connector == connector, cp.c.state.in_(RESENDABLE), cp.c.id > after)
            .order_by(cp.c.id)
            .limit(PAGE)
        )
        if campaign_id is not None:
            query = query.where(credits.c.campaign_id == campaign_id)
        return [_posting(r) for r in self.conn.execute(query)]

    def by_key_or_credit(
        self, connector: str, keys: Collection[str], credit_ids: Collection[str]
    ) -> dict[str, tuple[Posting, str]]:
        """key -> (posting of `connector`, its state), for the postings with one of `keys` (under
        their idempotency key) or of one of `credit_ids` (a credit posting, also under its
        credit id)."""
        cp = connector_postings
        query = _postings().where(
            cp.c.connector == connector,
            sa.or_(cp.c.idempotency_key.in_(keys), cp.c.credit_id.in_(credit_ids)),
        )
        found: dict[str, tuple[Posting, str]] = {}
        for r in self.conn.execute(query):
            posting = _posting(r)
            found[r.idempotency_key] = (posting, r.state)
            if r.purpose == "credit":
                found.setdefault(r.credit_id, (posting, r.state))
        return found

    def of_credits(self, credit_ids: Collection[str]) -> list[sa.Row[Any]]:
        """Every posting (all columns) of the given credits."""
        if not credit_ids:
            return []
        query = sa.select(connector_postings).where(connector_postings.c.credit_id.in_(credit_ids))
        return list(self.conn.execute(query))

    def mark(self, posting_id: str, now: datetime, **values: Any) -> None:
        self.conn.execute(
            connector_postings.update()
            .where(connector_postings.c.id == posting_id)
            .values(updated_at=now, **values)
        )

    def cancel_unsent(self, credit_id: str, reason: str, now: datetime) -> None:
        """Cancel the credit's refused or skipped credit postings (the credit left the ledger
        otherwise: sent again and acknowledged, it would credit the account twice)."""
        self.cancel_unsent_of_credits([credit_id], reason, now)

    def cancel_unsent_of_credits(
        self, credit_ids: Collection[str], reason: str, now: datetime
    ) -> None:
        """`cancel_unsent` for many credits in one statement (a reversed campaign's)."""
        if not credit_ids:
            return
        cp = connector_postings
        self.conn.execute(
            cp.update()
            .where(
                cp.c.credit_id.in_(credit_ids),
                cp.c.purpose == "credit",
                cp.c.state.in_(("failed", "skipped")),
            )
            .values(state="cancelled", updated_at=now, last_error=reason)
        )

    def pending_of_campaign(self, campaign_id: str) -> int:
        """How many postings of the campaign's credits are pending (may be in flight)."""
        cp = connector_postings
        query = (
            sa.select(sa.func.count())
            .select_from(cp.join(credits, credits.c.id == cp.c.credit_id))
            .where(credits.c.campaign_id == campaign_id, cp.c.state == "pending")
        )
        return int(self.conn.execute(query).scalar_one())

    def add_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """New postings, each a dict of every column (a reversal's, made from acknowledged
        credit postings)."""
        if rows:
            self.conn.execute(connector_postings.insert(), list(rows))

    def acknowledge(
        self, posting: Posting, external_id: str | None, now: datetime, actor: str
    ) -> bool:
        """Record the billing system's acknowledgement and its ledger entry, once; False if it
        was acknowledged already (a replayed acknowledgement changes nothing)."""
        cp = connector_postings
        changed = self.conn.execute(
            cp.update()
            .where(cp.c.id == posting.id, cp.c.state != "acked")
            .values(
                state="acked",
                external_id=external_id,
                acked_at=now,
                updated_at=now,
                last_error=None,
            )
        ).rowcount
        if changed != 1:
            return False
        # A credit posting settles the credit; a reversal posting bills its charge-back.
        kind = "posted" if posting.purpose == "credit" else "clawback_billed"
        reference = f"{posting.connector}:{external_id}" if external_id else posting.connector
        Ledger(self.conn).append(
            [
                Entry(
                    kind,
                    posting.credit_id,
                    posting.account_id,
                    posting.currency,
                    posting.amount_minor,
                    posting_id=posting.id,
                    reference=reference,
                )
            ],
            now,
            actor,
        )
        return True
