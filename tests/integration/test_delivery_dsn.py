"""DSN (RFC 3461) with a server that offers it: every message goes out with its Message-ID as
the envelope id, and a bounce that carries nothing else still finds its message."""

from __future__ import annotations

import json
import socketserver
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.notify.dsn import read_report, unxtext, xtext
from makegood.notify.history import offer_messages
from makegood.notify.mime import ComposedEmail
from makegood.notify.smtp import AsyncSmtpTransport, Outgoing
from makegood.notify.tracking import address_hash
from makegood.services.dispatch import dispatch_pending
from tests.factories.outbox import Subscriber, message_row, seed_campaign
from tests.harness.settings import with_settings
from tests.harness.tcp import serving


class _DsnServer(socketserver.StreamRequestHandler):
    """A plain SMTP server that offers SIZE and DSN and keeps every MAIL and RCPT line."""

    def handle(self) -> None:
        lines: list[bytes] = self.server.lines  # type: ignore[attr-defined]
        self.wfile.write(b"220 relay ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-relay\r\n250-SIZE 10000000\r\n250 DSN\r\n")
            elif verb in (b"MAIL", b"RCPT"):
                lines.append(line.rstrip(b"\r\n"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def dsn_server() -> Iterator[tuple[list[bytes], str]]:
    with serving(_DsnServer, lines=[]) as (url, server):
        yield server.lines, url  # type: ignore[attr-defined]


def bare_dsn(envelope_id: str, action: str = "failed") -> bytes:
    """A DSN as some servers send it with RET=HDRS refused or ignored: no copy of the
    message at all, only the envelope id."""
    return (
        "From: MAILER-DAEMON@relay.example.net\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; relay.example.net\r\nOriginal-Envelope-Id: {envelope_id}\r\n\r\n"
        "Final-Recipient: rfc822; acc-dsn@example.com\r\n"
        f"Action: {action}\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "\r\n--B--\r\n"
    ).encode()


def test_envelope_id_goes_out_and_a_bounce_without_headers_comes_home(
    container: Container, dsn_server: tuple[list[bytes], str], tmp_path: Path
) -> None:
    lines, url = dsn_server
    box = with_settings(container, smtp_url=url)
    [offer] = seed_campaign(box.engine, [Subscriber("acc-dsn")], now=box.now())
    message_id = f"{offer.email_message_id}@claims.test"

    assert dispatch_pending(box).sent == 1

    mail, rcpt = lines
    assert mail.startswith(b"MAIL FROM:<care@example.com> SIZE=")
    assert mail.endswith(b" RET=HDRS ENVID=" + xtext(message_id))
    assert rcpt == b"RCPT TO:<acc-dsn@example.com> NOTIFY=FAILURE,DELAY"
    folder = tmp_path / "bounces"
    folder.mkdir()
    envid = mail.rsplit(b"ENVID=", 1)[1].decode()
    (folder / "1.eml").write_bytes(bare_dsn(envid))
    (folder / "2.eml").write_bytes(bare_dsn("msg_someone_else@elsewhere.test"))

    result = CliRunner().invoke(
        cli, ["bounces", "import", str(folder), "--json"], obj=box, catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 2, "recorded": 1, "ignored": 1}
    with box.uow() as uow:
        assert uow.deliveries.is_suppressed(address_hash(offer.address))
        history = offer_messages(uow, offer.offer_id)
    email = next(m for m in history if m.channel == "email")
    assert [(e.kind, e.source) for e in email.events] == [("accepted", "smtp"), ("bounced", "dsn")]
    assert message_row(box.engine, offer.inapp_message_id).urgent is True


@pytest.mark.parametrize(
    "value", ["msg_01abc@makegood.local", "a+b=c@x.test", "späť id", "+", "", "x\r\ny"]
)
def test_xtext_round_trips_and_stays_printable(value: str) -> None:
    encoded = xtext(value)

    assert all(33 <= b <= 126 for b in encoded)
    assert b"=" not in encoded
    assert unxtext(encoded.decode("ascii")) == value


def test_headers_win_over_the_envelope_id_and_malformed_escapes_are_kept() -> None:
    report = read_report(
        bare_dsn("other+40makegood.local").replace(
            b"\r\n--B--\r\n",
            b"\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            b"Message-ID: <msg_1@makegood.local>\r\n\r\n--B--\r\n",
        )
    )
    assert (report.original_message_id, report.kind) == ("<msg_1@makegood.local>", "bounced")
    assert read_report(bare_dsn("msg_2+4")).original_message_id == "<msg_2+4>"
    assert read_report(bare_dsn("msg_2+40makegood.local")).original_message_id == (
        "<msg_2@makegood.local>"
    )


def utf8_dsn(returned_type: str, returned: str) -> bytes:
    """An RFC 6533 bounce, as servers send it for mail to a UTF-8 address."""
    return (
        "From: MAILER-DAEMON@relay.example.net\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="U"\r\n'
        "\r\n--U\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNicht zustellbar.\r\n"
        "--U\r\nContent-Type: message/global-delivery-status\r\n\r\n"
        "Reporting-MTA: dns; relay.example.net\r\n\r\n"
        "Final-Recipient: utf-8; jürgen@beispiel.de\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--U\r\nContent-Type: {returned_type}\r\n\r\n{returned}\r\n--U--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("returned_type", "returned"),
    [
        ("message/global-headers", "Message-ID: <msg_7@makegood.local>\r\nSubject: Gutschrift\r\n"),
        (
            "message/global",
            "Message-ID: <msg_7@makegood.local>\r\nSubject: Gutschrift\r\n\r\nHallo Jürgen",
        ),
    ],
)
def test_utf8_reports_are_read_like_their_ascii_forms(returned_type: str, returned: str) -> None:
    report = read_report(utf8_dsn(returned_type, returned))

    assert (report.original_message_id, report.kind, report.detail) == (
        "<msg_7@makegood.local>",
        "bounced",
        "5.1.1",
    )


def test_an_envelope_id_longer_than_rfc_3461_allows_is_left_out(
    dsn_server: tuple[list[bytes], str],
) -> None:
    lines, url = dsn_server
    long_id = f"<msg_1@{'d' * 95}.example>"
    transport = AsyncSmtpTransport(url, timeout=5)
    try:
        outcomes = transport.send_many(
            [
                Outgoing(ComposedEmail(long_id, b"Subject: x\r\n\r\nhi\r\n"), "s@t", "a@t"),
                Outgoing(ComposedEmail("<msg_2@t>", b"Subject: x\r\n\r\nhi\r\n"), "s@t", "b@t"),
            ]
        )
    finally:
        transport.close()

    assert outcomes == [None, None]
    mails = sorted(line for line in lines if line.startswith(b"MAIL"))
    assert mails[0].endswith(b" RET=HDRS")  # msg_1: asks for headers, no envelope id
    assert mails[1].endswith(b" RET=HDRS ENVID=msg_2@t")
