"""Where and how to reach the mail server: MAKEGOOD_SMTP_URL parsed, and the TLS context.

URL forms: ``smtp://host:port`` (plain), ``smtp+starttls://host:587`` or
``smtp://host:587?starttls=1`` (upgrade with STARTTLS), ``smtps://host:465`` (TLS from the
start); ``user:password@`` before the host logs in (percent-encode special characters).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

SCHEMES = ("smtp", "smtps", "smtp+starttls")


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    """Where and how to reach the mail server (parsed from MAKEGOOD_SMTP_URL)."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @property
    def label(self) -> str:
        """host:port only: never the credentials."""
        return f"{self.host}:{self.port}"


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The client TLS context: the system's trusted CAs, or only those in `ca_file` (a PEM
    bundle, for a relay with a private or self-signed certificate). Certificates and host
    names are always verified."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"MAKEGOOD_SMTP_CA_FILE {ca_file}: cannot read a PEM certificate bundle ({exc})"
        ) from None


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """The endpoint of an smtp://, smtp+starttls:// or smtps:// URL; ValueError otherwise."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in SCHEMES or not parts.hostname or port == -1:
        raise ValueError(
            "MAKEGOOD_SMTP_URL must look like smtp://host:port, smtp+starttls://host:587 "
            "or smtps://host:465 (user:password@ before the host to log in)"
        )
    implicit_tls = parts.scheme == "smtps"
    flags = parse_qs(parts.query)
    starttls = parts.scheme == "smtp+starttls" or flags.get("starttls", ["0"])[0].lower() in (
        "1",
        "true",
        "yes",
    )
    default_port = 465 if implicit_tls else (587 if parts.scheme == "smtp+starttls" else 25)
    return SmtpEndpoint(
        host=parts.hostname,
        port=port or default_port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
