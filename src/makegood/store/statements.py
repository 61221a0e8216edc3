"""The statements and statement_lines tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from makegood.store.bulk_insert import insert_dicts
from makegood.store.repository import Repository
from makegood.store.tables import statement_lines, statements


class Statements(Repository):
    """The statements and statement_lines tables (`uow.statements`)."""

    def existing_dates(self, account_ids: Sequence[str], through: date) -> set[tuple[str, date]]:
        """(account id, date) of statements already there, so a rewound date never duplicates
        one."""
        if not account_ids:
            return set()
        query = sa.select(statements.c.account_id, statements.c.statement_date).where(
            statements.c.account_id.in_(account_ids), statements.c.statement_date <= through
        )
        return {(row.account_id, row.statement_date) for row in self.conn.execute(query)}

    def add(
        self,
        statement_rows: Sequence[Mapping[str, Any]],
        line_rows: Sequence[Mapping[str, Any]],
    ) -> None:
        """Insert a close page's statements and their lines."""
        # COPY on PostgreSQL (a page of statements is hundreds of rows), executemany on SQLite.
        insert_dicts(self.conn, statements, [dict(r) for r in statement_rows])
        insert_dicts(self.conn, statement_lines, [dict(r) for r in line_rows])

    def of_account(self, account_id: str) -> list[sa.Row[Any]]:
        """The account's statements, oldest first."""
        query = (
            sa.select(
                statements.c.id,
                statements.c.statement_date,
                statements.c.currency,
                statements.c.total_minor,
                statements.c.created_at,
            )
            .where(statements.c.account_id == account_id)
            .order_by(statements.c.statement_date)
        )
        return list(self.conn.execute(query))

    def lines_of_account(self, account_id: str) -> list[sa.Row[Any]]:
        """The lines of the account's statements, in statement then position order."""
        sl = statement_lines
        query = (
            sa.select(
                sl.c.statement_id,
                sl.c.position,
                sl.c.kind,
                sl.c.amount_minor,
                sl.c.description,
                sl.c.campaign_id,
            )
            .join(statements, statements.c.id == sl.c.statement_id)
            .where(statements.c.account_id == account_id)
            .order_by(sl.c.statement_id, sl.c.position)
        )
        return list(self.conn.execute(query))

    def credited_per_credit(self, credit_ids: Sequence[str]) -> dict[str, int]:
        """credit id -> what its credit lines applied (positive minor units), for those with
        any."""
        if not credit_ids:
            return {}
        sl = statement_lines
        query = (
            sa.select(sl.c.credit_id, sa.func.sum(sl.c.amount_minor))
            .where(sl.c.credit_id.in_(credit_ids), sl.c.kind == "credit")
            .group_by(sl.c.credit_id)
        )
        return {row[0]: -int(row[1]) for row in self.conn.execute(query)}
