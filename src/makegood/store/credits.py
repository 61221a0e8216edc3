"""The credits table: granted credits and what of them was applied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from makegood.domain.statements import OpenCredit
from makegood.store.bulk_insert import Row, insert_rows
from makegood.store.repository import Repository
from makegood.store.tables import accounts, campaigns, credits, incidents
from makegood.store.tables_billing import connector_postings, credit_states

_ADD_APPLIED_PG = sa.text(
    """
UPDATE credits SET applied_minor = credits.applied_minor + v.delta
FROM (SELECT unnest(CAST(:ids AS text[])) AS id,
             unnest(CAST(:deltas AS bigint[])) AS delta) AS v
WHERE credits.id = v.id
"""
)


class Credits(Repository):
    """The credits table: granted credits and what of them was applied (`uow.credits`)."""

    def open_for_statements(self, account_ids: Sequence[str]) -> dict[str, list[OpenCredit]]:
        """account id -> its credits with something left to apply (any currency)."""
        if not account_ids:
            return {}
        query = (
            sa.select(
                credits.c.id,
                credits.c.account_id,
                credits.c.campaign_id,
                credits.c.currency,
                credits.c.amount_minor,
                credits.c.applied_minor,
                credits.c.granted_at,
                incidents.c.title,
            )
            .join(campaigns, campaigns.c.id == credits.c.campaign_id)
            .join(incidents, incidents.c.id == campaigns.c.incident_id)
            .where(
                credits.c.account_id.in_(account_ids),
                credits.c.applied_minor < credits.c.amount_minor,
                # Held, forfeited, paid out or reversed credits wait or are gone; a credit
                # handed to a billing system (any posting not cancelled) is billed there, never
                # here too.
                ~sa.exists().where(credit_states.c.credit_id == credits.c.id),
                ~sa.exists().where(
                    connector_postings.c.credit_id == credits.c.id,
                    connector_postings.c.state != "cancelled",
                ),
            )
        )
        found: dict[str, list[OpenCredit]] = {}
        for row in self.conn.execute(query):
            found.setdefault(row.account_id, []).append(
                OpenCredit(
                    credit_id=row.id,
                    campaign_id=row.campaign_id,
                    currency=row.currency,
                    amount_minor=row.amount_minor,
                    remaining_minor=row.amount_minor - row.applied_minor,
                    granted_at=row.granted_at,
                    label=row.title,
                )
            )
        return found

    def add_applied(self, applied: Mapping[str, int]) -> None:
        """Raise each credit's applied amount; the table's check refuses applying more than it
        holds."""
        if not applied:
            return
        if self.dialect == "postgresql":
            self._add_applied_postgresql(applied)
            return
        self.conn.execute(
            sa.update(credits)
            .where(credits.c.id == sa.bindparam("b_id"))
            .values(
                applied_minor=credits.c.applied_minor + sa.bindparam("b_delta", type_=sa.BigInteger)
            ),
            [{"b_id": credit_id, "b_delta": minor} for credit_id, minor in applied.items()],
        )

    def _add_applied_postgresql(self, applied: Mapping[str, int]) -> None:
        # One statement for a close page instead of one per credit (arrays, unnested).
        self.conn.execute(_ADD_APPLIED_PG, {"ids": list(applied), "deltas": list(applied.values())})

    def unbilled_of_inactive_accounts(self, after: str, limit: int) -> list[sa.Row[Any]]:
        """The next `limit` credits (by id, after `after`) of paused or cancelled accounts with
        something unapplied, not settled (held ones included) and with no posting that may be
        in flight or was acknowledged: id, account_id, currency, status (the account's), state
        (the credit's hold, or None)."""
        query = (
            sa.select(
                credits.c.id,
                credits.c.account_id,
                credits.c.currency,
                accounts.c.status,
                credit_states.c.state,
            )
            .join(accounts, accounts.c.account_id == credits.c.account_id)
            .outerjoin(credit_states, credit_states.c.credit_id == credits.c.id)
            .where(
                accounts.c.status != "active",
                credits.c.applied_minor < credits.c.amount_minor,
                credits.c.id > after,
                sa.or_(credit_states.c.state.is_(None), credit_states.c.state == "held"),
                ~sa.exists().where(
                    connector_postings.c.credit_id == credits.c.id,
                    connector_postings.c.state.in_(("pending", "acked")),
                ),
            )
            .order_by(credits.c.id)
            .limit(limit)
        )
        return list(self.conn.execute(query))

    def statuses(
        self, account_id: str | None, campaign_id: str | None, limit: int
    ) -> list[sa.Row[Any]]:
        """The credits of an account and/or a campaign (at most `limit`), oldest first, each with
        its state and reason (credit_states) and its live credit posting (connector,
        posting_state, external_id, last_error)."""
        cp = connector_postings
        query = (
            sa.select(
                credits,
                credit_states.c.state,
                credit_states.c.reason,
                cp.c.connector,
                cp.c.state.label("posting_state"),
                cp.c.external_id,
                cp.c.last_error,
            )
            .outerjoin(credit_states, credit_states.c.credit_id == credits.c.id)
            .outerjoin(
                cp,
                sa.and_(
                    cp.c.credit_id == credits.c.id,
                    cp.c.purpose == "credit",
                    cp.c.state != "cancelled",
                ),
            )
            .order_by(credits.c.granted_at, credits.c.id)
            .limit(limit)
        )
        if account_id:
            query = query.where(credits.c.account_id == account_id)
        if campaign_id:
            query = query.where(credits.c.campaign_id == campaign_id)
        return list(self.conn.execute(query))

    def of_campaign(self, campaign_id: str) -> dict[str, sa.Row[Any]]:
        """credit id -> the credit row, every column and `state` (credit_states; None while the
        credit is simply granted), for every credit of `campaign_id`, in id order."""
        query = (
            sa.select(credits, credit_states.c.state)
            .outerjoin(credit_states, credit_states.c.credit_id == credits.c.id)
            .where(credits.c.campaign_id == campaign_id)
            .order_by(credits.c.id)
        )
        return {row.id: row for row in self.conn.execute(query)}

    def add(self, credit: Mapping[str, Any]) -> None:
        """One new credit (UNIQUE offer_id: an offer is credited once)."""
        self.conn.execute(credits.insert().values(**credit))

    def add_rows(self, columns: Sequence[str], rows: Sequence[Row]) -> None:
        """New credits as rows of `columns` (a launch's or an appeal's)."""
        insert_rows(self.conn, credits, columns, rows)
