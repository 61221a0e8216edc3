"""Several dispatch workers on one PostgreSQL outbox: every e-mail goes out exactly once,
launch e-mails still on their offers included (the workers write their rows as they take them).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.tokens import hash_token
from makegood.notify.transports import FileTransport
from makegood.services.dispatch import DispatchReport, dispatch_pending
from makegood.services.launch import launch_campaign
from makegood.store import tables as t
from makegood.store.engine import make_engine
from tests.factories.outbox import Subscriber, approved_campaign, seed_campaign
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings
from tests.harness.smtp import RecordingHandler, body


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


@pytest.mark.postgres
def test_workers_over_smtp_take_and_send_each_launch_email_once(
    pg_database_url: str,
    tmp_path: Path,
    clock: FrozenClock,
    smtp: tuple[RecordingHandler, str],
) -> None:
    """A real launch leaves its e-mails on the offers; four workers on one PostgreSQL outbox,
    each sending to a real SMTP server, write each e-mail's row and send it exactly once, with
    the link its offer was issued."""
    handler, url = smtp
    settings = make_settings(pg_database_url, tmp_path, smtp_url=url, launch_chunk_size=40)
    engine = make_engine(pg_database_url, pool_size=8)
    box = Container(settings=settings, engine=engine, clock=clock)
    n = 150
    campaign_id = approved_campaign(engine, [Subscriber(f"acc-{i:03d}") for i in range(n)], clock())
    assert launch_campaign(box, campaign_id).offers == n
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.messages)).scalar_one() == 0
        # Where the e-mails are: a range per chunk of 40, not an index entry per offer.
        assert _count(conn, t.launch_email_ranges) == 4
    reports: list[DispatchReport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        try:
            report = dispatch_pending(replace(box), batch_size=6)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            reports.append(report)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r.sent for r in reports) == n
    assert sum(r.processed for r in reports) == n
    with engine.connect() as conn:
        issued = dict(conn.execute(sa.select(t.offers.c.account_id, t.offers.c.token_hash)).all())
        m, o = t.messages, t.offers
        assert dict(
            conn.execute(sa.select(m.c.state, sa.func.count()).group_by(m.c.state)).all()
        ) == {"sent": n}
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(m.c.claim_token.is_not(None))
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(
                    sa.or_(o.c.email_state.is_not(None), o.c.email_token.is_not(None))
                )
            ).scalar_one()
            == 0
        )
    with box.uow() as uow:  # ranges left behind by batches in flight at once go now
        assert uow.outbox.take_launch_emails(clock(), 10) == []
        uow.commit()
    with engine.connect() as conn:
        assert _count(conn, t.launch_email_ranges) == 0
    assert len(handler.received) == n
    for account_id, token_hash in issued.items():
        [mail] = handler.messages_to(f"{account_id}@example.com")
        [link] = re.findall(r"/claim/([A-Za-z0-9_-]+)", body(mail, "plain"))
        assert hash_token(link) == token_hash
    engine.dispose()


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
