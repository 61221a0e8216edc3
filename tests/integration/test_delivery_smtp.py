"""The aiosmtplib transport against real servers that misbehave: hang, hang up mid-message."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from makegood.bootstrap import Container
from makegood.notify.delivery import PermanentFailure, TemporaryFailure
from makegood.notify.mime import ComposedEmail
from makegood.notify.smtp import FAIL_FAST_AFTER, AsyncSmtpTransport, Outgoing
from makegood.notify.smtp_endpoint import parse_smtp_url
from makegood.services.dispatch import dispatch_pending
from makegood.store.tables_notify import message_events
from tests.factories.outbox import Subscriber, message_row, seed_campaign
from tests.harness.net import free_port
from tests.harness.settings import with_settings
from tests.harness.smtp import RecordingHandler, one_message
from tests.harness.tcp import serving


class HangingHandler:
    """Takes the message, then never answers DATA until the test releases it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.arrived = threading.Event()
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        self.arrived.set()
        await self.release.wait()
        return "250 OK"


@pytest.fixture
def hanging_smtp() -> Iterator[tuple[HangingHandler, str]]:
    handler = HangingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.loop.call_soon_threadsafe(handler.release.set)
        controller.stop()


class _HangUpMidMessage(socketserver.StreamRequestHandler):
    """Speaks SMTP until DATA, reads part of the message, then closes the connection."""

    def handle(self) -> None:
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                self.rfile.readline()  # the first line of the message, then hang up
                self.server.cut.set()  # type: ignore[attr-defined]
                return
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def hang_up_server() -> Iterator[tuple[threading.Event, str]]:
    with serving(_HangUpMidMessage, cut=threading.Event()) as (url, server):
        yield server.cut, url  # type: ignore[attr-defined]


def events_of(container: Container, message_id: str) -> list[tuple[str, str | None]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(message_events.c.kind, message_events.c.detail)
            .where(message_events.c.message_id == message_id)
            .order_by(message_events.c.id)
        ).all()
    return [(r.kind, r.detail) for r in rows]


def test_a_server_that_hangs_times_out_and_the_message_is_retried_later(
    container: Container, hanging_smtp: tuple[HangingHandler, str]
) -> None:
    handler, url = hanging_smtp
    box = with_settings(container, smtp_url=url, smtp_timeout_seconds=0.5)
    [offer] = seed_campaign(box.engine, [Subscriber("acc-1")], now=box.now())

    report = dispatch_pending(box)

    assert handler.arrived.is_set()
    assert (report.sent, report.failed) == (0, 1)
    row = message_row(box.engine, offer.email_message_id)
    assert (row.state, row.attempts) == ("failed", 1)
    assert "timed out" in row.last_error
    assert [k for k, _ in events_of(box, offer.email_message_id)] == ["deferred"]


def test_a_hanging_server_costs_one_round_of_timeouts_per_batch_not_one_per_message(
    container: Container, hanging_smtp: tuple[HangingHandler, str]
) -> None:
    handler, url = hanging_smtp
    box = with_settings(container, smtp_url=url, smtp_timeout_seconds=0.5, smtp_connections=4)
    offers = seed_campaign(box.engine, [Subscriber(f"acc-{n}") for n in range(8)], now=box.now())

    report = dispatch_pending(box)

    # One per connection; under load a connection may time out before another has even
    # reached DATA, and its freed slot tries one more message until FAIL_FAST_AFTER failures
    # in a row: at most that many more. Never all eight.
    assert 4 <= handler.count <= 4 + FAIL_FAST_AFTER - 1 < len(offers)
    assert (report.sent, report.failed) == (0, 3)
    assert report.stopped is not None
    states = sorted(message_row(box.engine, o.email_message_id).state for o in offers)
    assert states == ["failed"] * 3 + ["pending"] * 5


def test_a_dropped_connection_mid_message_is_retried_with_the_same_message_id(
    container: Container,
    hang_up_server: tuple[threading.Event, str],
    smtp: tuple[RecordingHandler, str],
) -> None:
    cut, bad_url = hang_up_server
    [offer] = seed_campaign(container.engine, [Subscriber("acc-1")], now=container.now())

    first = dispatch_pending(with_settings(container, smtp_url=bad_url))

    assert cut.is_set()
    assert (first.sent, first.failed) == (0, 1)
    row = message_row(container.engine, offer.email_message_id)
    assert row.state == "failed"
    assert row.claim_token == offer.token  # still there to render the retry
    assert "lost" in row.last_error

    handler, good_url = smtp
    second = dispatch_pending(with_settings(container, smtp_url=good_url))

    assert second.sent == 1
    [mail] = handler.messages_to(offer.address)
    assert mail["Message-ID"] == f"<{offer.email_message_id}@claims.test>"


def test_send_many_reports_each_outcome_in_order(smtp: tuple[RecordingHandler, str]) -> None:
    handler, url = smtp
    handler.replies["b@example.com"] = "450 4.2.0 try later"
    handler.replies["c@example.com"] = "550 5.1.1 unknown"
    transport = AsyncSmtpTransport(url, timeout=5, connections=3)
    batch = [
        Outgoing(ComposedEmail(f"<{n}@t>", b"Subject: x\r\n\r\nhi\r\n"), "s@t", f"{n}@example.com")
        for n in "abcde"
    ]
    try:
        first = transport.send_many(batch)
        second = transport.send_many(batch[:1])  # the connections are kept between batches
    finally:
        transport.close()

    assert [type(o).__name__ if o else None for o in first] == [
        None,
        TemporaryFailure.__name__,
        PermanentFailure.__name__,
        None,
        None,
    ]
    assert isinstance(first[2], PermanentFailure)
    assert first[2].recipient_refused
    assert second == [None]
    assert len(handler.received) == 4


def test_unreachable_port_is_a_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = AsyncSmtpTransport(f"smtp://127.0.0.1:{port}", timeout=2)
    try:
        [outcome] = transport.send_many([one_message("a@example.com")])
    finally:
        transport.close()
    assert outcome is not None
    assert outcome.connection
    assert outcome.temporary


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "starttls", "user"),
    [
        ("smtp://127.0.0.1:2525", "127.0.0.1", 2525, False, False, None),
        ("smtp+starttls://u:p%40ss@mail.test", "mail.test", 587, False, True, "u"),
        ("smtps://mail.test", "mail.test", 465, True, False, None),
        ("smtp://mail.test:587?starttls=1", "mail.test", 587, False, True, None),
    ],
)
def test_smtp_url_forms(
    url: str, host: str, port: int, tls: bool, starttls: bool, user: str | None
) -> None:
    ep = parse_smtp_url(url)
    assert (ep.host, ep.port, ep.implicit_tls, ep.starttls, ep.username) == (
        host,
        port,
        tls,
        starttls,
        user,
    )
    assert "p" not in ep.label.replace("mail.test", "")
