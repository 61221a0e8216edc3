"""The MIME form of an offer e-mail, address masking, and the .eml file transport."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from makegood.notify.delivery import mask_addresses
from makegood.notify.mime import ComposedEmail, InvalidRecipient, compose_email, message_id
from makegood.notify.render import RenderedEmail
from makegood.notify.transports import FileTransport, SmtpTransport
from makegood.settings import Settings

SETTINGS = Settings(mail_from="Care <care@streamco.test>", message_id_domain="mail.streamco.test")
NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
RENDERED = RenderedEmail(
    subject="Désolés : un avoir de 0,30 € vous attend",
    text="Bonjour,\nhttp://claims.test/claim/abc\n",
    html="<p>Bonjour, <a href='http://claims.test/claim/abc'>ici</a></p>",
    language="fr",
)


def compose(outbox_id: str = "msg_01", recipient: str = "ana@example.org") -> ComposedEmail:
    return compose_email(
        RENDERED,
        outbox_id=outbox_id,
        recipient=recipient,
        locale="fr-FR",
        settings=SETTINGS,
        now=NOW,
    )


def test_composed_message_has_transactional_headers_and_two_parts() -> None:
    parsed = message_from_bytes(compose().data, policy=policy.default)

    assert parsed["Message-ID"] == "<msg_01@mail.streamco.test>"
    assert parsed["From"] == "Care <care@streamco.test>"
    assert parsed["To"] == "ana@example.org"
    assert parsed["Subject"] == RENDERED.subject
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Date"] == "Mon, 23 Mar 2026 09:00:00 +0000"
    assert parsed["Content-Language"] == "fr-FR"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "http://claims.test/claim/abc" in text.get_content()
    assert "http://claims.test/claim/abc" in html.get_content()


@pytest.mark.parametrize(
    "subject",
    [
        "【お詫び】￥30のクレジットをご用意しました。長い件名でも正しく折り返されることを確認します",
        "Pedimos desculpas: um crédito de R$ 0,30 está esperando por você " * 3,
        "We're sorry: a $0.24 credit is waiting for you",
    ],
)
def test_subject_survives_encoding_and_folding(subject: str) -> None:
    rendered = replace(RENDERED, subject=subject)
    msg = compose_email(
        rendered, outbox_id="m", recipient="a@b.test", locale="ja", settings=SETTINGS, now=NOW
    )
    raw = msg.data

    assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.splitlines())
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject


def test_message_id_is_deterministic() -> None:
    assert (
        message_id("msg_x", SETTINGS)
        == message_id("msg_x", SETTINGS)
        == "<msg_x@mail.streamco.test>"
    )


@pytest.mark.parametrize("bad", ["", "no-at-sign", "two words@example.org", "a@b,c@d", "@x.org"])
def test_malformed_recipient_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(InvalidRecipient) as info:
        compose(recipient=bad)
    assert bad not in str(info.value) or not bad


def test_mask_addresses_hides_every_address() -> None:
    text = "550 5.1.1 <ana.lopez+tv@example.org>: mailbox unavailable; cc bob@x.test"
    masked = mask_addresses(text)
    assert "@" not in masked
    assert masked.startswith("550 5.1.1 <<address>>: mailbox unavailable")


def test_file_transport_writes_one_file_per_message_id(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "out")
    transport.send(compose("msg_01"), sender="care@streamco.test", recipient="ana@example.org")
    transport.send(compose("msg_01"), sender="care@streamco.test", recipient="ana@example.org")
    transport.send(compose("msg_02"), sender="care@streamco.test", recipient="ana@example.org")

    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["msg_01.eml", "msg_02.eml"]  # no temp files left behind
    parsed = message_from_bytes(
        (tmp_path / "out" / "msg_01.eml").read_bytes(), policy=policy.default
    )
    assert parsed["Message-ID"] == "<msg_01@mail.streamco.test>"


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "starttls", "user"),
    [
        ("smtp://127.0.0.1:2525", "127.0.0.1", 2525, False, False, None),
        ("smtp://mail.test", "mail.test", 25, False, False, None),
        ("smtps://u%40x:p@mail.test", "mail.test", 465, True, False, "u@x"),
        ("smtp://mail.test:587?starttls=1", "mail.test", 587, False, True, None),
    ],
)
def test_smtp_url_forms(
    url: str, host: str, port: int, tls: bool, starttls: bool, user: str | None
) -> None:
    transport = SmtpTransport(url, timeout=1)
    assert (transport.host, transport.port, transport.implicit_tls) == (host, port, tls)
    assert (transport.starttls, transport.username) == (starttls, user)


def test_smtp_url_must_be_smtp() -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpTransport("http://mail.test", timeout=1)
