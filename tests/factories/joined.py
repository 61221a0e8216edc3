"""A unit of work inside the caller's open transaction, so a factory can call a use case (which
commits its own unit of work) among the caller's other writes; the caller commits them all."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.uow import UnitOfWork


class JoinedUnitOfWork(UnitOfWork):
    """`conn`'s transaction as a unit of work: `commit()` leaves it to the caller."""

    def __init__(self, conn: sa.Connection) -> None:
        super().__init__(conn.engine)
        self._conn = conn

    def commit(self) -> None:
        """The caller's transaction commits when the caller says so."""
