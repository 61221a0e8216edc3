"""The base of every repository: one table's (or one read model's) queries, run on the
connection of the unit of work that reached it (`uow.offers`, `uow.outbox`, ...).

A repository never commits: its statements are part of the caller's transaction, which only
the use case at the top commits. A statement that differs by dialect is a private strategy of
its repository (a method chosen by `self.dialect`), with a conformance test run on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa


class Repository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name


# A row as a repository hands it out (columns by name), for the annotations of its callers.
RowMapping = sa.RowMapping
