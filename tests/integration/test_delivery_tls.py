"""SMTP over TLS against a real aiosmtpd server with a certificate made for the test: the
sender negotiates TLS (STARTTLS, or TLS from the first byte), verifies the certificate, and
logs in only over the encrypted channel."""

from __future__ import annotations

import gc
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from makegood.bootstrap import Container
from makegood.notify.delivery import TemporaryFailure
from makegood.notify.smtp import AsyncSmtpTransport
from makegood.notify.smtp_endpoint import tls_context
from makegood.services.dispatch import dispatch_pending
from tests.factories.outbox import Subscriber, message_row, seed_campaign
from tests.harness.net import free_port
from tests.harness.settings import with_settings
from tests.harness.smtp import one_message

USER, PASSWORD = "mailer", "s3cret p@ss"


@dataclass
class Received:
    """What the server saw of each message: TLS version, the login, the message bytes."""

    tls: list[str | None] = field(default_factory=list)
    logins: list[str | None] = field(default_factory=list)
    data: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler:
    def __init__(self, received: Received) -> None:
        self.received = received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        ssl_object = server.transport.get_extra_info("ssl_object")
        login = session.auth_data.login.decode() if session.authenticated else None
        with self.received.lock:
            self.received.tls.append(ssl_object.version() if ssl_object else None)
            self.received.logins.append(login)
            self.received.data.append(envelope.original_content)
        return "250 OK"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    # handled=False: aiosmtpd then answers a refusal with 535 itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert PEM, key PEM).

    Made with the openssl command line: the `cryptography` package is not a dependency of
    this project."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=makegood test relay",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key_path),
            "-out",
            str(cert_path),
        ],
        check=True,
        capture_output=True,
    )
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture(params=["starttls", "implicit"])
def relay(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[Received, str]]:
    """A relay that demands TLS before AUTH and AUTH before mail: (what it saw, SMTP URL)."""
    received = Received()
    port = free_port()
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": authenticator,
    }
    if request.param == "starttls":
        controller = Controller(
            Handler(received),
            tls_context=server_context(certificate),
            require_starttls=True,
            auth_require_tls=True,
            auth_required=True,
            **common,
        )
        url = f"smtp+starttls://{USER}:s3cret%20p%40ss@127.0.0.1:{port}"
    else:
        # aiosmtpd's auth_require_tls and auth_required only know STARTTLS; here TLS wraps
        # the whole connection, and the handler records the TLS version and the login of
        # every message.
        controller = Controller(
            Handler(received),
            ssl_context=server_context(certificate),
            auth_require_tls=False,
            **common,
        )
        url = f"smtps://{USER}:s3cret%20p%40ss@127.0.0.1:{port}"
    controller.start()
    try:
        yield received, url
    finally:
        controller.stop()
        gc.collect()  # what the server left behind is collected within this test


def test_sender_negotiates_tls_verifies_the_certificate_and_logs_in(
    relay: tuple[Received, str], certificate: tuple[Path, Path]
) -> None:
    received, url = relay
    transport = AsyncSmtpTransport(url, timeout=10, tls_context=tls_context(certificate[0]))
    try:
        outcomes = transport.send_many([one_message("a@example.com"), one_message("b@example.com")])
    finally:
        transport.close()

    assert outcomes == [None, None]
    assert len(received.tls) == 2
    assert all(version in ("TLSv1.2", "TLSv1.3") for version in received.tls)
    assert received.logins == [USER, USER]


def test_an_untrusted_certificate_is_refused_before_anything_is_sent(
    relay: tuple[Received, str],
) -> None:
    received, url = relay
    transport = AsyncSmtpTransport(url, timeout=10)  # system CAs only: the test cert is unknown
    try:
        (outcome,) = transport.send_many([one_message("a@example.com")])
    finally:
        transport.close()

    assert isinstance(outcome, TemporaryFailure)
    assert outcome.connection
    assert received.data == []


def test_a_wrong_password_keeps_the_message_queued_not_dead(
    relay: tuple[Received, str], certificate: tuple[Path, Path], container: Container
) -> None:
    received, url = relay
    wrong = url.replace("s3cret%20p%40ss", "wrong")
    box = with_settings(container, smtp_url=wrong, smtp_ca_file=certificate[0])
    (offer,) = seed_campaign(box.engine, [Subscriber("acc-a")], now=box.now())

    report = dispatch_pending(box)

    row = message_row(box.engine, offer.email_message_id)
    assert (report.sent, report.failed, report.dead) == (0, 1, 0)
    assert row.state == "failed"
    assert "refused the session: 535" in (row.last_error or "")
    assert received.data == []


def test_the_worker_path_uses_the_ca_file_setting(
    relay: tuple[Received, str], certificate: tuple[Path, Path], container: Container
) -> None:
    received, url = relay
    box = with_settings(container, smtp_url=url, smtp_ca_file=certificate[0])
    offers = seed_campaign(
        box.engine, [Subscriber("acc-a"), Subscriber("acc-b", "ja-JP", "JPY", 30)], now=box.now()
    )

    report = dispatch_pending(box)

    assert report.sent == 2
    assert received.logins == [USER, USER]
    assert all(version is not None for version in received.tls)
    message_ids = {offer.email_message_id for offer in offers}
    assert {data.split(b"Message-ID: <")[1].split(b"@")[0].decode() for data in received.data} == (
        message_ids
    )
