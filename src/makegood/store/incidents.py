"""The incidents and incident_detections tables."""

from __future__ import annotations

from makegood.store.repository import Repository


class Incidents(Repository):
    """The incidents and incident_detections tables (`uow.incidents`)."""
