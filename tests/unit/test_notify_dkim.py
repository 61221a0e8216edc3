"""DKIM: with a key, selector and domain set, every message carries a signature that verifies;
the bounce address becomes the envelope sender."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest

from makegood.notify.mime import ComposedEmail, compose_email, dkim_signed, envelope_sender
from makegood.notify.render import render_offer_email
from makegood.settings import Settings
from tests.factories.notices import notice


@pytest.fixture
def key_pair(tmp_path: Path) -> tuple[Path, bytes]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test key")
    private = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(private), "-pubout"],
        check=True,
        capture_output=True,
    ).stdout
    body = b"".join(line for line in public.splitlines() if not line.startswith(b"-----"))
    return private, body


def composed(settings: Settings) -> ComposedEmail:
    rendered = render_offer_email(notice("fr-FR"), settings)
    return compose_email(
        rendered,
        outbox_id="msg_01",
        recipient="someone@example.com",
        locale="fr-FR",
        settings=settings,
        now=datetime(2026, 3, 23, 9, 0, tzinfo=UTC),
    )


def test_signed_message_verifies_against_the_published_key(key_pair: tuple[Path, bytes]) -> None:
    private, public = key_pair
    settings = Settings(dkim_key_path=private, dkim_selector="mg2026", dkim_domain="streamco.test")
    signed = dkim_signed(composed(settings), settings)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mg2026._domainkey.streamco.test."
        return b"v=DKIM1; k=rsa; p=" + public

    assert signed.data.startswith(b"DKIM-Signature:")
    assert dkim.verify(signed.data, dnsfunc=dns)
    tampered = signed.data.replace(b"0,30", b"9,30")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_without_dkim_settings_the_message_is_unchanged() -> None:
    settings = Settings()
    message = composed(settings)
    assert dkim_signed(message, settings) is message


def test_bounce_address_is_the_envelope_sender() -> None:
    assert envelope_sender(Settings(mail_from="Care <care@streamco.test>")) == "care@streamco.test"
    settings = Settings(bounce_address="bounces@mail.streamco.test")
    assert envelope_sender(settings) == "bounces@mail.streamco.test"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("bounce_address", "bounces at streamco"),
        ("bounce_address", "bounces@mail streamco.test"),
        ("mail_from", "Care <care>"),
        ("mail_from", "Care <cäre@streamco.test>"),
    ],
)
def test_an_envelope_sender_no_command_line_can_hold_is_refused_at_start(
    variable: str, value: str
) -> None:
    with pytest.raises(ValueError, match=f"MAKEGOOD_{variable.upper()} must hold a plain ASCII"):
        Settings(**{variable: value})


def test_rsa_on_gmp_signs_byte_for_byte_as_plain_python(
    key_pair: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    import dkim.crypto  # type: ignore[import-untyped]

    from makegood.notify.mime import _dkim

    _dkim()
    assert dkim.crypto.pow is not pow  # signing runs on GMP
    private, _ = key_pair
    key = dkim.crypto.parse_pem_private_key(private.read_bytes())
    digests = [hashlib.sha256(f"message {n}".encode()) for n in range(5)]

    on_gmp = [dkim.crypto.RSASSA_PKCS1_v1_5_sign(d, key) for d in digests]
    monkeypatch.setattr(dkim.crypto, "pow", pow)
    in_python = [dkim.crypto.RSASSA_PKCS1_v1_5_sign(d, key) for d in digests]

    assert on_gmp == in_python
    assert len({bytes(s) for s in on_gmp}) == len(digests)
