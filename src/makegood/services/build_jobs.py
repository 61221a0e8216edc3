"""Campaign builds as jobs: the web records a `building` draft, a worker builds it.

`submit_campaign` checks what is cheap to check (incident, plans, engine, claim days), then
stores the campaign in state `building` and a pending build (store.build_jobs) and returns at
once. `run_pending_builds` (called by `makegood worker` on every pass) claims builds one at a
time and runs campaign_build.build_snapshot; the campaign then reads `draft`, or `failed` with
the reason on its build. While it runs, a thread beats the build's heartbeat with its phase and
the rows written; a build whose worker died (no beat for `build_lease_seconds`) is claimed
again by another worker or after a restart, and rebuilt from scratch: the snapshot is written
in one transaction, so a dead build left nothing behind. After `MAX_ATTEMPTS` claims it fails.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from makegood.bootstrap import Container
from makegood.domain.errors import MakegoodError
from makegood.domain.ids import new_id
from makegood.domain.offers import CampaignState
from makegood.services.campaign_build import (
    BuildHooks,
    build_snapshot,
    campaign_row,
    check_request,
)
from makegood.services.campaign_command import CreateCampaign, with_plans
from makegood.services.campaigns import get_campaign
from makegood.services.events_root import remote_errors
from makegood.services.incidents import get_incident
from makegood.store.build_jobs import Claim
from makegood.store.uow import UnitOfWork

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
PUBLIC_FIELDS = (
    "state",
    "phase",
    "decided",
    "attempts",
    "reason",
    "created_at",
    "started_at",
    "finished_at",
)
UNEXPECTED = "the build stopped on an unexpected error; the worker's log has the details"


class LostClaim(MakegoodError):
    """Another worker took this build over (this one stopped beating for too long)."""


def submit_campaign(container: Container, cmd: CreateCampaign) -> str:
    """Record a draft in state `building` and its pending build; return the draft's id."""
    cmd = with_plans(cmd)
    campaign_id = new_id("cmp")
    with container.uow() as uow:
        check_request(uow, cmd)
        uow.campaigns.add(campaign_row(cmd, campaign_id, CampaignState.BUILDING, container))
        uow.builds.add(
            campaign_id,
            {  # min_failures is the campaign's own (campaign_row)
                "strict": cmd.strict,
                "engine": cmd.engine,
                "master": cmd.master,
            },
            container.now(),
        )
        uow.audit.record(
            container.now(),
            cmd.actor,
            "campaign.submitted",
            "campaign",
            campaign_id,
            {"incident": cmd.incident_id},
        )
        uow.commit()
    return campaign_id


def build_status(uow: UnitOfWork, campaign_id: str) -> dict[str, Any] | None:
    """The build of `campaign_id` (state, phase, rows written, attempts, reason, times), or
    None for a campaign the CLI built in-process."""
    row = uow.builds.get(campaign_id)
    if row is None:
        return None
    return {k: row[k] for k in PUBLIC_FIELDS}


def _command(uow: UnitOfWork, campaign_id: str) -> CreateCampaign:
    """The create command a build job stands for, from the campaign and its build row."""
    campaign = get_campaign(uow, campaign_id)
    build = uow.builds.get(campaign_id)
    assert build is not None
    request = build["request"]
    return CreateCampaign(
        incident_id=campaign.incident_id,
        events=campaign.raw["events_source"],
        policy=campaign.policy,
        claim_days=campaign.claim_days,
        pay_within_days=campaign.pay_within_days,
        appeal_days=campaign.appeal_days,
        plans=None,  # the stored policy carries its eligible plans
        mode=campaign.mode,  # type: ignore[arg-type]
        actor=campaign.created_by,
        min_failures=campaign.min_failures,
        strict=bool(request.get("strict", False)),
        engine=str(request.get("engine", "duckdb")),
        master=request.get("master"),
    )


@dataclass
class _Beat:
    """What the heartbeat thread writes: the phase and rows written, updated by the build."""

    phase: str | None = None
    decided: int = 0


def _heartbeat(container: Container, claim: Claim, state: _Beat, stop: threading.Event) -> None:
    every = max(container.settings.build_lease_seconds / 4, 0.05)
    while not stop.wait(every):
        try:
            with container.uow() as uow:
                uow.builds.beat(claim, container.now(), state.phase, state.decided)
                uow.commit()
        except Exception:  # a busy database: the next beat tries again, the lease has room
            log.warning("build %s: heartbeat not written", claim.campaign_id, exc_info=True)


def run_build(container: Container, claim: Claim, say: Callable[[str], None]) -> str:
    """Build the claimed campaign; returns the campaign's state afterwards."""
    campaign_id = claim.campaign_id
    state = _Beat()
    stop = threading.Event()
    beater = threading.Thread(
        target=_heartbeat, args=(container, claim, state, stop), name="build-heartbeat"
    )
    beater.start()

    def phase(text: str) -> None:
        state.phase = text
        say(f"build {campaign_id}: {text}")

    def progress(rows: int) -> None:
        state.decided = rows

    def begin(uow: UnitOfWork) -> None:
        # Still ours? Also removes what an earlier, dead attempt could have left (nothing, as
        # it writes in one transaction, but a rebuild must never add to an old snapshot).
        if not uow.builds.beat(claim, container.now(), "writing the snapshot", 0):
            raise LostClaim(f"build {campaign_id} was taken over by another worker")
        uow.cohort.clear(campaign_id)

    def finish(uow: UnitOfWork) -> None:
        _close(uow, container, claim, CampaignState.DRAFT, state.decided, None)

    try:
        with container.uow() as uow:
            cmd = _command(uow, campaign_id)
            incident = get_incident(uow, cmd.incident_id)
        root = container.settings.events_root
        # Builds are submitted from the web: their reason names no server path or cell value.
        with remote_errors(root.resolve()) if root else contextlib.nullcontext():
            built = build_snapshot(
                container, cmd, incident, campaign_id, begin, BuildHooks(phase, progress), finish
            )
        say(f"build {campaign_id}: draft ready, {built.affected} affected accounts")
        return CampaignState.DRAFT
    except LostClaim:
        log.warning("build %s: taken over by another worker; this attempt stops", campaign_id)
        return CampaignState.BUILDING
    except MakegoodError as exc:
        reason = str(exc)
    except Exception:
        log.exception("build %s failed", campaign_id)
        reason = UNEXPECTED
    finally:
        stop.set()
        beater.join()
    fail_build(container, claim, reason)
    say(f"build {campaign_id}: failed: {reason}")
    return CampaignState.FAILED


def _close(
    uow: UnitOfWork,
    container: Container,
    claim: Claim,
    to: CampaignState,
    decided: int,
    reason: str | None,
) -> None:
    now = container.now()
    build_state = "done" if to == CampaignState.DRAFT else "failed"
    if not uow.builds.finish(claim, now, build_state, decided, reason):
        raise LostClaim(f"build {claim.campaign_id} was taken over by another worker")
    uow.campaigns.end_building(claim.campaign_id, to)


def fail_build(container: Container, claim: Claim, reason: str) -> None:
    """Mark the build and its campaign failed with `reason` (if the build is still ours)."""
    with container.uow() as uow:
        try:
            _close(uow, container, claim, CampaignState.FAILED, 0, reason)
        except LostClaim:
            return
        uow.audit.record(
            container.now(),
            "worker",
            "campaign.build_failed",
            "campaign",
            claim.campaign_id,
            {"reason": reason},
        )
        uow.commit()


def claim_build(container: Container, token: str, campaign_id: str | None = None) -> Claim | None:
    """Claim the oldest claimable build (or `campaign_id`'s) for `token`, committed."""
    lease = timedelta(seconds=container.settings.build_lease_seconds)
    with container.uow() as uow:
        claim = uow.builds.claim_next(token, container.now(), lease, campaign_id)
        uow.commit()
    return claim


def run_pending_builds(
    container: Container,
    stop: threading.Event | None = None,
    say: Callable[[str], None] | None = None,
) -> int:
    """Run claimable builds one after another until none is left (or `stop` is set); returns
    how many were run. Safe to call from several workers at once."""
    say = say or (lambda _line: None)
    token = new_id("wrk")
    ran = 0
    while stop is None or not stop.is_set():
        claim = claim_build(container, token)
        if claim is None:
            return ran
        ran += 1
        if claim.attempts > MAX_ATTEMPTS:
            fail_build(
                container,
                claim,
                f"the build was interrupted {claim.attempts - 1} times (its worker stopped); "
                "create the campaign again",
            )
            continue
        run_build(container, claim, say)
    return ran
