"""`makegood bounces serve`: bounce reports arriving by SMTP are recorded before the server
says 250; when they cannot be recorded the answer is 451, so the sender keeps them."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.notify.bounce_server import serve_bounces
from makegood.notify.feedback import FeedbackReport
from makegood.notify.history import offer_messages
from makegood.notify.tracking import address_hash
from makegood.services.delivery_feedback import record_report
from makegood.store.engine import make_engine
from tests.factories.mail_reports import arf, dsn, mid
from tests.factories.outbox import message_row, sent_campaign
from tests.harness.net import free_port, wait_for

BOUNCES = "bounces@care.example.com"


@contextmanager
def receiver(box: Container) -> Iterator[tuple[int, list[FeedbackReport]]]:
    """serve_bounces in a thread: (its port, [its totals once stopped])."""
    stop, started = threading.Event(), threading.Event()
    port = free_port()
    totals: list[FeedbackReport] = []
    thread = threading.Thread(
        target=lambda: totals.append(
            serve_bounces(
                partial(record_report, box), stop, port=port, ready=lambda _port: started.set()
            )
        ),
        daemon=True,
    )
    thread.start()
    assert started.wait(10), "the bounce receiver did not start"
    try:
        yield port, totals
    finally:
        stop.set()
        thread.join(10)


def deliver(port: int, data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("MAILER-DAEMON@mx.example.net", [BOUNCES], data)


def test_reports_by_smtp_are_recorded_before_the_250(container: Container) -> None:
    offers = sent_campaign(container)
    stranger = EmailMessage()
    stranger["Subject"] = "out of office"
    stranger.set_content("I am away")

    with receiver(container) as (port, totals):
        deliver(port, dsn(mid(offers[1]), "failed", "5.1.1", "550 5.1.1 unknown user"))
        # 250 came back: the events are committed already, no waiting needed.
        with container.uow() as uow:
            assert uow.deliveries.is_suppressed(address_hash(offers[1].address))
            kinds = [e.kind for m in offer_messages(uow, offers[1].offer_id) for e in m.events]
        assert "bounced" in kinds
        deliver(port, arf(mid(offers[0])))
        deliver(port, stranger.as_bytes())

    assert totals == [FeedbackReport(read=3, recorded=2, ignored=1)]
    assert message_row(container.engine, offers[1].inapp_message_id).urgent is True
    with container.uow() as uow:
        assert uow.deliveries.is_suppressed(address_hash(offers[0].address))  # complained
        assert not uow.deliveries.is_suppressed(address_hash(offers[2].address))


def test_a_report_that_cannot_be_recorded_gets_451_so_the_sender_retries(
    container: Container, tmp_path: Path
) -> None:
    offers = sent_campaign(container, n=1)
    broken = replace(container, engine=make_engine(f"sqlite:///{tmp_path / 'no' / 'db.sqlite'}"))

    with receiver(broken) as (port, _totals), pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(port, dsn(mid(offers[0]), "failed", "5.1.1", "550 unknown user"))

    assert refused.value.smtp_code == 451
    with container.uow() as uow:
        assert not uow.deliveries.is_suppressed(address_hash(offers[0].address))


def test_serve_refuses_a_port_in_use(container: Container) -> None:
    with receiver(container) as (port, _totals):
        result = CliRunner().invoke(cli, ["bounces", "serve", "--port", str(port)], obj=container)

    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_the_command_records_reports_and_stops_cleanly_on_sigterm(container: Container) -> None:
    offers = sent_campaign(container, n=1)
    port = free_port()
    # The receiver runs with the sender's settings: its Message-ID domain comes from the same
    # public URL, so it knows the report is about one of our messages.
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": container.settings.database_url,
        "MAKEGOOD_PUBLIC_URL": container.settings.public_url,
    }
    server = _receiver(port, env)
    try:
        wait_for(lambda: _listening(port), what="the bounce receiver to listen")
        deliver(port, dsn(mid(offers[0]), "failed", "5.1.1", "550 5.1.1 unknown user"))
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()

    assert server.returncode == 0, stderr
    assert "1 reports received, 1 recorded" in stderr
    assert "@" not in stderr  # counts only, never addresses
    with container.uow() as uow:
        assert uow.deliveries.is_suppressed(address_hash(offers[0].address))


def _receiver(port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    """`makegood bounces serve` on `port`, its log on a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "makegood", "bounces", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_the_command_logs_like_the_web_server_without_addresses(tmp_path: Path) -> None:
    """MAKEGOOD_LOG_FORMAT=json: every log line (the SMTP sessions, a report that could not be
    recorded) is one JSON object, addresses masked; the human banner stays text."""
    port = free_port()
    env = {
        **os.environ,
        # Never migrated: recording fails, the sender is answered 451 and the error is logged.
        "MAKEGOOD_DATABASE_URL": f"sqlite:///{tmp_path / 'bare.db'}",
        "MAKEGOOD_LOG_FORMAT": "json",
        "MAKEGOOD_LOG_LEVEL": "INFO",
        "MAKEGOOD_PUBLIC_URL": "https://claims.test",
    }
    server = _receiver(port, env)
    report = dsn("<msg_1@claims.test>", "failed", "5.1.1", "550 5.1.1 unknown jane@example.org")
    try:
        wait_for(lambda: _listening(port), what="the bounce receiver to listen")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            deliver(port, report)
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()

    assert refused.value.smtp_code == 451
    assert server.returncode == 0, stderr
    lines = stderr.splitlines()
    assert all(line.startswith("bounces: ") for line in lines if not line.startswith("{"))
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert {"ts", "level", "logger", "msg"} <= records[0].keys()
    failed = [r for r in records if r["msg"].startswith("bounce receiver: could not record")]
    assert [r["level"] for r in failed] == ["ERROR"], stderr
    assert "no such table" in failed[0]["exc"]
    assert any("<address>" in r["msg"] for r in records if r["logger"] == "mail.log"), stderr
    assert "@" not in stderr
