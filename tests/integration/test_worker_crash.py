"""Crash test: kill -9 a worker in the middle of a batch, start another, and lose nothing.

The SMTP sink accepts the first messages at once and then holds every further message at the
end of DATA (before its reply) until the test releases it, so the kill is certain to land in
the middle of a batch: some of the batch accepted, some in flight, the marks uncommitted.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from makegood.store.engine import make_engine
from tests.factories.outbox import Subscriber, seed_campaign
from tests.harness.net import free_port, wait_for
from tests.harness.rows import email_states

BATCH = 20
TOTAL = 100
OPEN_FOR = 35  # accepted before the sink holds replies; not a multiple of any batch


@dataclass
class GatedSink:
    """Records each accepted message's Message-ID; past `open_for`, waits for `gate`."""

    open_for: int
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    accepted: list[str] = field(default_factory=list)
    held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            must_wait = len(self.accepted) + self.held >= self.open_for
            if must_wait:
                self.held += 1
        if must_wait:
            await self.gate.wait()
        headers = BytesHeaderParser().parsebytes(envelope.original_content)
        with self.lock:
            self.accepted.append(str(headers["Message-ID"]))
        return "250 2.0.0 accepted"

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return len(self.accepted), self.held


@pytest.fixture
def gated_sink() -> Iterator[tuple[GatedSink, Controller, str]]:
    sink = GatedSink(open_for=OPEN_FOR)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, controller, f"smtp://127.0.0.1:{port}"
    finally:
        controller.loop.call_soon_threadsafe(sink.gate.set)
        controller.stop()


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "makegood", "worker", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def other_sessions(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar_one()
        )


@pytest.mark.postgres
@pytest.mark.slow
def test_kill_9_mid_batch_then_restart_delivers_everything_at_least_once(
    pg_database_url: str, gated_sink: tuple[GatedSink, Controller, str]
) -> None:
    sink, controller, url = gated_sink
    engine = make_engine(pg_database_url)
    offers = seed_campaign(
        engine, [Subscriber(f"acc-{n:03d}") for n in range(TOTAL)], now=datetime.now(UTC)
    )
    expected = {f"<{o.email_message_id}@claims.test>" for o in offers}
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": pg_database_url,
        "MAKEGOOD_SMTP_URL": url,
        "MAKEGOOD_PUBLIC_URL": "http://claims.test",
        "MAKEGOOD_DISPATCH_BATCH_SIZE": str(BATCH),
        "MAKEGOOD_SMTP_CONNECTIONS": "4",
    }
    first = start_worker(env)
    try:
        wait_for(
            lambda: sink.counts()[0] >= OPEN_FOR and sink.counts()[1] >= 1,
            what="the sink to hold messages mid-batch",
        )
        first.kill()  # SIGKILL: no handler runs, no commit happens
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    accepted_before, _ = sink.counts()
    assert 0 < accepted_before < TOTAL
    assert email_states(engine).get("pending", 0) > 0  # the crash left work behind

    # The killed process's transaction must be gone before its rows can be taken again.
    wait_for(lambda: other_sessions(engine) == 0, what="the killed worker's session to end")
    controller.loop.call_soon_threadsafe(sink.gate.set)
    second = start_worker(env, "--once")
    _, stderr = second.communicate(timeout=120)

    assert second.returncode == 0, stderr
    assert email_states(engine) == {"sent": TOTAL}
    received = Counter(sink.accepted)
    assert set(received) == expected  # every message accepted at least once ...
    repeats = sum(received.values()) - TOTAL
    assert 0 < repeats <= BATCH  # ... and the repeats are bounded by one batch
    engine.dispose()
