"""Processing appeals against the logs (services/appeal_processing.py, `makegood appeals
process`): failures anywhere in the window make an offer under the campaign's policy (granted in
automatic mode), no failures make a review e-mail and a queue entry; every step audited."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.appeal_processing import process_appeals
from makegood.services.dispatch import dispatch_pending
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.tables_appeals import appeals
from makegood.telemetry.account_log import read_account_log
from makegood.telemetry.cohort import compute_cohort
from makegood.telemetry.engine import EngineConfig
from tests.factories.appeals import file_appeal_for, seed_missed, write_attempts
from tests.harness.mailbox import mails, text_of


def _appeal(container: Container, appeal_id: str) -> dict[str, object]:
    with container.engine.connect() as conn:
        row = conn.execute(sa.select(appeals).where(appeals.c.id == appeal_id)).mappings().one()
    return dict(row)


def _actions(container: Container, subject_id: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(t.audit_log.c.action)
                .where(t.audit_log.c.subject_id == subject_id)
                .order_by(t.audit_log.c.id)
            ).scalars()
        )


def test_failures_in_another_region_make_an_offer_emailed_with_a_claim_link(
    container: Container,
) -> None:
    world = seed_missed(container)
    # Failures in a region the snapshot did not look at, then a success 50 minutes later.
    write_attempts(
        container,
        world,
        [(10, "failure", "ap-south"), (25, "failure", "ap-south"), (60, "success", "ap-south")],
    )
    appeal_id = file_appeal_for(container, world, "around 20:15")

    report = process_appeals(container)

    assert (report.offered, report.needs_review, report.unreadable) == (1, 0, [])
    appeal = _appeal(container, appeal_id)
    assert appeal["state"] == "offered"
    assert appeal["findings"]["failed_attempts"] == 2  # type: ignore[index]
    with container.engine.connect() as conn:
        offer = (
            conn.execute(sa.select(t.offers).where(t.offers.c.id == appeal["offer_id"]))
            .mappings()
            .one()
        )
        member = (
            conn.execute(
                sa.select(t.cohort_members).where(t.cohort_members.c.account_id == world.account_id)
            )
            .mappings()
            .one()
        )
        detail = conn.execute(
            sa.select(t.audit_log.c.detail).where(t.audit_log.c.action == "appeal.offered")
        ).scalar_one()
    assert (offer["state"], offer["amount_minor"], offer["currency"]) == ("open", 24, "USD")
    assert offer["token_hash"] is not None
    assert member["impact_minutes"] == 50  # first failure to the next success, as the cohort
    assert detail["via"] == "appeal"
    assert _actions(container, appeal_id) == ["appeal.filed", "appeal.offered"]

    assert dispatch_pending(container).sent == 1
    [mail] = mails(container)
    assert "http://claims.test/claim/" in text_of(mail)
    assert process_appeals(container).processed == 0  # decided once


def test_auto_mode_grants_at_once_via_appeal(container: Container) -> None:
    world = seed_missed(container, mode="auto")
    write_attempts(container, world, [(30, "failure", "eu-west")])
    appeal_id = file_appeal_for(container, world)
    assert process_appeals(container).offered == 1
    with container.engine.connect() as conn:
        offer = (
            conn.execute(
                sa.select(t.offers).where(
                    t.offers.c.id == _appeal(container, appeal_id)["offer_id"]
                )
            )
            .mappings()
            .one()
        )
        credits = conn.execute(sa.select(sa.func.count()).select_from(t.credits)).scalar_one()
        emails = outbox.all_messages()  # its e-mail is pending on the offer, as a launch's
        template = conn.execute(
            sa.select(emails.c.template).where(emails.c.channel == "email")
        ).scalar_one()
        inapp = conn.execute(sa.select(outbox.inapp_messages().subquery().c.template)).scalar_one()
    assert (offer["state"], offer["credited_via"]) == ("granted", "appeal")
    assert credits == 1
    assert template == inapp == "offer_granted"  # the e-mail and the in-app message say so


def test_no_failures_sends_what_the_logs_hold_and_waits_for_review(
    container: Container,
) -> None:
    world = seed_missed(container, locale="en-GB")
    write_attempts(container, world, [(10 + 20 * i, "success", "us-east") for i in range(5)])
    appeal_id = file_appeal_for(container, world, "about 9pm")
    assert process_appeals(container).needs_review == 1
    appeal = _appeal(container, appeal_id)
    assert appeal["state"] == "needs_review"
    findings = appeal["findings"]
    assert findings["successful_attempts"] == 5  # type: ignore[index]
    assert findings["proposed"] == {"amount_minor": 24, "currency": "USD"}  # type: ignore[index]
    assert _actions(container, appeal_id) == ["appeal.filed", "appeal.needs_review"]
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.offers)).scalar_one() == 0

    assert dispatch_pending(container).sent == 1
    [mail] = mails(container)
    text = text_of(mail)
    assert mail["Subject"] == "We checked our logs again"
    assert "Successful plays: 5" in text
    assert "Failed attempts" not in text
    start = world.starts_at
    assert f"{start.day} " in text  # the dates, in the account's language, in UTC
    assert "UTC" in text


def test_the_account_log_counts_as_the_cohort_does(container: Container) -> None:
    world = seed_missed(container)
    path = write_attempts(
        container,
        world,
        [
            (5, "failure", "a"),
            (5, "failure", "a"),
            (7, "failure", "b"),
            (40, "success", "a"),
            (41, "failure", "a"),
        ],
    )
    ends = world.starts_at + timedelta(hours=3)
    log = read_account_log(path, world.account_id, world.starts_at, ends, config=EngineConfig())
    with compute_cohort(path, world.starts_at, ends, [], []) as cohort:
        [row] = [r for r in cohort.rows() if r.account_id == world.account_id]
    assert log.failed_attempts == row.failed_attempts == 3  # the duplicate counts once
    assert log.impact_minutes == row.impact_minutes
    assert log.first_failure_at == row.first_failure_at
    assert log.successful_attempts == 1


def test_cli_prints_a_summary_and_exits_1_when_logs_cannot_be_read(
    container: Container, tmp_path: Path
) -> None:
    world = seed_missed(container)
    with container.engine.begin() as conn:
        conn.execute(
            t.campaigns.update()
            .where(t.campaigns.c.id == world.campaign_id)
            .values(events_source=str(tmp_path / "gone.csv"))
        )
    appeal_id = file_appeal_for(container, world)
    result = CliRunner().invoke(cli, ["appeals", "process"], obj=container)
    assert result.exit_code == 1, result.output
    assert "0 offered, 0 for review, 1 left queued" in result.stdout
    assert appeal_id in result.stderr
    assert _appeal(container, appeal_id)["state"] == "queued"

    write_attempts(container, world, [(10, "failure", "x")])
    result = CliRunner().invoke(cli, ["appeals", "process", "--json"], obj=container)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"offered": 1, "needs_review": 0, "left_queued": 0}


@pytest.mark.parametrize("status", ["paused", "cancelled"])
def test_failures_on_an_inactive_account_go_to_review(container: Container, status: str) -> None:
    world = seed_missed(container)
    with container.engine.begin() as conn:
        conn.execute(
            t.accounts.update()
            .where(t.accounts.c.account_id == world.account_id)
            .values(status=status)
        )
    write_attempts(container, world, [(10, "failure", "x")])
    appeal_id = file_appeal_for(container, world)
    assert process_appeals(container).needs_review == 1
    findings = _appeal(container, appeal_id)["findings"]
    assert findings["excluded"] == "not_active"  # type: ignore[index]
    assert findings["proposed"] == {"excluded": "not_active"}  # type: ignore[index]


@pytest.mark.parametrize(("failures", "state"), [(2, "needs_review"), (3, "offered")])
def test_an_appeal_is_judged_under_the_campaigns_min_failures(
    container: Container, failures: int, state: str
) -> None:
    """A campaign built with `--min-failures 3` left out accounts with fewer: their appeal does
    not get through with fewer either; it goes to an agent, with the reason."""
    world = seed_missed(container, min_failures=3)
    write_attempts(
        container, world, [(10 * (i + 1), "failure", "us-east") for i in range(failures)]
    )
    appeal_id = file_appeal_for(container, world)

    process_appeals(container)

    appeal = _appeal(container, appeal_id)
    assert appeal["state"] == state
    findings = appeal["findings"]
    assert findings["failed_attempts"] == failures  # type: ignore[index]
    assert findings["min_failures"] == 3  # type: ignore[index]
    if state == "needs_review":
        assert findings["excluded"] == "below_min_failures"  # type: ignore[index]
        assert appeal["offer_id"] is None
