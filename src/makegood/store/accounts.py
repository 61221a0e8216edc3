"""The accounts table: subscribers as imported."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository


class Accounts(Repository):
    """The accounts table: subscribers as imported (`uow.accounts`)."""

    def exists(self, account_id: str) -> bool:
        a = t.accounts
        found = self.conn.execute(sa.select(a.c.account_id).where(a.c.account_id == account_id))
        return found.first() is not None


class Plans(Repository):
    """The plans table: prices per plan and currency (`uow.plans`)."""

    def known(self, plan_ids: Iterable[str]) -> set[str]:
        """Those of `plan_ids` that are plans."""
        p = t.plans
        query = sa.select(p.c.plan_id).where(p.c.plan_id.in_(list(plan_ids)))
        return set(self.conn.execute(query).scalars())
