"""Building a campaign's snapshot: the cohort, each account's decision and amount, in bulk.

The engine (DuckDB or Spark, telemetry.engines) computes the cohort from the logs, then the
eligibility of every cohort account in one set-based query (telemetry.eligibility) over the
accounts, plans and earlier offers exported from the database (store.snapshot); the decided
rows go back by COPY. Python only orchestrates: no per-account loop, memory bounded by the
engine's limit and fixed-size chunks.

`create_draft` (and `create_campaign`, its id alone) builds in-process (the CLI).
`submit_campaign` only records a draft in state `building` and a build job (the web), which a
worker runs (services.build_jobs).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from makegood.bootstrap import Container
from makegood.domain.appeals import check_appeal_days
from makegood.domain.errors import InvalidInput
from makegood.domain.ids import new_id
from makegood.domain.offers import CampaignState
from makegood.domain.policy import Outage
from makegood.domain.policy_document import to_document
from makegood.services.campaign_command import with_plans
from makegood.services.incidents import Incident, get_incident
from makegood.store.uow import UnitOfWork

if TYPE_CHECKING:
    from makegood.services.campaign_command import CreateCampaign

Progress = Callable[[int], None]
Phase = Callable[[str], None]

MAX_PAY_WITHIN_DAYS = 3650  # ten years: beyond that a deadline means nothing


@dataclass(frozen=True)
class BuildHooks:
    """What a build reports while it runs: each phase by name, and rows decided/written."""

    phase: Phase | None = None
    progress: Progress | None = None

    def say(self, text: str) -> None:
        if self.phase:
            self.phase(text)


@dataclass(frozen=True)
class Built:
    """A stored snapshot's counts, taken from the engine's decisions as they were written:
    `affected` (its rows) and `eligible` (its rows with no exclusion reason)."""

    affected: int
    eligible: int


def check_request(uow: UnitOfWork, cmd: CreateCampaign) -> Incident:
    """What can be refused before any work: the claim days, the engine, the incident, plans."""
    from makegood.telemetry.engines import cohort_function, engine_options

    cohort_function(cmd.engine)  # an unknown or missing engine: InvalidInput
    engine_options(cmd.engine, cmd.master)
    if cmd.claim_days < 1:
        raise InvalidInput("--claim-days must be at least 1")
    if cmd.pay_within_days is not None and not 1 <= cmd.pay_within_days <= MAX_PAY_WITHIN_DAYS:
        raise InvalidInput(f"pay_within_days must be from 1 to {MAX_PAY_WITHIN_DAYS} days")
    check_appeal_days(cmd.appeal_days)
    incident = get_incident(uow, cmd.incident_id)
    plans = cmd.policy.eligibility.plans
    if plans is not None:
        unknown = sorted(set(plans) - uow.plans.known(plans))
        if unknown:
            raise InvalidInput(
                f"eligible plans (--plan, or the policy's [eligibility] plans): unknown plan(s) "
                f"{', '.join(unknown)}; import plans first"
            )
    return incident


def campaign_row(
    cmd: CreateCampaign, campaign_id: str, state: str, container: Container
) -> dict[str, Any]:
    """The campaign row itself, as `uow.campaigns.add` stores it."""
    plans = cmd.policy.eligibility.plans
    return {
        "id": campaign_id,
        "incident_id": cmd.incident_id,
        "state": state,
        "mode": cmd.mode,
        "policy": to_document(cmd.policy),
        "claim_days": cmd.claim_days,
        "pay_within_days": cmd.pay_within_days,
        "appeal_days": cmd.appeal_days,
        "min_failures": cmd.min_failures,
        "eligible_plans": sorted(set(plans)) if plans else None,
        "events_source": cmd.events,
        "affected_count": 0,
        "created_at": container.now(),
        "created_by": cmd.actor,
    }


def create_campaign(
    container: Container, cmd: CreateCampaign, progress: Progress | None = None
) -> str:
    """Compute the cohort and every account's decision, and store the draft with its snapshot
    in one transaction: on any error nothing is stored. Returns the campaign's id."""
    return create_draft(container, cmd, progress)[0]


def create_draft(
    container: Container, cmd: CreateCampaign, progress: Progress | None = None
) -> tuple[str, Built]:
    """create_campaign: the campaign's id, and the snapshot's affected and eligible counts
    (what `campaign create` prints), known from the build without reading the snapshot back."""
    cmd = with_plans(cmd)
    with container.uow() as uow:
        incident = check_request(uow, cmd)
    campaign_id = new_id("cmp")

    def insert(uow: UnitOfWork) -> None:
        uow.campaigns.add(campaign_row(cmd, campaign_id, CampaignState.DRAFT, container))

    built = build_snapshot(
        container, cmd, incident, campaign_id, insert, BuildHooks(progress=progress)
    )
    return campaign_id, built


def build_snapshot(
    container: Container,
    cmd: CreateCampaign,
    incident: Incident,
    campaign_id: str,
    begin: Callable[[UnitOfWork], None],
    hooks: BuildHooks,
    finish: Callable[[UnitOfWork], None] | None = None,
) -> Built:
    """Compute and store the snapshot of `campaign_id`; returns its counts.

    In one transaction: the export of accounts and plans (on PostgreSQL while the cohort is
    computed), `begin(uow)` (insert the campaign, or check the build is still ours), the
    engine's decisions, the snapshot rows, the affected count and the audit entry, then
    `finish(uow)` (mark the state), then commit.
    """
    from makegood.telemetry.eligibility import eligible_count
    from makegood.telemetry.engines import cohort_function, decide_function, engine_options

    compute_cohort = cohort_function(cmd.engine)
    decide = decide_function(cmd.engine)
    config = container.engine_config
    options = engine_options(cmd.engine, cmd.master, config)
    scratch = Path(tempfile.mkdtemp(prefix="makegood-build-", dir=config.temp_dir))
    try:
        with contextlib.ExitStack() as stack:
            # PostgreSQL: accounts and plans are exported (COPY TO STDOUT, the server's work)
            # while the engine computes the cohort. SQLite: after it, as a transaction there
            # takes the database's write lock from its start.
            beside = container.engine.dialect.name == "postgresql"
            if beside:
                uow = stack.enter_context(container.uow())
                pool = stack.enter_context(ThreadPoolExecutor(1, "build-export"))
                exported = pool.submit(
                    uow.cohort.export_eligibility_inputs, cmd.incident_id, scratch
                )
            hooks.say("computing the cohort")
            cohort = stack.enter_context(
                compute_cohort(
                    cmd.source or cmd.events,
                    incident.starts_at,
                    incident.ends_at,
                    incident.regions,
                    incident.devices,
                    min_failures=cmd.min_failures,
                    strict=cmd.strict,
                    **config.duckdb_limits(),
                    **options,
                )
            )
            hooks.say("reading accounts and plans")
            if beside:
                files = exported.result()
            else:
                uow = stack.enter_context(container.uow())
                files = uow.cohort.export_eligibility_inputs(cmd.incident_id, scratch)
            begin(uow)
            hooks.say("deciding eligibility and amounts")
            outage = Outage(incident.starts_at, incident.ends_at)
            affected: int = decide(
                cohort.duck, files, cmd.policy, outage, scratch=scratch, **options
            )
            eligible = eligible_count(cohort.duck)
            hooks.say("writing the snapshot")
            uow.cohort.write(cohort.duck, campaign_id, hooks.progress)
            _finish(uow, container, cmd, campaign_id, affected)
            if finish:
                finish(uow)
            uow.commit()
        return Built(affected, eligible)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _finish(
    uow: UnitOfWork, container: Container, cmd: CreateCampaign, campaign_id: str, affected: int
) -> None:
    uow.campaigns.set_affected(campaign_id, affected)
    uow.audit.record(
        container.now(),
        cmd.actor,
        "campaign.created",
        "campaign",
        campaign_id,
        {"incident": cmd.incident_id, "policy": to_document(cmd.policy), "affected": affected},
    )
