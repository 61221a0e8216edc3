"""Rows every seed helper needs: an incident and a campaign on it (one shape, one place)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t


def insert_incident_and_campaign(
    conn: sa.Connection,
    *,
    incident_id: str,
    campaign_id: str,
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
) -> None:
    """A whole-world incident and a 3% campaign on it (claim mode unless said), created at
    `at`; extra keyword arguments are further campaign columns (approved_at, launched_by...)."""
    conn.execute(
        t.incidents.insert().values(
            id=incident_id,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            regions=[],
            devices=[],
            created_at=at,
            created_by=incident_created_by or created_by,
        )
    )
    conn.execute(
        t.campaigns.insert().values(
            id=campaign_id,
            incident_id=incident_id,
            state=state,
            mode=mode,
            policy={"kind": "percent", "percent": "3"},
            claim_days=claim_days,
            eligible_plans=None,
            events_source="test",
            affected_count=affected_count,
            created_at=at,
            created_by=created_by,
            **campaign,
        )
    )
