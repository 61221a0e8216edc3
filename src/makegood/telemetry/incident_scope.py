"""The part of an incident a cohort needs: its window and scope, read through its repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from makegood.domain.errors import NotFound
from makegood.store.incidents import Incidents


@dataclass(frozen=True)
class IncidentScope:
    """[starts_at, ends_at) in UTC; empty regions / devices mean no restriction."""

    incident_id: str
    starts_at: datetime
    ends_at: datetime
    regions: tuple[str, ...]
    devices: tuple[str, ...]


def load_incident_scope(incidents: Incidents, incident_id: str) -> IncidentScope:
    """The incident's window and scope (`uow.incidents`); NotFound when no incident has
    this id."""
    row = incidents.get(incident_id)
    if row is None:
        raise NotFound(
            f"no incident with id {incident_id!r}; create one with `makegood incident create`"
        )
    return IncidentScope(
        incident_id=row["id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        regions=tuple(str(r) for r in row["regions"] or ()),
        devices=tuple(str(d) for d in row["devices"] or ()),
    )
