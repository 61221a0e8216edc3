"""The home of `campaign_builds`: a campaign's build as a job row that workers claim.

A claim is a conditional UPDATE (pending, or running with a heartbeat older than the lease),
so two workers never hold the same build; on PostgreSQL the candidate is read FOR UPDATE SKIP
LOCKED so concurrent workers take different rows instead of queueing on one. The holder keeps
`heartbeat_at` fresh; a worker that died stops doing so and its build is claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository

b = t.campaign_builds


@dataclass(frozen=True)
class Claim:
    """A build this process holds: `token` proves it in every later write."""

    campaign_id: str
    token: str
    attempts: int


def _claimable(now: datetime, lease: timedelta) -> sa.ColumnElement[bool]:
    """Pending builds, and running ones whose holder stopped beating."""
    return sa.or_(
        b.c.state == "pending",
        sa.and_(b.c.state == "running", b.c.heartbeat_at < now - lease),
    )


class Builds(Repository):
    """The campaign_builds table: campaign-create jobs run by the workers (`uow.builds`)."""

    def add(self, campaign_id: str, request: dict[str, Any], now: datetime) -> None:
        """A pending build for `campaign_id`."""
        self.conn.execute(
            b.insert().values(
                campaign_id=campaign_id,
                request=request,
                state="pending",
                decided=0,
                attempts=0,
                created_at=now,
            )
        )

    def claim_next(
        self, token: str, now: datetime, lease: timedelta, campaign_id: str | None = None
    ) -> Claim | None:
        """Take the oldest claimable build (or `campaign_id`'s), or None; commit afterwards."""
        query = sa.select(b.c.campaign_id).where(_claimable(now, lease)).order_by(b.c.created_at)
        if campaign_id is not None:
            query = query.where(b.c.campaign_id == campaign_id)
        candidates = self.conn.execute(query.limit(10).with_for_update(skip_locked=True))
        for candidate in candidates.scalars():
            taken = self.conn.execute(
                b.update()
                .where(b.c.campaign_id == candidate, _claimable(now, lease))
                .values(
                    state="running",
                    claimed_by=token,
                    heartbeat_at=now,
                    attempts=b.c.attempts + 1,
                    started_at=sa.func.coalesce(b.c.started_at, now),
                )
                .returning(b.c.attempts)
            ).first()
            if taken is not None:
                return Claim(candidate, token, int(taken.attempts))
        return None

    def beat(self, claim: Claim, now: datetime, phase: str | None, decided: int) -> bool:
        """Refresh the holder's heartbeat and progress; False when the build is no longer ours."""
        return (
            self.conn.execute(
                b.update()
                .where(
                    b.c.campaign_id == claim.campaign_id,
                    b.c.claimed_by == claim.token,
                    b.c.state == "running",
                )
                .values(heartbeat_at=now, phase=phase, decided=decided)
            ).rowcount
            == 1
        )

    def finish(
        self, claim: Claim, now: datetime, state: str, decided: int, reason: str | None
    ) -> bool:
        """Close the build as `done` or `failed`, if it is still ours."""
        return (
            self.conn.execute(
                b.update()
                .where(
                    b.c.campaign_id == claim.campaign_id,
                    b.c.claimed_by == claim.token,
                    b.c.state == "running",
                )
                .values(
                    state=state,
                    phase=None,
                    decided=decided,
                    reason=reason,
                    heartbeat_at=now,
                    finished_at=now,
                )
            ).rowcount
            == 1
        )

    def get(self, campaign_id: str) -> dict[str, Any] | None:
        """The build row of `campaign_id` (None for a campaign built by the CLI)."""
        query = sa.select(b).where(b.c.campaign_id == campaign_id)
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row is not None else None
