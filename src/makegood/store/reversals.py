"""The campaign_reversals table."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.repository import Repository
from makegood.store.tables_billing import campaign_reversals


class Reversals(Repository):
    """The campaign_reversals table (`uow.reversals`)."""

    def exists_for(self, campaign_id: str) -> bool:
        """Whether `campaign_id` was reversed."""
        cr = campaign_reversals
        query = sa.select(cr.c.id).where(cr.c.campaign_id == campaign_id)
        return self.conn.execute(query).first() is not None
