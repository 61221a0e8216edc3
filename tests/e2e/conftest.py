"""Fixtures of the end-to-end tests: the site on a real port with a real SMTP server, a
browser, and an SMTP server that keeps what it accepts."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from makegood.bootstrap import Container
from makegood.store.engine import make_engine
from tests.harness.browser import CHROMIUM, CHROMIUM_ARGS, Inbox, Site, free_socket, serve
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings
from tests.harness.smtp import Inbox as SmtpInbox


@pytest.fixture
def site(container: Container) -> Iterator[Site]:
    """The web app on a real port, its public URL pointing there, and a real SMTP server."""
    inbox = Inbox()
    smtp_sock = free_socket()
    smtp_port = smtp_sock.getsockname()[1]
    smtp_sock.close()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    live = replace(
        container,
        settings=container.settings.model_copy(
            update={"public_url": base, "smtp_url": f"smtp://127.0.0.1:{smtp_port}"}
        ),
    )
    try:
        with serve(live, sock):
            yield Site(base, live, inbox)
    finally:
        controller.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                f"Chromium must be installed in CI at {CHROMIUM} (apt-get install chromium)"
            )
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[str, SmtpInbox]]:
    inbox = SmtpInbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", inbox
    finally:
        controller.stop()


@pytest.fixture
def pg_container(
    pg_database_url: str, smtp_inbox: tuple[str, SmtpInbox], tmp_path: Path, clock: FrozenClock
) -> Iterator[Container]:
    """A container on a fresh PostgreSQL database whose e-mail goes to `smtp_inbox`."""
    smtp_url, _ = smtp_inbox
    settings = make_settings(pg_database_url, tmp_path, smtp_url=smtp_url)
    engine = make_engine(settings.database_url)
    yield Container(settings=settings, engine=engine, clock=clock)
    engine.dispose()
