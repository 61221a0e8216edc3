"""The credit_status_requests table: "where is my credit?" requests waiting for the worker.

A request holds the address typed on the public page until the worker has turned it into
status e-mails (or nothing); then it is deleted, and the address with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository


class StatusRequests(Repository):
    """The credit_status_requests table (`uow.status_requests`)."""

    def add(self, request_id: str, email: str, now: datetime) -> None:
        self.conn.execute(
            t.credit_status_requests.insert().values(id=request_id, email=email, requested_at=now)
        )

    def take(self, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` waiting requests (id, email), oldest id first, locked (SKIP LOCKED on
        PostgreSQL, so several workers share them)."""
        r = t.credit_status_requests
        query = sa.select(r.c.id, r.c.email).order_by(r.c.id).limit(limit)
        rows = self.conn.execute(query.with_for_update(skip_locked=True)).all()
        return [(row.id, row.email) for row in rows]

    def delete(self, request_ids: Sequence[str]) -> None:
        r = t.credit_status_requests
        self.conn.execute(r.delete().where(r.c.id.in_(list(request_ids))))
