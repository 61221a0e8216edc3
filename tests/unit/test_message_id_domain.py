"""The right side of every Message-ID: the configured domain, else the public URL's host
(issue 12, item 18: never `.local`, which receivers score as a sign of a misconfigured sender)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from makegood.notify.dsn import outbox_id
from makegood.notify.mime import compose_email
from makegood.notify.render import RenderedEmail
from makegood.settings import Settings

RENDERED = RenderedEmail(subject="Sorry", text="Hello\n", html="<p>Hello</p>", language="en")
NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def header_of(settings: Settings) -> str:
    data = compose_email(
        RENDERED,
        outbox_id="msg_01",
        recipient="ana@example.org",
        locale="en-US",
        settings=settings,
        now=NOW,
    ).data
    return str(message_from_bytes(data, policy=policy.default)["Message-ID"])


@pytest.mark.parametrize(
    ("public_url", "domain"),
    [
        ("https://credits.streamco.example", "credits.streamco.example"),
        ("https://Credits.StreamCo.example:8443/makegood/", "credits.streamco.example"),
        ("http://127.0.0.1:8000", "127.0.0.1"),
        ("http://[::1]:8000", "[::1]"),
        ("https://bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_message_id_defaults_to_the_public_urls_host(public_url: str, domain: str) -> None:
    settings = Settings(public_url=public_url)
    assert header_of(settings) == f"<msg_01@{domain}>"
    assert not header_of(settings).endswith(".local>")
    # Bounces are matched on the same domain the message was sent with.
    assert outbox_id(f"<msg_01@{domain}>", settings.message_domain) == "msg_01"


def test_a_configured_domain_wins() -> None:
    settings = Settings(
        public_url="https://credits.streamco.example", message_id_domain="mail.x.test"
    )
    assert header_of(settings) == "<msg_01@mail.x.test>"
    assert settings.message_domain == "mail.x.test"
