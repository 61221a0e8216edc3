"""Campaign use cases: create a draft from the cohort, preview its cost, approve it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import NotFound
from makegood.domain.money import format_major
from makegood.domain.offers import CampaignState, check_transition
from makegood.domain.policy import (
    Exclusion,
    Mode,
    Policy,
    policy_from_json,
)
from makegood.services.audit import record
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

if TYPE_CHECKING:
    from makegood.telemetry.source import AttemptSource

BATCH = 5_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class CreateCampaign:
    """The command to build a draft: which incident, which logs, which policy."""

    incident_id: str
    events: str
    policy: Policy
    claim_days: int = 7
    plans: Sequence[str] | None = None  # None: every plan is eligible
    mode: Mode = Mode.CLAIM
    actor: str = "cli"
    # How to read `events` (column and outcome mapping, bad rows); None: the plain contract.
    source: AttemptSource | None = None
    min_failures: int = 1  # cohort semantics, docs/cohort.md
    strict: bool = False
    # What computes the cohort (telemetry.engines.ENGINES; same rows on each) and, for spark,
    # the master URL (None: local[*]).
    engine: str = "duckdb"
    master: str | None = None


@dataclass(frozen=True)
class Campaign:
    id: str
    incident_id: str
    state: str
    mode: str
    policy: Policy
    claim_days: int
    eligible_plans: list[str] | None
    affected_count: int
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    launched_at: datetime | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def get_campaign(uow: UnitOfWork, campaign_id: str, lock: bool = False) -> Campaign:
    """The campaign with `campaign_id`, or NotFound; `lock` takes a row lock on PostgreSQL."""
    query = sa.select(t.campaigns).where(t.campaigns.c.id == campaign_id)
    if lock:
        query = query.with_for_update()
    row = uow.conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no campaign {campaign_id!r}; `makegood campaign create` prints the id")
    return Campaign(
        id=row["id"],
        incident_id=row["incident_id"],
        state=row["state"],
        mode=row["mode"],
        policy=policy_from_json(row["policy"]),
        claim_days=row["claim_days"],
        eligible_plans=row["eligible_plans"],
        affected_count=row["affected_count"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        approved_at=row["approved_at"],
        launched_at=row["launched_at"],
        raw=dict(row),
    )


def create_campaign(
    container: Container, cmd: CreateCampaign, progress: Progress | None = None
) -> str:
    """Compute the cohort, decide eligibility for each account (in the engine, in bulk), and
    store the draft with its snapshot in one transaction (services.campaign_build)."""
    from makegood.services import campaign_build

    return campaign_build.create_campaign(container, cmd, progress)


def preview(uow: UnitOfWork, campaign_id: str) -> dict[str, Any]:
    """Counts, exclusions by reason, and liability per currency if every offer is claimed."""
    campaign = get_campaign(uow, campaign_id)
    cm = t.cohort_members
    excluded: Counter[str] = Counter({reason.value: 0 for reason in Exclusion})
    eligible = 0
    for reason, count in uow.conn.execute(
        sa.select(cm.c.excluded_reason, sa.func.count())
        .where(cm.c.campaign_id == campaign_id)
        .group_by(cm.c.excluded_reason)
    ):
        if reason is None:
            eligible = count
        else:
            excluded[reason] = count
    liability = {
        currency: format_major(int(total), currency)
        for currency, total in uow.conn.execute(
            sa.select(cm.c.currency, sa.func.sum(cm.c.amount_minor))
            .where(cm.c.campaign_id == campaign_id, cm.c.excluded_reason.is_(None))
            .group_by(cm.c.currency)
            .order_by(cm.c.currency)
        )
    }
    return {
        "campaign": campaign.id,
        "incident": campaign.incident_id,
        "state": campaign.state,
        "mode": campaign.mode,
        "policy": campaign.policy.to_json(),
        "claim_days": campaign.claim_days,
        "plans": campaign.eligible_plans,
        "affected": campaign.affected_count,
        "eligible": eligible,
        "excluded": dict(excluded),
        "liability": liability,
    }


def approve_campaign(container: Container, campaign_id: str, actor: str = "cli") -> None:
    """Move a draft to approved; any other state is refused and nothing changes."""
    now = container.now()
    with container.uow() as uow:
        campaign = get_campaign(uow, campaign_id, lock=True)
        check_transition(campaign.state, CampaignState.APPROVED)
        changed = uow.conn.execute(
            t.campaigns.update()
            .where(t.campaigns.c.id == campaign_id, t.campaigns.c.state == CampaignState.DRAFT)
            .values(state=CampaignState.APPROVED, approved_at=now, approved_by=actor)
        ).rowcount
        if changed != 1:
            check_transition(get_campaign(uow, campaign_id).state, CampaignState.APPROVED)
        record(uow, now, actor, "campaign.approved", "campaign", campaign_id)
        uow.commit()
