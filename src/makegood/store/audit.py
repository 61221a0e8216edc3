"""The append-only audit trail: who did what to which thing, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository


class Audit(Repository):
    """The audit_log table: append-only (`uow.audit`)."""

    def record(
        self,
        at: datetime,
        actor: str,
        action: str,
        subject_type: str,
        subject_id: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one audit entry; it commits (or not) with the change it describes."""
        self.conn.execute(
            t.audit_log.insert().values(
                at=at,
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                detail=detail or {},
            )
        )

    def entries(
        self, *, subject_ids: list[str] | None, before: int | None, limit: int
    ) -> list[sa.RowMapping]:
        """Entries, newest first; `subject_ids` narrows to those things, `before` pages."""
        al = t.audit_log
        query = sa.select(al)
        if subject_ids is not None:
            query = query.where(al.c.subject_id.in_(subject_ids))
        if before is not None:
            query = query.where(al.c.id < before)
        return list(self.conn.execute(query.order_by(al.c.id.desc()).limit(limit)).mappings())
