"""Hostile text reaching the e-mail composer never becomes a header of its own.

The accounts import refuses such addresses (tests/integration/test_hostile_imports.py); these
tests prove the composer holds even if one got past it: the message is built, parsed back with
the standard library parser, and its header set is exactly the one the composer writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from makegood.notify.mime import InvalidRecipient, compose_email
from makegood.notify.render import OfferNotice, RenderedEmail, render_offer_email
from makegood.settings import Settings

SETTINGS = Settings(
    mail_from="Care <care@streamco.test>",
    message_id_domain="mail.streamco.test",
    public_url="http://claims.test",
)
NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "auto-submitted",
    "x-auto-response-suppress",
    "content-language",
}
BREAKS = ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\r\n\t", "\x00"]
INJECTIONS = ["Bcc: victim@evil.test", "Cc: x@evil.test", "X-Evil: 1", "Subject: owned"]


def _parse(data: bytes) -> tuple[set[str], dict[str, str]]:
    parsed = message_from_bytes(data, policy=policy.default)
    names = {name.lower() for name in parsed}
    assert not parsed.defects, parsed.defects
    return names, {name.lower(): str(value) for name, value in parsed.items()}


def _compose(recipient: str, subject: str = "Sorry", locale: str = "en-US") -> bytes:
    rendered = RenderedEmail(subject=subject, text="hi\n", html="<p>hi</p>", language="en")
    return compose_email(
        rendered,
        outbox_id="msg_01",
        recipient=recipient,
        locale=locale,
        settings=SETTINGS,
        now=NOW,
    ).data


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("injected", INJECTIONS)
def test_a_recipient_with_a_line_break_is_refused(brk: str, injected: str) -> None:
    with pytest.raises(InvalidRecipient):
        _compose(f"ana@example.org{brk}{injected}")


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x1b", "\x7f"])
def test_a_recipient_with_a_control_character_is_refused(control: str) -> None:
    with pytest.raises(InvalidRecipient):
        _compose(f"ana{control}@example.org")


@settings(max_examples=50, deadline=None)
@given(
    local=st.text(min_size=1, max_size=30),
    domain=st.text(min_size=1, max_size=30),
    brk=st.sampled_from(BREAKS),
    injected=st.sampled_from(INJECTIONS),
)
def test_any_recipient_either_is_refused_or_stays_one_to_header(
    local: str, domain: str, brk: str, injected: str
) -> None:
    for address in (f"{local}@{domain}", f"{local}{brk}{injected}@{domain}"):
        try:
            data = _compose(address)
        except InvalidRecipient:
            continue
        names, values = _parse(data)
        assert names == HEADERS
        assert not any(ord(c) < 32 or ord(c) == 127 for c in values["to"])
        assert "bcc" not in names


@settings(max_examples=50, deadline=None)
@given(
    subject=st.text(max_size=200).map(lambda s: s + "\r\nBcc: victim@evil.test\r\n\r\nbody"),
    locale=st.text(max_size=20).map(lambda s: s + "\r\nX-Evil: 1"),
)
def test_subject_and_locale_never_inject_a_header(subject: str, locale: str) -> None:
    names, values = _parse(_compose("ana@example.org", subject, locale))
    assert names == HEADERS
    assert values["content-language"] == "en"


@settings(max_examples=25, deadline=None)
@given(
    payload=st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "javascript:alert(1)",
            "\r\nBcc: victim@evil.test",
        ]
    ),
    padding=st.text(max_size=20),
)
def test_rendered_offer_email_escapes_every_displayed_field(payload: str, padding: str) -> None:
    """Plan name and incident title (the fields an operator's data puts into the mail) come
    out escaped in the HTML part and never as a header."""
    hostile = padding + payload
    notice = OfferNotice(
        template="offer_claim",
        locale="en-US",
        amount_minor=30,
        currency="USD",
        plan_name=hostile,
        incident_title=hostile,
        incident_starts_at=NOW - timedelta(hours=5),
        incident_ends_at=NOW - timedelta(hours=2),
        expires_at=NOW + timedelta(days=7),
        failed_attempts=2,
        first_failure_at=NOW - timedelta(hours=4),
        last_failure_at=NOW - timedelta(hours=3),
        claim_token="tok_abc",
    )
    rendered = render_offer_email(notice, SETTINGS)
    for raw in ("<script>", "<img src=x onerror", "<img"):
        assert raw not in rendered.html
    if payload.startswith("javascript:"):
        assert 'href="javascript:' not in rendered.html
    names, _ = _parse(_compose("ana@example.org", rendered.subject))
    assert names == HEADERS
