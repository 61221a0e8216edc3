"""Faults on PostgreSQL: the database connection dropped (pg_terminate_backend) in the middle of
a launch, a claim and a dispatch, and the launching process killed (SIGKILL). Each proves that
nothing was half-written, lost or doubled, and that running the step again completes it.

The moment to strike is found without sleeping: inside the step (its progress callback, an SMTP
server's reply, SQLAlchemy's before_cursor_execute on the statement that matters) or by polling
pg_stat_activity until the victim's backend is mid-transaction.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy import event

from makegood.bootstrap import Container
from makegood.domain.errors import OfferAlreadyClaimed
from makegood.notify.dispatch import dispatch_pending
from makegood.services import launch as launch_module
from makegood.services.claims import claim_offer
from makegood.services.launch import launch_campaign
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.tables_billing import ledger_entries
from tests.conftest import FrozenClock, make_settings
from tests.integration.claim_seed import seed_offer

pytestmark = pytest.mark.postgres

CAMPAIGN = "cmp_faults"
INCIDENT = "inc_faults"


@pytest.fixture
def pg(pg_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    settings = make_settings(pg_database_url, tmp_path)
    engine = make_engine(pg_database_url)
    yield Container(settings=settings, engine=engine, clock=clock)
    engine.dispose()


def seed_campaign(engine: sa.Engine, now: datetime, members: int) -> None:
    """An approved campaign of `members` accounts, written server-side in one statement each."""
    policy = json.dumps({"kind": "percent", "percent": "10"})
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run("INSERT INTO plans VALUES ('pln_f', 'Standard', 799, 'USD', %(now)s)", {"now": now})
        run(
            "INSERT INTO accounts (account_id, email, plan_id, status, country, locale, "
            "next_bill_date, billing_day, updated_at) "
            "SELECT 'acc' || lpad(i::text, 8, '0'), 'sub' || i || '@example.com', 'pln_f', "
            "'active', 'US', 'en-US', DATE '2026-04-01', 1, %(now)s "
            "FROM generate_series(1, %(n)s) AS i",
            {"now": now, "n": members},
        )
        run(
            "INSERT INTO incidents VALUES ('inc_faults', 'Outage', %(s)s, %(e)s, '[]', '[]', "
            "%(now)s, 'test')",
            {"s": now - timedelta(hours=6), "e": now - timedelta(hours=1), "now": now},
        )
        run(
            "INSERT INTO campaigns (id, incident_id, state, mode, policy, claim_days, "
            "events_source, affected_count, created_at, created_by, approved_at, approved_by) "
            "VALUES ('cmp_faults', 'inc_faults', 'approved', 'claim', %(policy)s, 7, 'test', "
            "%(n)s, %(now)s, 'test', %(now)s, 'test')",
            {"policy": policy, "n": members, "now": now},
        )
        run(
            "INSERT INTO cohort_members (campaign_id, account_id, failed_attempts, "
            "first_failure_at, last_failure_at, plan_id, currency, amount_minor) "
            "SELECT 'cmp_faults', 'acc' || lpad(i::text, 8, '0'), 3, %(s)s, %(e)s, 'pln_f', "
            "'USD', 80 FROM generate_series(1, %(n)s) AS i",
            {"s": now - timedelta(hours=5), "e": now - timedelta(hours=2), "n": members},
        )


def launched_rows(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        one = conn.exec_driver_sql
        return {
            "state": one("SELECT state FROM campaigns WHERE id = 'cmp_faults'").scalar_one(),
            "offers": one("SELECT count(*) FROM offers").scalar_one(),
            "accounts": one("SELECT count(DISTINCT account_id) FROM offers").scalar_one(),
            "tokens": one("SELECT count(*) FROM claim_tokens").scalar_one(),
            "messages": one("SELECT count(*) FROM messages").scalar_one(),
            "audit": one(
                "SELECT count(*) FROM audit_log WHERE action = 'campaign.launched'"
            ).scalar_one(),
        }


def nothing_launched() -> dict[str, Any]:
    return {"state": "approved", "offers": 0, "accounts": 0, "tokens": 0, "messages": 0, "audit": 0}


def all_launched(n: int) -> dict[str, Any]:
    return {
        "state": "launched",
        "offers": n,
        "accounts": n,
        "tokens": n,
        "messages": 2 * n,
        "audit": 1,
    }


def admin_engine(url: str) -> sa.Engine:
    return make_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def terminate_other_backends(admin: sa.Engine, in_transaction_only: bool = False) -> int:
    """Drop every other connection to this database (or those mid-transaction); how many."""
    with admin.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid, xact_start IS NOT NULL FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).all()
        victims = [pid for pid, busy in pids if busy or not in_transaction_only]
        for pid in victims:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return len(victims)


def test_connection_dropped_during_a_launch_writes_nothing_and_a_rerun_completes(
    pg: Container, monkeypatch: pytest.MonkeyPatch, pg_database_url: str
) -> None:
    members = 300
    seed_campaign(pg.engine, pg.now(), members)
    monkeypatch.setattr(launch_module, "BATCH_POSTGRESQL", 50)  # several batches to fall between
    admin = admin_engine(pg_database_url)
    struck: list[int] = []

    def strike_after_first_batch(issued: int) -> None:
        if not struck:
            struck.append(terminate_other_backends(admin))  # the launch's own connection

    with pytest.raises(sa.exc.OperationalError):
        launch_campaign(pg, CAMPAIGN, progress=strike_after_first_batch)
    assert struck == [1]
    assert launched_rows(pg.engine) == nothing_launched()

    result = launch_campaign(pg, CAMPAIGN)
    assert result.offers == members
    assert launched_rows(pg.engine) == all_launched(members)
    admin.dispose()


@pytest.mark.slow
def test_process_killed_during_a_launch_writes_nothing_and_a_rerun_completes(
    pg: Container, pg_database_url: str, tmp_path: Path
) -> None:
    members = 60_000  # several COPY batches: the launch is still running when it is seen
    seed_campaign(pg.engine, pg.now(), members)
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": pg_database_url,
        "MAKEGOOD_MAIL_DIR": str(tmp_path / "mail"),
    }
    env.pop("MAKEGOOD_SMTP_URL", None)
    command = [sys.executable, "-m", "makegood", "campaign", "launch", CAMPAIGN]
    launcher = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    admin = admin_engine(pg_database_url)
    try:
        deadline = time.monotonic() + 60
        while True:  # poll until the launch's backend has COPY'd rows inside its transaction
            with admin.connect() as conn:
                busy = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND xact_start IS NOT NULL AND left(query, 4) = 'COPY'"
                ).scalar_one()
            if busy:
                break
            assert launcher.poll() is None, "the launch ended before it could be killed"
            assert time.monotonic() < deadline, "the launch never reached COPY"
    finally:
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=30)
        assert launcher.stderr is not None
        launcher.stderr.close()
    assert launcher.returncode == -signal.SIGKILL
    # The server notices the dead client and rolls its transaction back.
    deadline = time.monotonic() + 60
    while True:
        with admin.connect() as conn:
            left = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND xact_start IS NOT NULL"
            ).scalar_one()
        if not left:
            break
        assert time.monotonic() < deadline, "the killed launch's transaction is still open"
    admin.dispose()
    assert launched_rows(pg.engine) == nothing_launched()

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert launched_rows(pg.engine) == all_launched(members)


def test_connection_dropped_during_a_claim_credits_once_and_a_retry_works(
    pg: Container, pg_database_url: str
) -> None:
    seeded = seed_offer(pg.engine, pg.now())
    admin = admin_engine(pg_database_url)
    struck: list[int] = []

    def strike_on_credit_insert(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        # After the offer row moved to claimed, before the credit is written: the worst moment.
        if statement.startswith("INSERT INTO credits") and not struck:
            struck.append(terminate_other_backends(admin, in_transaction_only=True))

    event.listen(pg.engine, "before_cursor_execute", strike_on_credit_insert)
    try:
        with pytest.raises(sa.exc.OperationalError), pg.uow() as uow:
            claim_offer(uow, seeded.token, pg.now())
    finally:
        event.remove(pg.engine, "before_cursor_execute", strike_on_credit_insert)
    assert struck == [1]

    def facts() -> tuple[str, int, int]:
        with pg.engine.connect() as conn:
            return (
                conn.execute(sa.select(t.offers.c.state)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(t.credits)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar_one(),
            )

    assert facts() == ("open", 0, 0)

    with pg.uow() as uow:
        result = claim_offer(uow, seeded.token, pg.now())
    assert result.amount_minor == 24
    assert facts() == ("claimed", 1, 1)
    with pytest.raises(OfferAlreadyClaimed), pg.uow() as uow:
        claim_offer(uow, seeded.token, pg.now())
    assert facts() == ("claimed", 1, 1)
    admin.dispose()


class StrikingSink:
    """An SMTP server that accepts everything and, on its `strike_at`-th message, drops the
    dispatcher's database connections before answering (the message is accepted all the same,
    so its `sent` mark is what gets lost: the case that makes a resend)."""

    def __init__(self, admin: sa.Engine, strike_at: int) -> None:
        self.admin = admin
        self.strike_at = strike_at
        self.accepted: list[str] = []
        self.struck = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if len(self.accepted) + 1 == self.strike_at:
                self.struck = terminate_other_backends(self.admin, in_transaction_only=True)
            self.accepted += list(envelope.rcpt_tos)
        return "250 2.0.0 accepted"


def sent_addresses(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT a.email FROM messages m JOIN accounts a USING (account_id) "
                "WHERE m.channel = 'email' AND m.state = 'sent'"
            ).scalars()
        )


def test_connection_dropped_during_a_dispatch_loses_nothing_and_a_rerun_sends_the_rest(
    pg: Container, pg_database_url: str, tmp_path: Path
) -> None:
    members = 120
    seed_campaign(pg.engine, pg.now(), members)
    launch_campaign(pg, CAMPAIGN)
    admin = admin_engine(pg_database_url)
    sink = StrikingSink(admin, strike_at=50)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        box = Container(
            settings=make_settings(
                pg_database_url,
                tmp_path,
                smtp_url=f"smtp://127.0.0.1:{port}",
                dispatch_batch_size=20,
            ),
            engine=pg.engine,
            clock=pg.clock,
        )
        with pytest.raises(sa.exc.OperationalError):
            dispatch_pending(box)
        assert sink.struck >= 1
        first_run = set(sink.accepted)
        marked = sent_addresses(pg.engine)
        # Never marked sent without having been accepted; some accepted ones are not marked.
        assert set(marked) <= first_run
        assert len(marked) < len(first_run)

        report = dispatch_pending(box)
    finally:
        controller.stop()
        admin.dispose()
    assert report.ok
    everyone = {f"sub{i}@example.com" for i in range(1, members + 1)}
    assert sorted(sent_addresses(pg.engine)) == sorted(everyone)  # each marked sent once
    assert set(sink.accepted) == everyone  # nothing lost
    # Resends are only those whose mark was lost with the connection: at most one batch.
    assert len(sink.accepted) - members <= 20
