"""The append-only audit trail: who did what to which thing, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
