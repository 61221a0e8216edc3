"""The append-only audit trail: who did what to which thing, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository


class _InTransaction(Protocol):
    """A unit of work, as far as the audit trail needs one (store/uow.py reaches the
    repositories, so they do not import it)."""

    @property
    def conn(self) -> sa.Connection: ...


def record(
    uow: _InTransaction,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry; it commits (or not) with the change it describes."""
    uow.conn.execute(
        t.audit_log.insert().values(
            at=at,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail or {},
        )
    )


class Audit(Repository):
    """The audit_log table: append-only (`uow.audit`)."""
