"""Campaign use cases: create a draft from the cohort, preview its cost, approve it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput, NotFound
from makegood.domain.ids import new_id
from makegood.domain.money import Money, format_major
from makegood.domain.offers import CampaignState, check_transition
from makegood.domain.policy import (
    AccountFacts,
    Exclusion,
    Mode,
    Policy,
    decide,
    policy_from_json,
)
from makegood.services.audit import record
from makegood.services.incidents import get_incident
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

if TYPE_CHECKING:
    from makegood.telemetry.cohort import CohortResult
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
    """Compute the cohort, decide eligibility for each account, and store the draft snapshot."""
    from makegood.telemetry.engines import cohort_function, engine_options

    compute_cohort = cohort_function(cmd.engine)  # an unknown or missing engine: InvalidInput
    options = engine_options(cmd.engine, cmd.master)
    if cmd.claim_days < 1:
        raise InvalidInput("--claim-days must be at least 1")
    with container.uow() as uow:
        incident = get_incident(uow, cmd.incident_id)
        if cmd.plans is not None:
            known = set(
                uow.conn.execute(
                    sa.select(t.plans.c.plan_id).where(t.plans.c.plan_id.in_(list(cmd.plans)))
                ).scalars()
            )
            unknown = sorted(set(cmd.plans) - known)
            if unknown:
                raise InvalidInput(
                    f"--plan: unknown plan(s) {', '.join(unknown)}; import plans first"
                )
    with compute_cohort(
        cmd.source or cmd.events,
        incident.starts_at,
        incident.ends_at,
        incident.regions,
        incident.devices,
        min_failures=cmd.min_failures,
        strict=cmd.strict,
        **options,
    ) as cohort:
        return _store_draft(container, cmd, incident.id, cohort, progress)


def _store_draft(
    container: Container,
    cmd: CreateCampaign,
    incident_id: str,
    cohort: CohortResult,
    progress: Progress | None,
) -> str:
    eligible_plans = set(cmd.plans) if cmd.plans is not None else None
    now = container.now()
    campaign_id = new_id("cmp")
    with container.uow() as uow:
        uow.conn.execute(
            t.campaigns.insert().values(
                id=campaign_id,
                incident_id=incident_id,
                state=CampaignState.DRAFT,
                mode=cmd.mode,
                policy=cmd.policy.to_json(),
                claim_days=cmd.claim_days,
                eligible_plans=sorted(eligible_plans) if eligible_plans is not None else None,
                events_source=cmd.events,
                affected_count=0,
                created_at=now,
                created_by=cmd.actor,
            )
        )
        affected = 0
        for batch in cohort.batches(BATCH):
            facts = _account_facts(uow.conn, [r.account_id for r in batch])
            offered = _already_offered(uow.conn, incident_id, [r.account_id for r in batch])
            members = []
            for r in batch:
                fact = facts.get(r.account_id)
                decision = decide(fact, cmd.policy, eligible_plans, r.account_id in offered)
                members.append(
                    {
                        "campaign_id": campaign_id,
                        "account_id": r.account_id,
                        "failed_attempts": r.failed_attempts,
                        "first_failure_at": r.first_failure_at,
                        "last_failure_at": r.last_failure_at,
                        "excluded_reason": decision.excluded,
                        "plan_id": fact.plan_id if fact else None,
                        "currency": fact.price.currency if fact else None,
                        "amount_minor": decision.amount.minor if decision.amount else None,
                    }
                )
            uow.conn.execute(t.cohort_members.insert(), members)
            affected += len(members)
            if progress:
                progress(affected)
        uow.conn.execute(
            t.campaigns.update()
            .where(t.campaigns.c.id == campaign_id)
            .values(affected_count=affected)
        )
        record(
            uow,
            now,
            cmd.actor,
            "campaign.created",
            "campaign",
            campaign_id,
            {"incident": incident_id, "policy": cmd.policy.to_json(), "affected": affected},
        )
        uow.commit()
    return campaign_id


def _account_facts(conn: sa.Connection, account_ids: list[str]) -> dict[str, AccountFacts]:
    rows = conn.execute(
        sa.select(
            t.accounts.c.account_id,
            t.accounts.c.status,
            t.accounts.c.plan_id,
            t.plans.c.monthly_price_minor,
            t.plans.c.currency,
        )
        .join(t.plans, t.plans.c.plan_id == t.accounts.c.plan_id)
        .where(t.accounts.c.account_id.in_(account_ids))
    )
    return {
        r.account_id: AccountFacts(r.status, r.plan_id, Money(r.currency, r.monthly_price_minor))
        for r in rows
    }


def _already_offered(conn: sa.Connection, incident_id: str, account_ids: list[str]) -> set[str]:
    return set(
        conn.execute(
            sa.select(t.offers.c.account_id).where(
                t.offers.c.incident_id == incident_id, t.offers.c.account_id.in_(account_ids)
            )
        ).scalars()
    )


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
