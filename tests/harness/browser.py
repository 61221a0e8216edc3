"""A real browser (Debian's Chromium through Playwright) against the web app on a real port,
with a real SMTP server: the site, screenshots, signing in, a launched campaign."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import uvicorn

from makegood.bootstrap import Container
from makegood.observability.redaction import uvicorn_log_config
from makegood.services.campaign_approval import approve_campaign
from makegood.services.dispatch import dispatch_pending
from makegood.services.launch import launch_campaign
from makegood.web.app import create_app
from tests.factories.staff import PASSWORD, email_for, seed_draft

CHROMIUM = os.environ.get("MAKEGOOD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("MAKEGOOD_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 accepted"

    def text_to(self, address: str) -> str:
        with self.lock:
            raw = [m for rcpts, m in self.messages if address in rcpts]
        assert raw, f"no mail for {address}"
        message = message_from_bytes(raw[-1], policy=policy.default)
        part = message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(container: Container, sock: socket.socket) -> Iterator[None]:
    config = uvicorn.Config(create_app(container), log_config=uvicorn_log_config(), lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        ready = threading.Event()
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            ready.wait(0.01)
        yield
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@dataclass
class Site:
    base: str
    container: Container
    inbox: Inbox


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(browser: Any, site: Site, role: str, size: dict[str, int] = DESKTOP) -> Any:
    page = browser.new_page(viewport=size)
    page.goto(f"{site.base}/console/incidents")  # bounced to the login page, then back
    page.get_by_label("E-mail").fill(email_for(role))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.base}/console/incidents")
    return page


def launched_campaign(site: Site) -> Any:
    c = site.container
    draft = seed_draft(
        c,
        created_by="lead@care.example.com",
        accounts=2,
        locales=("en-US", "ja-JP"),
        emails=("ana@example.com", "kenji@example.jp"),
    )
    approve_campaign(c, draft.campaign_id, actor="approver@care.example.com")
    launch_campaign(c, draft.campaign_id, actor="approver@care.example.com")
    report = dispatch_pending(c)
    assert report.sent == 2, report
    return draft
