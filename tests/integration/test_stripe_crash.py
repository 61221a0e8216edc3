"""Kill -9 a `makegood billing push` mid-run against the fake Stripe, then resume it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.billing_push import push
from makegood.store.engine import make_engine
from makegood.store.tables_billing import connector_postings, ledger_entries
from tests.factories.billing import add_account, add_credit, add_plan
from tests.harness.clock import FrozenClock
from tests.harness.stripe import FakeStripe, stripe_settings

CREDITS = 10
ANSWERED_BEFORE_CRASH = 4


def wait_until(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling a condition with a deadline, not synchronising by time


@pytest.mark.slow
def test_resuming_after_a_crash_posts_each_remaining_credit_once_and_none_twice(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    with FakeStripe() as fake:
        settings = stripe_settings(database_url, tmp_path, fake)
        container = Container(settings, make_engine(database_url), clock)
        with container.uow() as uow:
            add_plan(uow.conn)
            for n in range(CREDITS):
                account = add_account(uow.conn, f"acc-{n:02d}", stripe_customer_id=f"cus_{n:02d}")
                add_credit(uow.conn, account, 24 + n, datetime(2026, 3, 21, tzinfo=UTC))
            uow.commit()

        # The answer to request number 5 is held: the push is killed with that call in flight
        # (Stripe has processed it, the push has not recorded it).
        fake.hold_after = ANSWERED_BEFORE_CRASH
        env = {
            **os.environ,
            "MAKEGOOD_DATABASE_URL": database_url,
            "MAKEGOOD_BILLING_CONNECTOR": "stripe",
            "MAKEGOOD_STRIPE_API_KEY": "sk_test_makegood",
            "MAKEGOOD_STRIPE_API_BASE": fake.url,
            "MAKEGOOD_STRIPE_RATE_PER_SECOND": "0",
        }
        code = "from makegood.cli.main import main; main()"
        log = tmp_path / "push.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-c", code, "billing", "push"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            try:
                wait_until(
                    lambda: fake.count() == ANSWERED_BEFORE_CRASH + 1 or process.poll() is not None,
                    "the in-flight request",
                )
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL, log.read_text()
        in_flight = fake.keys_sent()[-1]
        fake.hold_after = None
        fake.release()

        with container.uow() as uow:
            states = Counter(uow.conn.execute(sa.select(connector_postings.c.state)).scalars())
        assert states == {"acked": ANSWERED_BEFORE_CRASH, "pending": CREDITS - 4}

        summary = push(container)

        assert summary.acked == CREDITS - ANSWERED_BEFORE_CRASH
        sent = Counter(fake.keys_sent())
        assert len(fake.created) == CREDITS  # one balance transaction per credit
        assert sent[in_flight] == 2  # resent with the same idempotency key, replayed by Stripe
        assert all(n == 1 for key, n in sent.items() if key != in_flight)
        assert len(sent) == CREDITS
        with container.uow() as uow:
            rows = uow.conn.execute(sa.select(connector_postings)).all()
            posted = uow.conn.execute(
                sa.select(ledger_entries.c.credit_id).where(ledger_entries.c.kind == "posted")
            ).scalars()
            posted_ids = list(posted)
        assert {row.state for row in rows} == {"acked"}
        assert {row.external_id for row in rows} == {t["id"] for t in fake.created.values()}
        assert len(posted_ids) == len(set(posted_ids)) == CREDITS
        assert push(container).requests == 0
        container.engine.dispose()
