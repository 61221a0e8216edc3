"""Campaigns submitted from the web are built by workers: claimed once, resumable, failures
told with their reason (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.domain.errors import InvalidState
from makegood.domain.policy import PercentOfPrice, single
from makegood.services.build_jobs import (
    MAX_ATTEMPTS,
    build_status,
    claim_build,
    run_pending_builds,
    submit_campaign,
)
from makegood.services.campaign_approval import approve_campaign
from makegood.services.campaign_command import CreateCampaign
from makegood.services.campaigns import (
    create_campaign,
    get_campaign,
)
from makegood.store import tables as t
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.staff import seed_draft
from tests.harness.clock import FrozenClock


@pytest.fixture
def command(container: Container, tmp_path: Path) -> CreateCampaign:
    """A create command over a seeded incident whose logs hit its 3 accounts and a stranger."""
    draft = seed_draft(container, created_by="seed", accounts=3)
    with container.uow() as uow:
        start = get_campaign(uow, draft.campaign_id).raw["created_at"] - timedelta(days=1)
    events = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [attempt(a, (start + timedelta(minutes=10)).isoformat()) for a in draft.account_ids]
        + [attempt("acc-unknown", (start + timedelta(minutes=20)).isoformat())],
    )
    return CreateCampaign(draft.incident_id, str(events), single(PercentOfPrice()), actor="api:key")


def snapshot(container: Container, campaign_id: str) -> list[tuple[object, ...]]:
    cm = t.cohort_members
    with container.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(
                    cm.c.account_id,
                    cm.c.failed_attempts,
                    cm.c.first_failure_at,
                    cm.c.excluded_reason,
                    cm.c.currency,
                    cm.c.amount_minor,
                )
                .where(cm.c.campaign_id == campaign_id)
                .order_by(cm.c.account_id)
            )
        ]


def state_of(container: Container, campaign_id: str) -> str:
    with container.uow() as uow:
        return get_campaign(uow, campaign_id).state


def test_a_submitted_campaign_is_building_until_a_worker_builds_the_same_draft(
    container: Container, command: CreateCampaign
) -> None:
    campaign_id = submit_campaign(container, command)
    assert state_of(container, campaign_id) == "building"
    with pytest.raises(InvalidState, match="campaign is building; it must be draft"):
        approve_campaign(container, campaign_id, actor="boss")
    assert snapshot(container, campaign_id) == []

    assert run_pending_builds(container) == 1
    assert state_of(container, campaign_id) == "draft"
    with container.uow() as uow:
        build = build_status(uow, campaign_id)
    assert build is not None
    assert (build["state"], build["decided"], build["attempts"]) == ("done", 4, 1)
    in_process = create_campaign(container, command)
    assert snapshot(container, campaign_id) == snapshot(container, in_process)
    assert run_pending_builds(container) == 0  # nothing left


def test_a_failed_build_reads_failed_with_its_reason(
    container: Container, command: CreateCampaign, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-logs"
    campaign_id = submit_campaign(
        container,
        CreateCampaign(
            command.incident_id, str(missing), single(PercentOfPrice()), actor="api:key"
        ),
    )
    run_pending_builds(container)
    assert state_of(container, campaign_id) == "failed"
    with container.uow() as uow:
        build = build_status(uow, campaign_id)
    assert build is not None
    assert build["state"] == "failed"
    # Named as the remote caller gave it, not as an absolute server path.
    assert "no-such-logs: no such file or directory" in build["reason"]
    assert str(tmp_path) not in build["reason"]
    with pytest.raises(InvalidState):
        approve_campaign(container, campaign_id, actor="boss")


def test_two_workers_never_claim_the_same_build(
    container: Container, command: CreateCampaign
) -> None:
    submit_campaign(container, command)
    barrier = threading.Barrier(2)
    claims: list[object] = []

    def worker(token: str) -> None:
        barrier.wait()
        claims.append(claim_build(container, token))

    threads = [threading.Thread(target=worker, args=(f"wrk_{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(c is None for c in claims) == [False, True]


def test_a_build_whose_worker_died_is_taken_over_and_the_dead_one_cannot_finish(
    container: Container, command: CreateCampaign, clock: FrozenClock
) -> None:
    campaign_id = submit_campaign(container, command)
    dead = claim_build(container, "wrk_dead")  # claimed, then the process was killed
    assert dead is not None
    assert run_pending_builds(container) == 0  # its lease still runs
    clock.advance(seconds=container.settings.build_lease_seconds + 1)
    assert run_pending_builds(container) == 1
    assert state_of(container, campaign_id) == "draft"
    with container.uow() as uow:
        build = build_status(uow, campaign_id)
        assert build is not None
        assert build["attempts"] == 2
        # The first worker, had it only been slow, can no longer write anything.
        assert not uow.builds.beat(dead, container.now(), "late", 0)
        assert not uow.builds.finish(dead, container.now(), "failed", 0, "late")
    assert len(snapshot(container, campaign_id)) == 4


def test_a_build_interrupted_again_and_again_fails(
    container: Container, command: CreateCampaign, clock: FrozenClock
) -> None:
    campaign_id = submit_campaign(container, command)
    for i in range(MAX_ATTEMPTS):
        assert claim_build(container, f"wrk_{i}") is not None
        clock.advance(seconds=container.settings.build_lease_seconds + 1)
    run_pending_builds(container)
    assert state_of(container, campaign_id) == "failed"
    with container.uow() as uow:
        build = build_status(uow, campaign_id)
    assert build is not None
    assert f"interrupted {MAX_ATTEMPTS} times" in build["reason"]


def test_worker_once_runs_pending_builds(container: Container, command: CreateCampaign) -> None:
    campaign_id = submit_campaign(container, command)
    result = CliRunner().invoke(cli, ["worker", "--once"], obj=container, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"build {campaign_id}: draft ready, 4 affected accounts" in result.output
    assert state_of(container, campaign_id) == "draft"


def test_a_campaign_keeps_its_min_failures_however_it_is_built(
    container: Container, command: CreateCampaign
) -> None:
    """Appeals judge under the campaign's threshold: the campaign row must hold it."""
    twice = replace(command, min_failures=2)
    in_process = create_campaign(container, twice)
    submitted = submit_campaign(container, twice)
    assert run_pending_builds(container) == 1
    with container.uow() as uow:
        for campaign_id in (in_process, submitted):
            assert get_campaign(uow, campaign_id).raw["min_failures"] == 2
    # The cohort used it too: each account of the log failed once, so none is affected.
    assert snapshot(container, in_process) == snapshot(container, submitted) == []
