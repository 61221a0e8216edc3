"""The accounts table: subscribers as imported; the plans table: prices per plan and currency.

Both are written in bulk by the imports: rows streamed into a staging table, then one
set-based upsert by id (store/staging.py), in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository

if TYPE_CHECKING:  # pyarrow is loaded by the imports only, not by every use of the tables
    import pyarrow as pa  # type: ignore[import-untyped]

# Keep an account's billing anchor (31) when its next bill date did not change (Feb 28).
KEEP_ANCHOR = (
    "CASE WHEN t.next_bill_date = excluded.next_bill_date THEN t.billing_day"
    " ELSE excluded.billing_day END"
)


class Accounts(Repository):
    """The accounts table: subscribers as imported (`uow.accounts`)."""

    def exists(self, account_id: str) -> bool:
        a = t.accounts
        found = self.conn.execute(sa.select(a.c.account_id).where(a.c.account_id == account_id))
        return found.first() is not None

    def import_rows(
        self,
        columns: Sequence[str],
        batches: Iterable[pa.RecordBatch],
        now: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Create or update accounts by account_id from `batches` (columns in `columns`
        order), keeping the billing anchor of an account whose next bill date is unchanged;
        returns how many existed before. `progress` gets the rows staged so far."""
        from makegood.store.staging import stage_and_upsert

        return stage_and_upsert(
            self.conn,
            t.accounts,
            "account_id",
            columns,
            batches,
            now,
            {"billing_day": KEEP_ANCHOR},
            progress,
        )


class Plans(Repository):
    """The plans table: prices per plan and currency (`uow.plans`)."""

    def known(self, plan_ids: Iterable[str]) -> set[str]:
        """Those of `plan_ids` that are plans."""
        p = t.plans
        query = sa.select(p.c.plan_id).where(p.c.plan_id.in_(list(plan_ids)))
        return set(self.conn.execute(query).scalars())

    def ids(self) -> list[str]:
        """Every plan id."""
        return list(self.conn.execute(sa.select(t.plans.c.plan_id)).scalars())

    def import_rows(
        self, columns: Sequence[str], batches: Iterable[pa.RecordBatch], now: datetime
    ) -> int:
        """Create or update plans by plan_id from `batches` (columns in `columns` order);
        returns how many existed before."""
        from makegood.store.staging import stage_and_upsert

        return stage_and_upsert(self.conn, t.plans, "plan_id", columns, batches, now)
