"""A launch commits in chunks and survives being cut off: `makegood campaign launch` killed with
SIGKILL (SQLite and PostgreSQL) or its database connection dropped with pg_terminate_backend
(PostgreSQL) in the middle of a launch leaves the campaign `launching` with its progress, and
running the command again finishes it: every eligible account ends with exactly one offer, one
claim link and one queued e-mail, checked in the database. Two launches at once double nothing.

"The middle" is found by polling the campaign's progress in the database, never by sleeping,
and held there by the campaign's lock while the launch is cut (`paused_part_way`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidState
from makegood.domain.tokens import hash_token
from makegood.services.campaigns import preview
from makegood.services.incidents import create_incident
from makegood.services.launch import launch_campaign
from makegood.services.reversal import reverse_campaign
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.bulk_insert import insert_dicts
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from makegood.web.app import create_app
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.joined import JoinedUnitOfWork
from tests.factories.staff import api_key
from tests.harness.settings import make_settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CAMPAIGN = "cmp_resume"
NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
# Enough chunks that the launch is still running when it is seen part-way.
MEMBERS = 12_000
CHUNK = 100
EXCLUDED = 7  # members the cohort excluded: never offered


def seed(engine: sa.Engine, members: int = MEMBERS) -> None:
    """An approved claim campaign of `members` eligible accounts (and a few excluded ones)."""
    accounts = [
        account(
            f"acc{i:08d}",
            plan_id="pln_r",
            email=f"sub{i}@example.com",
            next_bill_date=NOW.date() + timedelta(days=9),
            billing_day=1,
        )
        for i in range(members + EXCLUDED)
    ]
    cohort = [
        {
            "campaign_id": CAMPAIGN,
            "account_id": a["account_id"],
            "failed_attempts": 2,
            "first_failure_at": NOW - timedelta(hours=3),
            "last_failure_at": NOW - timedelta(hours=2),
            "excluded_reason": "not_active" if i < EXCLUDED else None,
            "plan_id": "pln_r",
            "currency": "USD",
            "amount_minor": 24,
        }
        for i, a in enumerate(accounts)
    ]
    with engine.begin() as conn:
        save_plans(conn, [plan("pln_r", name="Standard")], NOW)
        save_accounts(conn, accounts, NOW)
        incident_id = create_incident(
            JoinedUnitOfWork(conn),
            "Outage",
            NOW - timedelta(hours=6),
            NOW - timedelta(hours=1),
            [],
            [],
            NOW,
            actor="test",
        )
        # As a build leaves it (campaigns have no repository in store/ yet), under a fixed id
        # the commands below are given.
        conn.execute(
            t.campaigns.insert().values(
                id=CAMPAIGN,
                incident_id=incident_id,
                state="approved",
                mode="claim",
                policy={"kind": "percent", "percent": "3"},
                claim_days=7,
                eligible_plans=None,
                events_source="test",
                affected_count=members + EXCLUDED,
                created_at=NOW,
                created_by="test",
                approved_at=NOW,
                approved_by="approver",
            )
        )
        insert_dicts(conn, t.cohort_members, cohort)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'makegood.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def environment(url: str, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": url,
        "MAKEGOOD_MAIL_DIR": str(tmp_path / "mail"),
        "MAKEGOOD_LAUNCH_CHUNK_SIZE": str(CHUNK),
    }
    env.pop("MAKEGOOD_SMTP_URL", None)
    return env


def makegood(*args: str) -> list[str]:
    return [sys.executable, "-m", "makegood", *args]


def progress(engine: sa.Engine) -> tuple[str, int | None, int | None]:
    c = t.campaigns
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(c.c.state, c.c.launch_issued, c.c.launch_total).where(c.c.id == CAMPAIGN)
        ).one()
    return row.state, row.launch_issued, row.launch_total


@contextmanager
def paused_part_way(engine: sa.Engine, launcher: subprocess.Popen[bytes]) -> Iterator[None]:
    """Once some chunks are committed, hold the campaign so that the launch waits before its
    next chunk, and check under that hold that it is part-way; the launch goes on when the
    block ends.

    Seeing progress needs only one poll while the launch runs (not one inside a narrow window
    of it, which a starved poller could miss); the hold then keeps the launch from finishing
    before the caller acts: its next chunk waits for the campaign's row lock (PostgreSQL) or
    for the write lock (SQLite, whose transactions all BEGIN IMMEDIATE)."""
    deadline = time.monotonic() + 120
    while True:
        state, issued, _ = progress(engine)
        if state == "launching" and issued:
            break
        assert launcher.poll() is None, "the launch ended before it was seen part-way"
        assert time.monotonic() < deadline, "the launch never got going"
    c = t.campaigns
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(c.c.state, c.c.launch_issued, c.c.launch_total)
            .where(c.c.id == CAMPAIGN)
            .with_for_update()
        ).one()
        assert row.state == "launching", "the launch finished before it could be held"
        assert 0 < row.launch_issued < row.launch_total
        yield


def kill(launcher: subprocess.Popen[bytes]) -> None:
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGKILL)
    launcher.wait(timeout=60)


def interrupted_state(engine: sa.Engine) -> tuple[int, int]:
    """After a cut: `launching`, and the progress is exactly what the database holds."""
    state, issued, total = progress(engine)
    assert state == "launching"
    assert total == MEMBERS
    assert issued is not None
    assert 0 < issued < MEMBERS
    m = outbox.all_messages()  # stored e-mails and launch e-mails still on their offers
    with engine.connect() as conn:
        offers = conn.execute(sa.select(sa.func.count()).select_from(t.offers)).scalar_one()
        emails = conn.execute(
            sa.select(sa.func.count()).select_from(m).where(m.c.channel == "email")
        ).scalar_one()
    assert offers == emails == issued  # whole chunks only: never an offer without its e-mail
    return issued, total


def exactly_once(engine: sa.Engine) -> dict[str, Any]:
    """The launch is complete and every eligible account has one offer, link and e-mail
    (stored, or still on its offer until the outbox takes it: both are counted)."""
    one = sa.text
    m = outbox.all_messages()
    email = m.c.channel == "email"
    with engine.connect() as conn:

        def scalar(sql: str) -> Any:
            return conn.execute(one(sql)).scalar_one()

        facts = {
            "state": scalar(f"SELECT state FROM campaigns WHERE id = '{CAMPAIGN}'"),  # noqa: S608
            "issued": scalar(f"SELECT launch_issued FROM campaigns WHERE id = '{CAMPAIGN}'"),  # noqa: S608
            "offers": scalar("SELECT count(*) FROM offers"),
            "accounts": scalar("SELECT count(DISTINCT account_id) FROM offers"),
            "excluded_offered": scalar(
                "SELECT count(*) FROM offers o JOIN cohort_members cm "
                "ON cm.account_id = o.account_id WHERE cm.excluded_reason IS NOT NULL"
            ),
            "links": scalar("SELECT count(DISTINCT token_hash) FROM offers"),
            "extra_links": scalar("SELECT count(*) FROM claim_tokens"),
            "emails": conn.execute(sa.select(sa.func.count()).where(email)).scalar_one(),
            "offers_emailed": conn.execute(
                sa.select(sa.func.count(sa.distinct(m.c.offer_id))).where(email)
            ).scalar_one(),
            "launched_audit": scalar(
                "SELECT count(*) FROM audit_log WHERE action = 'campaign.launched'"
            ),
        }
        # Each e-mail carries the link whose hash its own offer holds.
        pairs = conn.execute(
            sa.select(m.c.claim_token, t.offers.c.token_hash)
            .join(t.offers, t.offers.c.id == m.c.offer_id)
            .where(email)
        ).all()
    assert len(pairs) == facts["emails"]
    assert all(hash_token(token) == digest for token, digest in pairs)
    return facts


def complete(n: int = MEMBERS) -> dict[str, Any]:
    return {
        "state": "launched",
        "issued": n,
        "offers": n,
        "accounts": n,
        "excluded_offered": 0,
        "links": n,
        "extra_links": 0,
        "emails": n,
        "offers_emailed": n,
        "launched_audit": 1,
    }


class Stop(Exception):
    pass


def test_a_launch_stopped_after_a_chunk_reads_launching_everywhere_and_resumes(
    database_url: str, tmp_path: Path
) -> None:
    """In one process, on SQLite and PostgreSQL: progress in preview, API and console."""
    engine = make_engine(database_url)
    seed(engine, members=35)
    settings = make_settings(database_url, tmp_path, launch_chunk_size=10)
    container = Container(settings=settings, engine=engine, clock=lambda: NOW)

    def stop_after_first_chunk(issued: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        launch_campaign(container, CAMPAIGN, progress=stop_after_first_chunk)
    with container.uow() as uow:
        shown = preview(uow, CAMPAIGN)
    # The first chunk looked at 10 members, 7 of them excluded: 3 offers.
    assert (shown["state"], shown["launch_progress"]) == ("launching", {"issued": 3, "total": 35})
    with TestClient(create_app(container), follow_redirects=False) as client:
        body = client.get(f"/api/v1/campaigns/{CAMPAIGN}", headers=api_key(container)).json()
        assert (body["state"], body["launch_progress"]) == (
            "launching",
            {"issued": 3, "total": 35},
        )
    with pytest.raises(InvalidState, match="only a launched one"):
        reverse_campaign(container, CAMPAIGN, reason="mid-launch", actor="test")

    result = launch_campaign(container, CAMPAIGN)
    assert (result.offers, result.resumed, result.already_launched) == (35, True, False)
    assert result.expires_at == NOW + timedelta(days=7)
    assert exactly_once(engine) == complete(35)
    engine.dispose()


def relaunch(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        makegood("campaign", "launch", CAMPAIGN),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "launched (resumed)" in done.stderr
    assert f"{MEMBERS} offers issued" in done.stderr
    return done


def test_sqlite_a_killed_launch_reads_launching_and_a_rerun_finishes_it_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    seed(engine)
    env = environment(sqlite_url, tmp_path)
    launcher = subprocess.Popen(makegood("campaign", "launch", CAMPAIGN), env=env)
    try:
        with paused_part_way(engine, launcher):
            kill(launcher)  # waiting for its next chunk; its read-ahead may be mid-query
    finally:
        kill(launcher)
    assert launcher.returncode == -signal.SIGKILL
    issued, total = interrupted_state(engine)

    shown = subprocess.run(
        makegood("campaign", "preview", CAMPAIGN, "--json"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    preview = json.loads(shown.stdout)
    assert preview["state"] == "launching"
    assert preview["launch_progress"] == {"issued": issued, "total": total}

    relaunch(env)
    assert exactly_once(engine) == complete()
    again = subprocess.run(
        makegood("campaign", "launch", CAMPAIGN),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0
    assert "nothing new was issued" in again.stderr
    assert exactly_once(engine) == complete()
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_a_killed_launch_reads_launching_and_a_rerun_finishes_it_once(
    pg_database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(pg_database_url, poolclass=sa.NullPool)
    seed(engine)
    env = environment(pg_database_url, tmp_path)
    launcher = subprocess.Popen(makegood("campaign", "launch", CAMPAIGN), env=env)
    try:
        with paused_part_way(engine, launcher):
            kill(launcher)  # waiting for its next chunk; its read-ahead may be mid-query
    finally:
        kill(launcher)
    assert launcher.returncode == -signal.SIGKILL
    wait_for_no_open_transaction(engine)
    interrupted_state(engine)

    relaunch(env)
    assert exactly_once(engine) == complete()
    engine.dispose()


def wait_for_no_open_transaction(engine: sa.Engine) -> None:
    """The server notices a dead client and rolls its transaction back."""
    deadline = time.monotonic() + 60
    while open_transactions(engine):
        assert time.monotonic() < deadline, "the killed launch's transaction is still open"


def open_transactions(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND xact_start IS NOT NULL"
            ).scalars()
        )


@pytest.mark.postgres
def test_postgresql_a_launch_whose_connection_is_dropped_says_so_and_a_rerun_finishes_it(
    pg_database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(pg_database_url, poolclass=sa.NullPool)
    seed(engine)
    env = environment(pg_database_url, tmp_path)
    launcher = subprocess.Popen(
        makegood("campaign", "launch", CAMPAIGN), env=env, stderr=subprocess.PIPE
    )
    try:
        with paused_part_way(engine, launcher):
            pass
        deadline = time.monotonic() + 120
        # Strike inside a chunk's transaction; a strike that lands between two chunks is
        # survived (the pool reconnects), so strike again until the launch gives up.
        while launcher.poll() is None:
            for pid in open_transactions(engine):
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert time.monotonic() < deadline, "the launch outlived every strike"
        _, stderr = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:
            kill(launcher)
    assert launcher.returncode == 1, stderr
    message = stderr.decode()
    assert "lost the database" in message
    assert f"run `makegood campaign launch {CAMPAIGN}` again" in message
    assert "Traceback" not in message
    interrupted_state(engine)

    relaunch(env)
    assert exactly_once(engine) == complete()
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_two_launches_at_once_issue_everything_once(
    pg_database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(pg_database_url, poolclass=sa.NullPool)
    seed(engine, members=MEMBERS)
    env = environment(pg_database_url, tmp_path)
    launchers = [
        subprocess.Popen(makegood("campaign", "launch", CAMPAIGN), env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=300), p.communicate()[1].decode()) for p in launchers]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert exactly_once(engine) == complete()
    engine.dispose()
