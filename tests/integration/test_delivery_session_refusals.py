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
from makegood.notify.delivery import MailTransport, TemporaryFailure
from makegood.notify.mime import ComposedEmail
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


class _ClosingAtMailOnce(RecordingHandler):
    """Accepts mail, except that the MAIL FROM of one chosen message (by count) is answered
    421 (closing the channel); records the session each accepted message came on."""

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse = refuse  # 1-based: which MAIL FROM is answered 421
        self.mails = 0
        self.sessions: list[int] = []

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        self.mails += 1
        if self.mails == self.refuse:
            return "421 4.7.0 closing transmission channel"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.sessions.append(id(session))
        return await super().handle_DATA(server, session, envelope)


def _send(transport: SmtpTransport, recipient: str) -> None:
    message = ComposedEmail("<x@t>", b"Subject: x\r\n\r\nhi\r\n")
    transport.send(message, sender="s@t", recipient=recipient)


def test_smtplib_drops_the_connection_a_421_to_mail_from_closed() -> None:
    """smtplib closes its socket after 421; the transport must not keep that connection: a
    kept one refused so is tried again at once on a fresh one, and after a 421 on a fresh one
    the next message opens its own."""
    kept = _ClosingAtMailOnce(refuse=2)
    for url in _aiosmtpd(kept):
        transport = SmtpTransport(f"smtp://{url}", timeout=5)
        try:
            for n in (1, 2, 3):
                _send(transport, f"r{n}@example.org")
        finally:
            transport.close()
    assert [rcpts for rcpts, _raw in kept.received] == [[f"r{n}@example.org"] for n in (1, 2, 3)]
    assert len(set(kept.sessions)) == 2  # message 2 and 3 on the one opened after the 421

    fresh = _ClosingAtMailOnce(refuse=1)
    for url in _aiosmtpd(fresh):
        transport = SmtpTransport(f"smtp://{url}", timeout=5)
        try:
            with pytest.raises(TemporaryFailure, match="421"):
                _send(transport, "r1@example.org")
            _send(transport, "r2@example.org")
        finally:
            transport.close()
    assert [rcpts for rcpts, _raw in fresh.received] == [["r2@example.org"]]
