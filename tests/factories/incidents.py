"""Incidents (declared through the incident service), alone or with a campaign on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.ids import new_id
from makegood.services.incidents import create_incident
from makegood.store.campaigns import Campaigns
from makegood.store.uow import UnitOfWork
from tests.factories.joined import JoinedUnitOfWork


def declare_incident(
    engine: sa.Engine,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    at: datetime,
    regions: Sequence[str] = (),
    devices: Sequence[str] = (),
    actor: str = "ops@example.com",
) -> str:
    """An incident declared through the incident service, as `makegood incident create` does;
    returns its id."""
    with UnitOfWork(engine) as uow:
        incident_id = create_incident(uow, title, starts_at, ends_at, regions, devices, at, actor)
        uow.commit()
    return incident_id


def insert_incident_and_campaign(
    conn: sa.Connection,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    at: datetime,
    affected_count: int,
    state: str = "launched",
    mode: str = "claim",
    claim_days: int = 7,
    created_by: str = "test",
    incident_created_by: str | None = None,
    **campaign: Any,
) -> tuple[str, str]:
    """A whole-world incident and a 3% campaign on it (claim mode unless said), created at
    `at`; extra keyword arguments are further campaign columns (approved_at, launched_by...).
    Returns (incident id, campaign id).

    The campaign row is written as it stands after its build, through the campaigns
    repository: the build itself needs attempt logs (tests/factories/worlds.py).
    """
    incident_id = create_incident(
        JoinedUnitOfWork(conn),
        title,
        starts_at,
        ends_at,
        [],
        [],
        at,
        actor=incident_created_by or created_by,
    )
    campaign_id = new_id("cmp")
    Campaigns(conn).add(
        {
            "id": campaign_id,
            "incident_id": incident_id,
            "state": state,
            "mode": mode,
            "policy": {"kind": "percent", "percent": "3"},
            "claim_days": claim_days,
            "eligible_plans": None,
            "events_source": "test",
            "affected_count": affected_count,
            "created_at": at,
            "created_by": created_by,
            **campaign,
        }
    )
    return incident_id, campaign_id
