"""The campaign_reversals table: at most one reversal per campaign (a unique key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.store.repository import Repository
from makegood.store.tables_billing import campaign_reversals


class Reversals(Repository):
    """The campaign_reversals table (`uow.reversals`)."""

    def add(
        self, reversal_id: str, campaign_id: str, reason: str, actor: str, now: datetime
    ) -> None:
        """Record the reversal of `campaign_id` (its summary comes last, `set_summary`);
        IntegrityError when the campaign was reversed already."""
        self.conn.execute(
            campaign_reversals.insert().values(
                id=reversal_id,
                campaign_id=campaign_id,
                reason=reason,
                actor=actor,
                created_at=now,
                summary={},
            )
        )

    def set_summary(self, reversal_id: str, summary: dict[str, Any]) -> None:
        """What the reversal did (counts and amounts per currency)."""
        cr = campaign_reversals
        self.conn.execute(cr.update().where(cr.c.id == reversal_id).values(summary=summary))

    def exists_for(self, campaign_id: str) -> bool:
        """Whether `campaign_id` was reversed."""
        cr = campaign_reversals
        query = sa.select(cr.c.id).where(cr.c.campaign_id == campaign_id)
        return self.conn.execute(query).first() is not None
