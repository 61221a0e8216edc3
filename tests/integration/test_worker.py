"""`makegood worker`: drains continuously, stops cleanly on a signal, `--once` drains and exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.worker import run_worker
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from tests.factories.outbox import Subscriber, message_row, seed_campaign
from tests.harness.net import wait_for
from tests.harness.rows import email_states
from tests.harness.settings import with_settings
from tests.harness.smtp import RecordingHandler


def test_worker_drains_what_arrives_and_stops_when_asked(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url, worker_poll_seconds=0.05, dispatch_batch_size=7)
    stop = threading.Event()
    lines: list[str] = []
    seed_campaign(box.engine, [Subscriber(f"acc-a{n}") for n in range(12)], now=box.now())
    worker = threading.Thread(target=lambda: lines.append(str(run_worker(box, stop))))
    worker.start()
    try:
        wait_for(lambda: len(handler.received) == 12, what="the first campaign")
        # A second campaign queued while the worker runs is picked up without a restart.
        seed_campaign(box.engine, [Subscriber(f"acc-b{n}") for n in range(5)], now=box.now())
        wait_for(lambda: email_states(box.engine) == {"sent": 17}, what="the second campaign")
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert len(handler.received) == 17
    assert "stopped_by='signal'" in lines[0]


def test_worker_once_drains_and_leaves_backed_off_messages_for_later(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    offers = seed_campaign(box.engine, [Subscriber(f"acc-{n}") for n in range(3)], now=box.now())
    handler.replies[offers[0].address] = "451 4.3.0 try again later"

    totals = run_worker(box, threading.Event(), once=True)

    assert (totals.sent, totals.failed, totals.stopped_by) == (2, 1, "drained")
    assert message_row(box.engine, offers[0].email_message_id).state == "failed"
    assert len(handler.received) == 2


def test_worker_command_once_exits_0(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    seed_campaign(container.engine, [Subscriber("acc-1")], now=container.now())
    box = with_settings(container, smtp_url=url)
    result = CliRunner().invoke(cli, ["worker", "--once"], obj=box, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "worker stopped (drained): 1 sent" in result.stderr
    assert len(handler.received) == 1


def test_worker_process_stops_on_sigterm_even_while_idle(
    tmp_path: Path, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    db_url = f"sqlite:///{tmp_path / 'worker.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    seed_campaign(engine, [Subscriber(f"acc-{n}") for n in range(4)], now=datetime.now(UTC))
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": db_url,
        "MAKEGOOD_SMTP_URL": url,
        "MAKEGOOD_PUBLIC_URL": "http://claims.test",
        # An idle worker looks again only after 10 minutes: SIGTERM must cut that wait short.
        "MAKEGOOD_WORKER_POLL_SECONDS": "600",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "makegood", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: email_states(engine) == {"sent": 4} or proc.poll() is not None,
            what="the worker to send",
        )
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.dispose()
    assert proc.returncode == 0, stderr
    assert "SIGTERM received" in stderr
    assert "worker stopped (signal): 4 sent" in stderr
    assert "@" not in stderr  # no addresses in the worker's output
    assert len(handler.received) == 4
