"""The wire form of a rendered e-mail: a multipart/alternative message (text, then HTML).

The message is written directly as bytes instead of through ``email.generator``, which spends
most of its time re-folding headers we write ourselves: at hundreds of thousands of messages
that is the difference between seconds and minutes. The output is a plain RFC 5322 / MIME
message (CRLF line ends, UTF-8 quoted-printable parts, RFC 2047 subject) that any parser
reads; the tests read it back with the standard library parser.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from typing import Any

from makegood.notify.render import RenderedEmail
from makegood.settings import Settings

CRLF = "\r\n"
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP
_LANGUAGE_TAG = re.compile(r"^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$")


class InvalidRecipient(ValueError):
    """The account's address cannot be written into an e-mail header."""


@dataclass(frozen=True, slots=True)
class ComposedEmail:
    """A message ready for a transport: its Message-ID and its bytes."""

    message_id: str
    data: bytes


def message_id(outbox_id: str, settings: Settings) -> str:
    """Deterministic Message-ID of an outbox row, so a resend is recognisably the same mail."""
    return f"<{outbox_id}@{settings.message_domain}>"


def envelope_sender(settings: Settings) -> str:
    """The SMTP envelope sender (MAIL FROM), where bounces go: settings.bounce_address when
    set, else the bare address of settings.mail_from."""
    if settings.bounce_address:
        return parseaddr(settings.bounce_address)[1] or settings.bounce_address
    return parseaddr(settings.mail_from)[1] or settings.mail_from


DKIM_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"mime-version")


def dkim_signed(email: ComposedEmail, settings: Settings) -> ComposedEmail:
    """`email` with a DKIM-Signature header when settings name a key, selector and domain."""
    if not (settings.dkim_key_path and settings.dkim_selector and settings.dkim_domain):
        return email
    dkim = _dkim()

    signature = dkim.sign(
        email.data,
        settings.dkim_selector.encode("ascii"),
        settings.dkim_domain.encode("ascii"),
        _dkim_key(str(settings.dkim_key_path)),
        include_headers=list(DKIM_HEADERS),
    )
    return ComposedEmail(message_id=email.message_id, data=signature + email.data)


@lru_cache(maxsize=1)
def _dkim() -> Any:
    """dkimpy, with its RSA arithmetic on GMP (only operators who sign import it).

    dkimpy signs with Python's own big integers: the two 1024-bit modular powers of a
    2048-bit RSA signature cost about 5 ms, so a worker that signed sent at most about 170
    messages a second. dkimpy looks `pow` up in its crypto module before the builtins, so
    giving that module GMP's powmod (gmpy2) makes the same arithmetic about 8 times faster
    and leaves everything else to dkimpy. An RSA PKCS#1 v1.5 signature is deterministic:
    tests/unit/test_notify_dkim.py checks it is byte for byte the one plain Python makes.
    """
    import dkim  # type: ignore[import-untyped]
    import dkim.crypto  # type: ignore[import-untyped]
    import gmpy2  # type: ignore[import-untyped]

    def powmod(base: int, exponent: int, modulus: int | None = None) -> int:
        if modulus is None:
            return int(base**exponent)
        return int(gmpy2.powmod(base, exponent, modulus))

    if "pow" not in vars(dkim.crypto):  # not already given one (by us or by the operator)
        dkim.crypto.pow = powmod
    return dkim


@lru_cache(maxsize=2)
def _dkim_key(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _content_language(tag: str) -> str:
    return tag if _LANGUAGE_TAG.match(tag or "") else "en"


def compose_email(
    rendered: RenderedEmail,
    *,
    outbox_id: str,
    recipient: str,
    locale: str,
    settings: Settings,
    now: datetime,
) -> ComposedEmail:
    """The message for one outbox row, with the headers a transactional mail should carry."""
    mid = message_id(outbox_id, settings)
    boundary = f"=_mg_{outbox_id}"  # "=_" never occurs in quoted-printable text
    headers = [
        ("From", _from_header(settings.mail_from)),
        ("To", checked_recipient(recipient)),
        ("Subject", _subject_header(rendered.subject)),
        ("Date", _date_header(now)),
        ("Message-ID", mid),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        # RFC 3834: an automatic message; auto-responders should not answer it.
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        # The language the message is written in (the fallback's when the account's locale
        # has none of ours), not merely the account's locale.
        ("Content-Language", _content_language(rendered.locale or locale)),
    ]
    lines = [f"{name}: {value}" for name, value in headers]
    lines += ["", "This is a message in MIME format, with text and HTML versions."]
    for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
            _quoted_printable(body),
        ]
    lines += [f"--{boundary}--", ""]
    return ComposedEmail(message_id=mid, data=CRLF.join(lines).encode("ascii"))


def checked_recipient(address: str) -> str:
    """`address` as an ASCII addr-spec (IDN domains in punycode), or InvalidRecipient."""
    address = address.strip()
    local, sep, domain = address.rpartition("@")
    if (
        not sep
        or not local
        or not domain
        or any(c.isspace() or c in '<>,;()[]\\"' or ord(c) < 32 or ord(c) == 127 for c in address)
        or not local.isascii()
    ):
        raise InvalidRecipient("the account's e-mail address is malformed or not plain ASCII")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidRecipient("the account's e-mail domain is malformed") from exc
    return f"{local}@{domain}"


@lru_cache(maxsize=4096)  # a campaign repeats a few subjects (language x amount) many times
def _subject_header(subject: str) -> str:
    return Header(subject, _UTF8, header_name="Subject").encode(CRLF)


@lru_cache(maxsize=8)  # a batch is composed with one `now`: format it once, not per message
def _date_header(now: datetime) -> str:
    return format_datetime(now)


@lru_cache(maxsize=8)
def _from_header(mail_from: str) -> str:
    name, address = parseaddr(mail_from)
    if not address:
        return mail_from
    return formataddr((name, address), charset="utf-8")


def _quoted_printable(text: str) -> str:
    """UTF-8 quoted-printable with CRLF line ends and lines of at most 76 characters."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(normalised.encode("utf-8"), istext=True).decode("ascii")
    return encoded.replace("\n", CRLF)
