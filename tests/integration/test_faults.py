"""Faults on PostgreSQL: the database connection dropped (pg_terminate_backend) in the middle of
a claim and a dispatch (a launch's: test_launch_resume.py); and, on SQLite and
PostgreSQL, the mail server refusing (nothing listening, 421) or hanging (silent from the start,
or silent after taking a whole message) during a dispatch. Each proves that nothing was
half-written, lost or doubled, and that running the step again completes it.

The moment to strike is found without sleeping: inside the step (its progress callback, an SMTP
server's reply, SQLAlchemy's before_cursor_execute on the statement that matters) or by polling
pg_stat_activity until the victim's backend is mid-transaction.
"""

from __future__ import annotations

import asyncio
import json
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from sqlalchemy import event

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.domain.errors import OfferAlreadyClaimed
from makegood.domain.retry import UNREACHABLE_AFTER
from makegood.notify.mime import message_id
from makegood.services.claims import claim_offer
from makegood.services.dispatch import dispatch_pending
from makegood.services.launch import launch_campaign
from makegood.store import outbox as outbox_store
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.tables_billing import ledger_entries
from makegood.store.tables_notify import message_events
from tests.factories import outbox as outbox_factory
from tests.factories.offers import seed_offer
from tests.factories.outbox import SeededOffer, Subscriber
from tests.harness.clock import FrozenClock
from tests.harness.net import free_port
from tests.harness.postgres import admin_engine, terminate_other_backends
from tests.harness.settings import make_settings
from tests.harness.tcp import serving

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


def test_connection_dropped_during_a_claim_credits_once_and_a_retry_works(
    pg: Container, pg_database_url: str
) -> None:
    seeded = seed_offer(pg.engine, pg.now())
    admin = admin_engine(pg_database_url)
    struck: list[int] = []

    def strike_before_commit(conn: Any) -> None:
        # The offer moved to claimed and the credit, ledger and audit rows are written, but
        # not committed: the worst moment to lose the connection.
        if not struck:
            struck.append(terminate_other_backends(admin, in_transaction_only=True))

    event.listen(pg.engine, "commit", strike_before_commit)
    try:
        with pg.uow() as uow:
            claim_offer(uow, seeded.token, pg.now())
            with pytest.raises(sa.exc.OperationalError):
                uow.commit()  # the claim's caller commits: the connection dies there
    finally:
        event.remove(pg.engine, "commit", strike_before_commit)
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
        uow.commit()
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


# -- The mail server refusing or hanging during a dispatch (SQLite and PostgreSQL) ------------
#
# Documented behaviour (dispatch.py, batch.py, smtp.py): a connection failure is temporary; the
# transport stops trying a batch after FAIL_FAST_AFTER of them, and the run stops after
# UNREACHABLE_AFTER in a row, counting an attempt on those messages only: the others stay
# 'pending', untouched. Nothing is dead (dispatch_max_attempts is 5), and a rerun sends each
# message once, under its own Message-ID.

MAILS = 20
BATCH = 8  # messages in flight at once: one batch on SQLite, two halves on PostgreSQL
CONNECTIONS = 4
HANG_TIMEOUT = 0.5  # seconds: smtp_timeout_seconds while the server hangs


def mailing(container: Container, url: str, **changes: object) -> Container:
    """The container with the SMTP server at `url` and the batch shape above."""
    update = {
        "smtp_url": url,
        "dispatch_batch_size": BATCH,
        "smtp_connections": CONNECTIONS,
        **changes,
    }
    return replace(container, settings=container.settings.model_copy(update=update))


def seed_mails(container: Container) -> list[SeededOffer]:
    subscribers = [Subscriber(f"acc-{n:02d}") for n in range(MAILS)]
    return outbox_factory.seed_campaign(container.engine, subscribers, now=container.now())


def message_id_of(raw: bytes) -> str:
    return str(message_from_bytes(raw)["Message-ID"])


class MessageIdSink:
    """A healthy SMTP server (aiosmtpd handler): accepts everything, keeps each Message-ID."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.ids.append(message_id_of(envelope.original_content))
        return "250 2.0.0 accepted"


class SilentAfterData(MessageIdSink):
    """Takes each message whole (DATA and its content), keeps its Message-ID, never replies."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.ids.append(message_id_of(envelope.original_content))
        await self.release.wait()
        return "250 2.0.0 accepted too late"


class ClosingAtMail:
    """Greets, then answers every MAIL FROM with 421 (service not available, closing)."""

    def __init__(self) -> None:
        self.refused = 0

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        self.refused += 1
        return "421 4.3.2 service not available, closing transmission channel"


class OneMessagePerSession(MessageIdSink):
    """Accepts one message per session, then answers the next MAIL FROM with 421 (as servers
    with a per-session limit do)."""

    def __init__(self) -> None:
        super().__init__()
        self.closed_sessions = 0

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        if getattr(session, "took_one", False):
            self.closed_sessions += 1
            return "421 4.7.0 too many messages in this session, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        session.took_one = True
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def smtp_server(handler: Any, port: int | None = None) -> Iterator[str]:
    """A real SMTP server (aiosmtpd, in-process) with `handler`; yields its URL."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        if isinstance(handler, SilentAfterData):
            controller.loop.call_soon_threadsafe(handler.release.set)
        controller.stop()


class _Busy(socketserver.BaseRequestHandler):
    """Greets with 421 and hangs up."""

    def handle(self) -> None:
        self.server.accepted.append(1)  # type: ignore[attr-defined]
        self.request.sendall(b"421 4.3.2 service not available\r\n")


class _Silent(socketserver.BaseRequestHandler):
    """Accepts the connection and never says a word, until the test ends."""

    def handle(self) -> None:
        self.server.accepted.append(1)  # type: ignore[attr-defined]
        self.server.release.wait()  # type: ignore[attr-defined]


@contextmanager
def tcp_server(handler: type[socketserver.BaseRequestHandler]) -> Iterator[tuple[str, list[int]]]:
    """A bare TCP server; yields its smtp:// URL and the list of connections it accepted."""
    with serving(handler, accepted=[], release=threading.Event()) as (url, server):
        try:
            yield url, server.accepted  # type: ignore[attr-defined]
        finally:
            server.release.set()  # type: ignore[attr-defined]


def dispatch_cli(container: Container) -> Result:
    return CliRunner().invoke(cli, ["dispatch", "--json"], obj=container, catch_exceptions=False)


def outbox(engine: sa.Engine) -> dict[str, Any]:
    """The e-mail outbox rows by id (launch e-mails still on their offers too)."""
    m = outbox_store.all_messages()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.c.id, m.c.state, m.c.attempts, m.c.claim_token, m.c.last_error).where(
                m.c.channel == "email"
            )
        ).all()
    return {row.id: row for row in rows}


def event_kinds(engine: sa.Engine) -> Counter[str]:
    with engine.connect() as conn:
        kinds = conn.execute(sa.select(message_events.c.kind)).scalars()
        return Counter(kinds)


def assert_nothing_lost(
    container: Container, offers: list[SeededOffer], counts: dict[str, Any], reason: str
) -> dict[str, int]:
    """After a run against a server that refused or hung: nothing sent, nothing dead, an
    attempt counted on UNREACHABLE_AFTER messages only, every raw claim token still there to
    render the retry. Returns the attempts of each message."""
    assert (counts["sent"], counts["failed"], counts["dead"]) == (0, UNREACHABLE_AFTER, 0)
    assert counts["stopped"] == "mail server unreachable; the rest stays queued"
    rows = outbox(container.engine)
    assert len(rows) == MAILS
    states = Counter(row.state for row in rows.values())
    assert states == {"failed": UNREACHABLE_AFTER, "pending": MAILS - UNREACHABLE_AFTER}
    for offer in offers:
        row = rows[offer.email_message_id]
        assert offer.token is not None
        assert row.claim_token == offer.token
        if row.state == "failed":
            assert row.attempts == 1
            assert reason in row.last_error
        else:
            assert (row.attempts, row.last_error) == (0, None)
    assert event_kinds(container.engine) == {"deferred": UNREACHABLE_AFTER}
    return {mid: row.attempts for mid, row in rows.items()}


def assert_each_sent_once(
    container: Container,
    offers: list[SeededOffer],
    counts: dict[str, Any],
    received: list[str],
    attempts_before: dict[str, int],
) -> None:
    """After the rerun against a healthy server: every message accepted exactly once (counted
    at the server by Message-ID), marked sent once, its raw token erased."""
    assert (counts["sent"], counts["failed"], counts["dead"]) == (MAILS, 0, 0)
    assert counts["stopped"] is None
    expected = {message_id(o.email_message_id, container.settings) for o in offers}
    assert len(expected) == MAILS
    assert Counter(received) == dict.fromkeys(expected, 1)
    rows = outbox(container.engine)
    for offer in offers:
        row = rows[offer.email_message_id]
        assert (row.state, row.claim_token) == ("sent", None)
        assert row.attempts == attempts_before[offer.email_message_id] + 1
    kinds = event_kinds(container.engine)
    assert kinds == {"deferred": UNREACHABLE_AFTER, "accepted": MAILS}


def rerun_against_a_healthy_server(
    container: Container, offers: list[SeededOffer], attempts: dict[str, int]
) -> MessageIdSink:
    """Dispatch again to a healthy server; each message goes out exactly once."""
    sink = MessageIdSink()
    with smtp_server(sink) as url:
        rerun = dispatch_pending(mailing(container, url))
    assert_each_sent_once(container, offers, report_counts(rerun), sink.ids, attempts)
    return sink


def report_counts(report: Any) -> dict[str, Any]:
    return {
        "sent": report.sent,
        "failed": report.failed,
        "dead": report.dead,
        "stopped": report.stopped,
    }


def test_smtp_server_refusing_connections_loses_nothing_and_a_rerun_sends_each_once(
    container: Container,
) -> None:
    offers = seed_mails(container)
    port = free_port()  # nothing listens here until the healthy server starts
    box = mailing(container, f"smtp://127.0.0.1:{port}")

    first = dispatch_cli(box)

    assert first.exit_code == 1
    assert "dispatch stopped early: mail server unreachable" in first.stderr
    assert "@" not in first.stderr  # no addresses
    assert not any(o.token and o.token in first.stderr + first.stdout for o in offers)
    attempts = assert_nothing_lost(box, offers, json.loads(first.stdout), "cannot reach")

    sink = MessageIdSink()
    with smtp_server(sink, port):
        second = dispatch_cli(box)

    assert second.exit_code == 0, second.stderr
    assert_each_sent_once(box, offers, json.loads(second.stdout), sink.ids, attempts)


@pytest.mark.parametrize("where", ["greeting", "mail_from"])
def test_smtp_server_answering_421_loses_nothing_and_a_rerun_sends_each_once(
    container: Container, where: str
) -> None:
    offers = seed_mails(container)
    if where == "greeting":
        with tcp_server(_Busy) as (url, accepted):
            report = dispatch_pending(mailing(container, url))
        tried = len(accepted)
    else:
        closing = ClosingAtMail()
        with smtp_server(closing) as url:
            report = dispatch_pending(mailing(container, url))
        tried = closing.refused

    # 421 is about the server, not a message: the run stops as for an unreachable server.
    assert 1 <= tried <= BATCH
    attempts = assert_nothing_lost(container, offers, report_counts(report), "421 4.3.2")

    rerun_against_a_healthy_server(container, offers, attempts)


def test_smtp_server_silent_from_the_start_times_out_and_a_rerun_sends_each_once(
    container: Container,
) -> None:
    offers = seed_mails(container)
    with tcp_server(_Silent) as (url, accepted):
        # Ends, bounded by the timeout: one round of timeouts, not one per message.
        report = dispatch_pending(mailing(container, url, smtp_timeout_seconds=HANG_TIMEOUT))
        assert len(accepted) <= BATCH < MAILS
    attempts = assert_nothing_lost(container, offers, report_counts(report), "Timeout")

    rerun_against_a_healthy_server(container, offers, attempts)


def test_smtp_server_silent_after_data_resends_only_what_it_took_under_the_same_message_id(
    container: Container,
) -> None:
    offers = seed_mails(container)
    hanging = SilentAfterData()
    with smtp_server(hanging) as url:
        report = dispatch_pending(mailing(container, url, smtp_timeout_seconds=HANG_TIMEOUT))
        with hanging.lock:
            taken = list(hanging.ids)
    # The server took these whole but never said 250: not marked sent, so they go out again.
    assert 1 <= len(taken) <= BATCH < MAILS
    attempts = assert_nothing_lost(container, offers, report_counts(report), "timed out")

    sink = rerun_against_a_healthy_server(container, offers, attempts)
    # The repeats: each at most once, under the Message-ID the healthy server also got once.
    assert len(set(taken)) == len(taken)
    assert set(taken) <= set(sink.ids)


def test_smtp_server_closing_kept_sessions_with_421_costs_no_attempt(
    container: Container,
) -> None:
    offers = seed_mails(container)
    limited = OneMessagePerSession()
    with smtp_server(limited) as url:
        report = dispatch_pending(mailing(container, url))

    # Each kept connection is refused with 421 once, and the message is tried again at once
    # on a fresh one: all accepted in one run, none counted as a failed attempt.
    assert limited.closed_sessions >= 1
    counts = report_counts(report)
    assert (counts["sent"], counts["failed"], counts["dead"]) == (MAILS, 0, 0)
    expected = {message_id(o.email_message_id, container.settings) for o in offers}
    assert Counter(limited.ids) == dict.fromkeys(expected, 1)
    rows = outbox(container.engine)
    assert len(rows) == MAILS
    assert all((r.state, r.attempts, r.claim_token) == ("sent", 1, None) for r in rows.values())
    assert event_kinds(container.engine) == {"accepted": MAILS}
