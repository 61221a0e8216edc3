"""Record what comes back after sending: bounce reports (a file, a Maildir, the bounce
server) and the provider's verified webhook body, each in its own unit of work.

Parsing and signatures are notify/feedback.py's; the events end in `record_feedback`
(docs/notifications.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.notify import dsn
from makegood.notify.delivery import DeliveryEvent
from makegood.notify.feedback import FeedbackReport, webhook_events
from makegood.notify.tracking import SUPPRESSING_KINDS, address_hash
from makegood.store.uow import UnitOfWork


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
        recorded, ignored = record_feedback(uow, [event], now)
        uow.commit()
    return FeedbackReport(read=1, recorded=recorded, ignored=ignored)


def record_webhook(container: Container, body: bytes) -> FeedbackReport:
    """Record a verified webhook body; returns how many events were stored and ignored."""
    now = container.now()
    parsed = webhook_events(body, domain=container.settings.message_domain, now=now)
    ours = [e for e in parsed if e is not None]
    with container.uow() as uow:
        recorded, ignored = record_feedback(uow, ours, now)
        uow.commit()
    return FeedbackReport(
        read=len(parsed), recorded=recorded, ignored=ignored + len(parsed) - len(ours)
    )


def record_feedback(
    uow: UnitOfWork, events: Sequence[DeliveryEvent], now: datetime
) -> tuple[int, int]:
    """Record events that came back later (DSN, webhook) for known messages, in the caller's
    unit of work: bounced and complained addresses are suppressed and the in-app message
    marked urgent. Returns (events recorded, events for unknown messages ignored)."""
    known = uow.outbox.known_ids([e.message_id for e in events])
    kept = [e for e in events if e.message_id in known]
    uow.deliveries.record_events(kept)
    failed = [e for e in kept if e.kind in SUPPRESSING_KINDS]
    for event in failed:
        address = uow.outbox.recipient_of(event.message_id)
        if address is not None:
            uow.deliveries.suppress(
                address_hash(address), reason=event.kind, message_id=event.message_id, now=now
            )
    uow.outbox.mark_inapp_urgent([e.message_id for e in failed])
    return len(kept), len(events) - len(kept)
