"""Record what comes back after sending: bounce reports (a file, a Maildir, the bounce
server) and the provider's verified webhook body, each in its own unit of work.

Parsing and signatures are notify/feedback.py's; the events end in
`tracking.record_feedback` (docs/notifications.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.notify import dsn, tracking
from makegood.notify.feedback import FeedbackReport, webhook_events


def import_bounces(
    container: Container, path: Path, progress: Callable[[FeedbackReport], None] | None = None
) -> FeedbackReport:
    """Read bounce and complaint reports from a file, a Maildir or a folder and record them."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or folder; give a message file or a Maildir")
    report = FeedbackReport()
    for number, file in enumerate(dsn.report_files(path), start=1):
        report.add(record_report(container, file.read_bytes()))
        if progress is not None and number % 500 == 0:
            progress(report)
    return report


def record_report(container: Container, raw: bytes) -> FeedbackReport:
    """Record one returned message (a DSN or an ARF complaint) in its own transaction; a
    message that is no report about one of our messages is counted as ignored."""
    now = container.now()
    event = dsn.report_events(raw, domain=container.settings.message_domain, now=now)
    if event is None:
        return FeedbackReport(read=1, ignored=1)
    with container.uow() as uow:
        recorded, ignored = tracking.record_feedback(uow.conn, [event], now)
        uow.commit()
    return FeedbackReport(read=1, recorded=recorded, ignored=ignored)


def record_webhook(container: Container, body: bytes) -> FeedbackReport:
    """Record a verified webhook body; returns how many events were stored and ignored."""
    now = container.now()
    parsed = webhook_events(body, domain=container.settings.message_domain, now=now)
    ours = [e for e in parsed if e is not None]
    with container.uow() as uow:
        recorded, ignored = tracking.record_feedback(uow.conn, ours, now)
        uow.commit()
    return FeedbackReport(
        read=len(parsed), recorded=recorded, ignored=ignored + len(parsed) - len(ours)
    )
