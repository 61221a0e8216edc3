"""A 5xx before any recipient is named (the greeting, AUTH, MAIL FROM) is about our server or
settings, not about the subscriber: both SMTP transports keep the message queued as for a
connection failure (no attempt used, a `deferred` event), never `dead`, `bounced` or
suppressed. Real servers: aiosmtpd, and a hand-written one for the greeting."""

from __future__ import annotations

import socketserver
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from makegood.bootstrap import Container
from makegood.notify.delivery import MailTransport
from makegood.notify.smtp import AsyncSmtpTransport
from makegood.notify.tracking import address_hash
from makegood.notify.transports import SmtpTransport
from makegood.services.dispatch import dispatch_pending
from makegood.store import tables as t
from makegood.store.tables_notify import message_events
from tests.factories.outbox import Subscriber, seed_campaign
from tests.harness.net import free_port
from tests.harness.settings import with_settings
from tests.harness.smtp import RecordingHandler
from tests.harness.tcp import serving


class _RefusingGreeting(socketserver.StreamRequestHandler):
    """A server that answers the connection with 554 (RFC 5321 3.1: no SMTP service here)."""

    def handle(self) -> None:
        self.wfile.write(b"554 5.3.2 no service for you\r\n")
        while line := self.rfile.readline():
            if line[:4].upper() == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            self.wfile.write(b"503 5.5.1 no service\r\n")


class _RefusingSender(RecordingHandler):
    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        return "550 5.7.1 this sender is not allowed to send here"


def _refuse_every_login(*_args: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)  # aiosmtpd answers 535 itself


def _aiosmtpd(handler: Any, **options: Any) -> Iterator[str]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        controller.stop()


def _greeting() -> Iterator[str]:
    with serving(_RefusingGreeting) as (url, _server):
        yield url.removeprefix("smtp://")


def _auth() -> Iterator[str]:
    # AUTH over plain text is allowed here only because the test server is on loopback.
    for where in _aiosmtpd(
        RecordingHandler(), authenticator=_refuse_every_login, auth_require_tls=False
    ):
        yield f"care:wrong@{where}"


def _mail_from() -> Iterator[str]:
    yield from _aiosmtpd(_RefusingSender())


STAGES: dict[str, Callable[[], Iterator[str]]] = {
    "greeting": _greeting,
    "auth": _auth,
    "mail_from": _mail_from,
}
TRANSPORTS: dict[str, Callable[[str], MailTransport]] = {
    "smtplib": lambda url: SmtpTransport(url, timeout=5),
    "aiosmtplib": lambda url: AsyncSmtpTransport(url, timeout=5, connections=2),
}


@pytest.fixture(params=sorted(STAGES))
def refusing_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """smtp://[user:password@]host:port of a server that refuses at one stage of the session."""
    for where in STAGES[request.param]():
        yield f"smtp://{where}"


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_a_refusal_before_any_recipient_keeps_the_message_queued_and_blames_no_one(
    container: Container, refusing_server: str, kind: str
) -> None:
    box = with_settings(container, smtp_url=refusing_server)
    offers = seed_campaign(box.engine, [Subscriber("acc-a"), Subscriber("acc-b")], now=box.now())
    transport = TRANSPORTS[kind](refusing_server)
    try:
        report = dispatch_pending(box, transport=transport)
    finally:
        transport.close()

    assert (report.sent, report.dead) == (0, 0)
    assert report.failed >= 1
    with box.engine.connect() as conn:
        kinds = set(conn.execute(sa.select(message_events.c.kind)).scalars())
    assert "bounced" not in kinds
    m = t.messages
    with box.engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.c.state, m.c.attempts, m.c.unreached, m.c.last_error).where(
                m.c.channel == "email"
            )
        ).all()
    assert rows, "the refusal was recorded on the messages"
    for row in rows:
        assert row.state == "failed"  # queued for a retry, not dead
        assert row.attempts == row.unreached  # no attempt used: retried as an outage is
        assert " refused the s" in row.last_error  # the session, or the sender
    for offer in offers:
        with box.uow() as uow:
            assert not uow.deliveries.is_suppressed(address_hash(offer.address))


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_a_refused_recipient_is_the_messages_own_dead_bounced_and_suppressed(
    container: Container, smtp: tuple[RecordingHandler, str], kind: str
) -> None:
    """The other side of the line: a 5xx to RCPT TO names the address, on either transport."""
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    refused, taken = seed_campaign(
        box.engine, [Subscriber("acc-a"), Subscriber("acc-b")], now=box.now()
    )
    handler.replies[refused.address] = "550 5.1.1 no such mailbox"
    transport = TRANSPORTS[kind](url)
    try:
        report = dispatch_pending(box, transport=transport)
    finally:
        transport.close()

    assert (report.sent, report.dead) == (1, 1)
    with box.uow() as uow:
        assert uow.deliveries.is_suppressed(address_hash(refused.address))
        assert not uow.deliveries.is_suppressed(address_hash(taken.address))
    with box.engine.connect() as conn:
        kinds = list(conn.execute(sa.select(message_events.c.kind)).scalars())
    assert sorted(kinds) == ["accepted", "bounced"]
