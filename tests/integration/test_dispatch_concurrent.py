"""Several dispatch workers on one PostgreSQL outbox: every e-mail goes out exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.notify.transports import FileTransport
from makegood.services.dispatch import DispatchReport, dispatch_pending
from makegood.store import tables as t
from makegood.store.engine import make_engine
from tests.factories.outbox import Subscriber, seed_campaign
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings


class CountingTransport(FileTransport):
    """Writes files like the demo transport and counts every hand-over per Message-ID."""

    def __init__(self, directory: Path, counts: Counter[str], lock: threading.Lock) -> None:
        super().__init__(directory)
        self.counts = counts
        self.lock = lock

    def send(self, message, *, sender, recipient):  # type: ignore[no-untyped-def]
        super().send(message, sender=sender, recipient=recipient)
        with self.lock:
            self.counts[message.message_id] += 1


@pytest.mark.postgres
def test_concurrent_workers_send_each_message_once(
    pg_database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(pg_database_url, tmp_path)
    engine = make_engine(pg_database_url, pool_size=8)
    box = Container(settings=settings, engine=engine, clock=clock)
    offers = seed_campaign(engine, [Subscriber(f"acc-{n:03d}") for n in range(120)], now=clock())
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    reports: list[DispatchReport] = []
    start = threading.Barrier(4)

    def worker() -> None:
        transport = CountingTransport(tmp_path / "mail", counts, lock)
        start.wait()
        report = dispatch_pending(replace(box), transport=transport, batch_size=7)
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.sent for r in reports) == 120
    assert len(counts) == 120
    assert set(counts.values()) == {1}
    with engine.connect() as conn:
        states = conn.execute(
            sa.select(t.messages.c.state, sa.func.count())
            .where(t.messages.c.channel == "email")
            .group_by(t.messages.c.state)
        ).all()
    assert dict(states) == {"sent": len(offers)}
    engine.dispose()
