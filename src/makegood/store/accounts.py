"""The accounts table: subscribers as imported; the plans table: prices per plan and currency.

Both are written in bulk by the imports: rows streamed into a staging table, then one
set-based upsert by id (store/staging.py), in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from makegood.domain.statements import PlanCharge
from makegood.store import tables as t
from makegood.store.repository import Repository
from makegood.store.tables import accounts, plans

if TYPE_CHECKING:  # pyarrow is loaded by the imports only, not by every use of the tables
    import pyarrow as pa  # type: ignore[import-untyped]

# Keep an account's billing anchor (31) when its next bill date did not change (Feb 28).
KEEP_ANCHOR = (
    "CASE WHEN t.next_bill_date = excluded.next_bill_date THEN t.billing_day"
    " ELSE excluded.billing_day END"
)


@dataclass(frozen=True, slots=True)
class DueAccount:
    """An active account whose next bill date has come, with its plan."""

    account_id: str
    next_bill_date: date
    billing_day: int
    plan: PlanCharge


_MOVE_DATES_PG = sa.text(
    """
UPDATE accounts SET next_bill_date = v.new_date, updated_at = :now
FROM (SELECT unnest(CAST(:ids AS text[])) AS account_id,
             unnest(CAST(:old AS date[])) AS old_date,
             unnest(CAST(:plans AS text[])) AS plan_id,
             unnest(CAST(:new AS date[])) AS new_date) AS v
WHERE accounts.account_id = v.account_id AND accounts.next_bill_date = v.old_date
  AND accounts.status = 'active' AND accounts.plan_id = v.plan_id
"""
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

    def due_for_billing(self, through: date, after: str | None, limit: int) -> list[DueAccount]:
        """Up to `limit` active accounts due by `through`, after `after` in account id order.

        Keyset pagination keeps each page cheap however many accounts there are. On PostgreSQL
        the rows are locked for the caller's transaction and rows another close holds are
        skipped, so concurrent runs share the work instead of billing the same cycles; SQLite
        needs no lock, as its writers are serialised (BEGIN IMMEDIATE).
        """
        query = (
            sa.select(
                accounts.c.account_id,
                accounts.c.next_bill_date,
                accounts.c.billing_day,
                plans.c.plan_id,
                plans.c.name,
                plans.c.monthly_price_minor,
                plans.c.currency,
            )
            .join(plans, plans.c.plan_id == accounts.c.plan_id)
            .where(accounts.c.status == "active", accounts.c.next_bill_date <= through)
            .order_by(accounts.c.account_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(accounts.c.account_id > after)
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=accounts)
        return [
            DueAccount(
                account_id=row.account_id,
                next_bill_date=row.next_bill_date,
                billing_day=row.billing_day,
                plan=PlanCharge(row.plan_id, row.name, row.monthly_price_minor, row.currency),
            )
            for row in self.conn.execute(query)
        ]

    def move_next_bill_dates(self, moves: Sequence[tuple[DueAccount, date]], now: datetime) -> int:
        """Move each account's next bill date, only where it is still the one we read.

        Returns how many rows moved; the caller compares it with len(moves) and gives the page
        up when an account changed after the page was read.
        """
        if not moves:
            return 0
        if self.dialect == "postgresql":
            return self._move_next_bill_dates_postgresql(moves, now)
        result = self.conn.execute(
            sa.update(accounts)
            .where(
                accounts.c.account_id == sa.bindparam("b_account"),
                accounts.c.next_bill_date == sa.bindparam("b_old", type_=sa.Date),
                accounts.c.status == "active",
                accounts.c.plan_id == sa.bindparam("b_plan"),
            )
            .values(next_bill_date=sa.bindparam("b_new", type_=sa.Date), updated_at=now),
            [
                {
                    "b_account": account.account_id,
                    "b_old": account.next_bill_date,
                    "b_plan": account.plan.plan_id,
                    "b_new": new_date,
                }
                for account, new_date in moves
            ],
        )
        return int(result.rowcount)

    def _move_next_bill_dates_postgresql(
        self, moves: Sequence[tuple[DueAccount, date]], now: datetime
    ) -> int:
        # One statement for the page instead of one per account (arrays, unnested).
        moved = self.conn.execute(
            _MOVE_DATES_PG,
            {
                "ids": [account.account_id for account, _ in moves],
                "old": [account.next_bill_date for account, _ in moves],
                "plans": [account.plan.plan_id for account, _ in moves],
                "new": [new_date for _, new_date in moves],
                "now": now,
            },
        )
        return int(moved.rowcount)

    def with_plan(self, account_id: str) -> sa.RowMapping | None:
        """The account with its plan's name (`plan_name`), monthly price and currency (the
        console's account page, an appeal's eligibility), or None for an unknown account."""
        a, p = accounts, plans
        query = (
            sa.select(a, p.c.name.label("plan_name"), p.c.monthly_price_minor, p.c.currency)
            .join(p, p.c.plan_id == a.c.plan_id)
            .where(a.c.account_id == account_id)
        )
        return self.conn.execute(query).mappings().first()

    def find(self, text: str, limit: int) -> list[sa.RowMapping]:
        """Accounts whose id is `text` or whose e-mail is `text` (case-insensitive), by id."""
        a = accounts
        query = (
            sa.select(a.c.account_id, a.c.email, a.c.status, a.c.locale, a.c.plan_id)
            .where(sa.or_(a.c.account_id == text, sa.func.lower(a.c.email) == text.lower()))
            .order_by(a.c.account_id)
            .limit(limit)
        )
        return list(self.conn.execute(query).mappings())

    def ids_with_email(self, email: str, *, lock: bool = False) -> list[str]:
        """The accounts whose address is `email` (case-insensitive), by id; `lock` holds their
        rows until the transaction ends (on PostgreSQL; SQLite's writers are serialised)."""
        a = t.accounts
        query = sa.select(a.c.account_id).where(sa.func.lower(a.c.email) == email.lower())
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        return [str(v) for v in self.conn.execute(query.order_by(a.c.account_id)).scalars()]


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
