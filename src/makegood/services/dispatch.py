"""Drain the e-mail outbox: render each due message, hand it to the transport, record the outcome.

Guarantees:
- a message is marked 'sent' only after the transport accepted it (and, for files, synced
  it to disk), in the transaction that commits right after its batch; a crash loses at most
  the marks of `batch_size` messages, so those go out again (same Message-ID), and none is
  ever marked sent without having been accepted;
- one message's failure never holds back the others; a lost SMTP connection is reopened for
  the next message, and the run stops early only when the server is unreachable repeatedly;
- a temporary failure (4xx, lost connection, timeout) is retried after an exponential
  back-off with jitter, up to settings.dispatch_max_attempts attempts, then 'dead' with its
  reason; a permanent refusal (5xx) is 'dead' at once, and a refused address is suppressed;
- suppressed addresses are not mailed; whenever an e-mail cannot reach its reader, the
  in-app message of the same offer is marked urgent;
- every outcome is a delivery event (see tracking.py) that support can read.

Throughput: on PostgreSQL, with a transport that sends in the background (SMTP), the next
batch is locked and prepared while the previous one is on the wire, and the transport renders
each message on its own thread just before sending it (batch.py, `_prepare`). Each of the two
batches then holds half of `batch_size`, so the bound on repeats after a crash is unchanged.
SQLite has one writer at a time, so there batches go strictly one after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime

from makegood.bootstrap import Container
from makegood.notify.delivery import DeliveryError, MailTransport
from makegood.notify.mime import envelope_sender
from makegood.notify.smtp import Outgoing
from makegood.rate_limits import Pacer
from makegood.services.outbox_batch import DispatchReport, Ready, prepare_batch, record_outcomes
from makegood.services.status_requests import queue_status_emails
from makegood.store.outbox import OutgoingEmail
from makegood.store.uow import UnitOfWork

__all__ = ["BATCH_SIZE", "DispatchReport", "dispatch_pending"]

BATCH_SIZE = 100

Progress = Callable[[DispatchReport], None]
Outcomes = list[DeliveryError | None]


@dataclass
class _InFlight:
    """A batch handed to the transport whose transaction is still open (rows locked)."""

    uow: UnitOfWork
    ready: Ready
    outcomes: Future[Outcomes]


def dispatch_pending(
    container: Container,
    progress: Progress | None = None,
    *,
    transport: MailTransport | None = None,
    retry_failed_now: bool = True,
    batch_size: int | None = None,
    stop: threading.Event | None = None,
    limiter: Pacer | None = None,
) -> DispatchReport:
    """Send every due e-mail once: pending ones whose time has come and, by default, every
    failed one (the `dispatch` command retries failures at once; the worker passes
    ``retry_failed_now=False`` to honour the back-off in next_attempt_at).

    `transport` defaults to the one the settings name and is closed at the end; `progress`
    is called with a copy of the running report after each committed batch. When `stop` is
    set the run finishes and commits the batches in hand, then returns; `limiter` paces sends.
    """
    own_transport = transport is None
    mailer = transport if transport is not None else container.open_mail_transport()
    size = batch_size or container.settings.dispatch_batch_size or BATCH_SIZE
    pipelined = hasattr(mailer, "submit_many") and container.engine.dialect.name != "sqlite"
    if pipelined:
        size = max(1, size // 2)
    report = DispatchReport()
    # "Where is my credit?" requests become status e-mails first, so this run sends them.
    queue_status_emails(container)
    cutoff = container.now()
    with container.uow() as uow:
        report.due = uow.outbox.count_emails_due(cutoff, retry_failed_now=retry_failed_now)
    cursor = _Cursor(cutoff, size, retry_failed_now)
    inflight: _InFlight | None = None
    try:
        while report.stopped is None:
            if stop is not None and stop.is_set():
                report.stopped = "shutdown requested"
                break
            current = _start_batch(container, mailer, cursor, report, stop, limiter)
            previous, inflight = inflight, current
            if previous is not None:
                _finish(container, mailer, previous, report, progress)
            if inflight is None:
                break
            if not pipelined:
                done, inflight = inflight, None
                _finish(container, mailer, done, report, progress)
        if inflight is not None:
            done, inflight = inflight, None
            _finish(container, mailer, done, report, progress)
    finally:
        if inflight is not None:  # an error on the way: roll back, the batch goes out again
            inflight.uow.__exit__(None, None, None)
        if own_transport:
            mailer.close()
    if report.error is not None:
        # Making a message failed outside the message (an operator's template, signing):
        # what was accepted is recorded; the error stops the run, and the worker, as it
        # would have before anything was sent.
        raise report.error
    return report


@dataclass
class _Cursor:
    """Where the run is in the outbox: due rows are taken in id order, after `after`; once
    none is left (`stored_done`), the launch e-mails still on their offers."""

    cutoff: datetime
    size: int
    retry_failed_now: bool
    after: str = ""
    stored_done: bool = False


def _take(uow: UnitOfWork, cursor: _Cursor) -> list[OutgoingEmail]:
    """The next batch, locked: due messages in id order after the cursor; when none is left,
    the oldest launch e-mails due that are still on their offers, whose rows are written here
    (in the batch's transaction: if it rolls back, they are still on their offers).

    Launch e-mails come last, so a run never takes one twice: their ids are those of their
    offers, older than the messages the cursor has passed, which it would not go back to.
    """
    if not cursor.stored_done:
        batch = uow.outbox.lock_due_emails(
            cursor.cutoff,
            after_id=cursor.after,
            limit=cursor.size,
            retry_failed_now=cursor.retry_failed_now,
        )
        if batch:
            cursor.after = batch[-1].id
            return batch
        cursor.stored_done = True
    uow.outbox.plan_as_it_grows()
    return uow.outbox.lock_emails(uow.outbox.take_launch_emails(cursor.cutoff, cursor.size))


def _start_batch(
    container: Container,
    mailer: MailTransport,
    cursor: _Cursor,
    report: DispatchReport,
    stop: threading.Event | None,
    limiter: Pacer | None,
) -> _InFlight | None:
    """Lock, prepare and hand over the next batch, its transaction left open; None when no
    message is due any more."""
    uow = container.uow().__enter__()
    try:
        batch = _take(uow, cursor)
        if not batch:
            uow.__exit__(None, None, None)
            return None
        ready = prepare_batch(container, uow, batch, report, stop, limiter)
        sending = _submit(mailer, ready, envelope_sender(container.settings))
    except BaseException:
        uow.__exit__(None, None, None)
        raise
    return _InFlight(uow, ready, sending)


def _submit(mailer: MailTransport, ready: Ready, sender: str) -> Future[Outcomes]:
    """Hand the batch over: in the background when the transport can, else right here."""
    items = [Outgoing(p.compose, sender, p.recipient) for p in ready]
    submit_many = getattr(mailer, "submit_many", None)
    if submit_many is not None:
        background: Future[Outcomes] = submit_many(items)
        return background
    done: Future[Outcomes] = Future()
    done.set_result(_send_each(mailer, items))
    return done


def _send_each(mailer: MailTransport, items: Sequence[Outgoing]) -> Outcomes:
    results: Outcomes = []
    for item in items:
        message = item.composed()
        if isinstance(message, DeliveryError):
            results.append(message)
            continue
        try:
            mailer.send(message, sender=item.sender, recipient=item.recipient)
            results.append(None)
        except DeliveryError as exc:
            results.append(exc)
    return results


def _finish(
    container: Container,
    mailer: MailTransport,
    batch: _InFlight,
    report: DispatchReport,
    progress: Progress | None,
) -> None:
    """Wait for the batch's outcomes, record them, mark the accepted ones sent, commit."""
    try:
        uow = batch.uow
        now = container.now()
        accepted = record_outcomes(
            container, uow, batch.ready, batch.outcomes.result(), report, now
        )
        try:
            mailer.flush()
        except DeliveryError as exc:
            # Not durable, so not 'sent': these stay queued and go out again on the next run.
            report.stopped = f"could not secure accepted mail: {exc.reason}"
            accepted = []
        report.sent += uow.outbox.mark_accepted(accepted, now)
        batch.uow.commit()
    finally:
        batch.uow.__exit__(None, None, None)
    if progress is not None:
        progress(replace(report))
