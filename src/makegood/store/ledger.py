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

from makegood.store.bulk_insert import insert_dicts
from makegood.store.repository import Repository
from makegood.store.tables_billing import ledger_entries

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
