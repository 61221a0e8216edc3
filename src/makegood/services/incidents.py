"""Declare an incident: a window [start, end) and an optional scope of regions and devices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from makegood.domain.errors import InvalidInput, NotFound
from makegood.domain.ids import new_id
from makegood.domain.text import single_line
from makegood.store.uow import UnitOfWork


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    regions: list[str]
    devices: list[str]


def parse_instant(text: str, name: str) -> datetime:
    """An ISO 8601 instant in UTC; a time written without an offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{name}: {text!r} is not an ISO 8601 time; write it like 2026-03-22T20:00:00+00:00"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _clean_scope(values: Sequence[str], name: str) -> list[str]:
    cleaned = sorted({v.strip() for v in values if v.strip()})
    for value in cleaned:
        single_line(value, name)
        if len(value) > 100:
            raise InvalidInput(f"{name}: {value[:20]!r}... is longer than 100 characters")
    return cleaned


def create_incident(
    uow: UnitOfWork,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    regions: Sequence[str],
    devices: Sequence[str],
    now: datetime,
    actor: str = "cli",
) -> str:
    """Record an incident in `uow` and return its id (the caller commits); the window must
    end after it starts."""
    if not title.strip():
        raise InvalidInput("--title: give the incident a title")
    single_line(title, "title")  # it is quoted in every e-mail of the incident's offers
    if ends_at <= starts_at:
        raise InvalidInput("--end must be later than --start (the window is [start, end))")
    incident_id = new_id("inc")
    row = {
        "id": incident_id,
        "title": title.strip()[:500],
        "starts_at": starts_at,
        "ends_at": ends_at,
        "regions": _clean_scope(regions, "--region"),
        "devices": _clean_scope(devices, "--device"),
        "created_at": now,
        "created_by": actor,
    }
    uow.incidents.add(row)
    detail: dict[str, Any] = {
        "title": row["title"],
        "start": starts_at.isoformat(),
        "end": ends_at.isoformat(),
    }
    uow.audit.record(now, actor, "incident.created", "incident", incident_id, detail)
    return incident_id


def get_incident(uow: UnitOfWork, incident_id: str) -> Incident:
    """The incident with `incident_id`, or NotFound."""
    row = uow.incidents.get(incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id!r}; `makegood incident create` prints the id")
    return Incident(
        id=row["id"],
        title=row["title"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        regions=list(row["regions"]),
        devices=list(row["devices"]),
    )
