"""The incidents and incident_detections tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository
from makegood.store.tables_web import incident_detections


class Incidents(Repository):
    """The incidents and incident_detections tables (`uow.incidents`)."""

    def add(self, row: Mapping[str, Any]) -> None:
        """Insert an incident (every column of `t.incidents`)."""
        self.conn.execute(t.incidents.insert().values(**row))

    def get(self, incident_id: str) -> sa.RowMapping | None:
        """The incident's row, or None."""
        return (
            self.conn.execute(sa.select(t.incidents).where(t.incidents.c.id == incident_id))
            .mappings()
            .first()
        )

    def newest(self, limit: int) -> list[sa.RowMapping]:
        """Up to `limit` incidents, newest first, each with `n`, the number of its campaigns."""
        i, c = t.incidents, t.campaigns
        count = sa.select(sa.func.count()).where(c.c.incident_id == i.c.id).scalar_subquery()
        query = (
            sa.select(i, count.label("n"))
            .order_by(i.c.created_at.desc(), i.c.id.desc())
            .limit(limit)
        )
        return list(self.conn.execute(query).mappings())

    def add_detection(self, row: Mapping[str, Any]) -> None:
        """Keep the detection an incident was declared from (at most one per incident)."""
        self.conn.execute(incident_detections.insert().values(**row))

    def detection(self, incident_id: str) -> sa.RowMapping | None:
        """The detection row of `incident_id`; None when it was declared by hand."""
        return (
            self.conn.execute(
                sa.select(incident_detections).where(
                    incident_detections.c.incident_id == incident_id
                )
            )
            .mappings()
            .first()
        )
