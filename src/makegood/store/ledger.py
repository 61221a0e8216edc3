"""The append-only ledger: entries per account and currency, written with the change they record.

Every function here runs inside the caller's transaction (the caller commits), so a grant and its
`granted` entry, a statement and its `applied` entries, a connector acknowledgement and its
`posted` entry are durable together or not at all. Entries are never updated or deleted; a
mistake is undone by a new entry. Each entry carries a `dedupe_key` the database keeps unique:
`granted:CREDIT`, `applied:CREDIT:STATEMENT`, `posted:CREDIT`, ... so applying or posting the same
credit twice fails instead of double counting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.statements import ChargeBack
from makegood.store.bulk_insert import insert_dicts
from makegood.store.repository import Repository
from makegood.store.tables import accounts, campaigns, credits, incidents
from makegood.store.tables_billing import credit_states, ledger_entries

# From this many entries on, they are written with COPY on PostgreSQL (one statement a row
# below it: COPY costs more to start than a few INSERTs).
BULK_ROWS = 50
# Kinds that settle the credit itself (grant minus these is what is left to bill).
SETTLING = ("applied", "posted", "reversed", "forfeited", "paid_out")
# Kinds of a charge-back of a billed credit (their sum is negative while one is still to bill).
CHARGE_BACK = ("clawback", "clawback_billed")


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry to append; `amount_minor` is signed (see tables_billing)."""

    kind: str
    credit_id: str
    account_id: str
    currency: str
    amount_minor: int
    statement_id: str | None = None
    posting_id: str | None = None
    reference: str | None = None

    @property
    def dedupe_key(self) -> str:
        # Applications are once per statement, charge-backs once per statement or posting;
        # every other kind happens at most once in a credit's life.
        scope = self.statement_id or (self.posting_id if self.kind in CHARGE_BACK else None)
        return f"{self.kind}:{self.credit_id}:{scope}" if scope else f"{self.kind}:{self.credit_id}"


class Ledger(Repository):
    """The ledger_entries and credit_states tables (`uow.ledger`)."""

    def append(self, entries: Iterable[Entry], now: datetime, actor: str) -> int:
        """Append `entries` (skipping zero amounts); returns how many were written."""
        rows = [
            {
                "account_id": e.account_id,
                "currency": e.currency,
                "kind": e.kind,
                "amount_minor": e.amount_minor,
                "credit_id": e.credit_id,
                "statement_id": e.statement_id,
                "posting_id": e.posting_id,
                "reference": e.reference,
                "dedupe_key": e.dedupe_key,
                "created_at": now,
                "actor": actor,
            }
            for e in entries
            if e.amount_minor != 0
        ]
        if len(rows) >= BULK_ROWS:
            insert_dicts(self.conn, ledger_entries, rows)  # COPY on PostgreSQL (a close page)
        elif rows:
            self.conn.execute(ledger_entries.insert(), rows)
        return len(rows)

    def add_grants(
        self, credits: Sequence[Mapping[str, Any]], now: datetime, actor: str = "system"
    ) -> int:
        """A `granted` entry for each new credit row (keys id, account_id, currency,
        amount_minor)."""
        return self.append(
            (
                Entry("granted", c["id"], c["account_id"], c["currency"], int(c["amount_minor"]))
                for c in credits
            ),
            now,
            actor,
        )

    def balance(self, account_id: str, currency: str) -> int:
        """What the account is still owed in `currency` (negative: a charge-back still to bill)."""
        le = ledger_entries
        query = sa.select(sa.func.coalesce(sa.func.sum(le.c.amount_minor), 0)).where(
            le.c.account_id == account_id, le.c.currency == currency
        )
        return int(self.conn.execute(query).scalar_one())

    def unsettled(self, credit_ids: Sequence[str]) -> dict[str, int]:
        """credit id -> granted minus everything that settled it (what is left to bill)."""
        if not credit_ids:
            return {}
        le = ledger_entries
        query = (
            sa.select(le.c.credit_id, sa.func.sum(le.c.amount_minor))
            .where(le.c.credit_id.in_(credit_ids), le.c.kind.not_in(CHARGE_BACK))
            .group_by(le.c.credit_id)
        )
        return {row[0]: int(row[1]) for row in self.conn.execute(query)}

    def entries_for_credits(self, credit_ids: Sequence[str]) -> list[sa.Row[Any]]:
        """Every entry of the given credits."""
        if not credit_ids:
            return []
        query = sa.select(ledger_entries).where(ledger_entries.c.credit_id.in_(credit_ids))
        return list(self.conn.execute(query))

    def pending_charge_backs(self, account_ids: Sequence[str]) -> dict[str, list[ChargeBack]]:
        """account id -> reversed credits it was billed for and is not yet charged back, oldest
        first.

        Charge-backs of credits a billing system holds are posted through its connector instead.
        """
        if not account_ids:
            return {}
        le = ledger_entries
        due = sa.func.sum(le.c.amount_minor)
        query = (
            sa.select(
                le.c.credit_id,
                credits.c.campaign_id,
                le.c.account_id,
                le.c.currency,
                due.label("due"),
                sa.func.min(le.c.created_at).label("reversed_at"),
                incidents.c.title,
            )
            .join(credits, credits.c.id == le.c.credit_id)
            .join(campaigns, campaigns.c.id == credits.c.campaign_id)
            .join(incidents, incidents.c.id == campaigns.c.incident_id)
            .where(
                le.c.account_id.in_(account_ids),
                le.c.kind.in_(CHARGE_BACK),
                le.c.posting_id.is_(None),
            )
            .group_by(
                le.c.credit_id,
                credits.c.campaign_id,
                le.c.account_id,
                le.c.currency,
                incidents.c.title,
            )
            .having(due < 0)
        )
        found: dict[str, list[ChargeBack]] = {}
        for row in self.conn.execute(query):
            found.setdefault(row.account_id, []).append(
                ChargeBack(
                    row.credit_id,
                    row.campaign_id,
                    row.currency,
                    -int(row.due),
                    row.reversed_at,
                    row.title,
                )
            )
        for items in found.values():
            items.sort(key=lambda c: (c.reversed_at, c.credit_id))
        return found

    # credit_states: a credit held, or settled outside statements (forfeited, paid_out, ...).

    def release_holds_of_active_accounts(self) -> int:
        """Lift the hold of credits whose account is active again; returns how many."""
        active = (
            sa.select(credits.c.id)
            .join(accounts, accounts.c.account_id == credits.c.account_id)
            .where(accounts.c.status == "active")
        )
        released = self.conn.execute(
            credit_states.delete().where(
                credit_states.c.state == "held", credit_states.c.credit_id.in_(active)
            )
        ).rowcount
        return int(released)

    def set_state(self, credit_id: str, state: str, reason: str, now: datetime) -> None:
        """The credit's state (replacing any earlier one) and the reason a person reads."""
        self.conn.execute(credit_states.delete().where(credit_states.c.credit_id == credit_id))
        self.conn.execute(
            credit_states.insert().values(
                credit_id=credit_id, state=state, reason=reason, updated_at=now
            )
        )
