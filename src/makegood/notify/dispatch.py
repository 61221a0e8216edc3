"""Drain the e-mail outbox: render each due message, hand it to the transport, record the outcome.

Guarantees:
- a message is marked 'sent' only after the transport accepted it (and, for files, synced
  it to disk), in the transaction that commits right after its batch; a crash loses at most
  the marks of one batch, so those messages go out again (same Message-ID), and none is ever
  marked sent without having been accepted;
- one message's failure never holds back the others; a lost SMTP connection is reopened for
  the next message, and the run stops early only when the server is unreachable repeatedly;
- a failed message is retried by the next run, up to settings.dispatch_max_attempts attempts,
  then marked 'dead' with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.calendar import add_months, lands_on
from makegood.notify import outbox
from makegood.notify.mime import InvalidRecipient, compose_email, envelope_sender
from makegood.notify.outbox import OutgoingEmail
from makegood.notify.render import OfferNotice, RenderError, render_offer_email
from makegood.notify.transports import DeliveryError, MailTransport, open_transport

BATCH_SIZE = 100
# Rows stay locked while their batch is sent; past this many seconds the batch is committed
# early and the rest is picked up again, so claims and other workers are not kept waiting.
MAX_BATCH_SECONDS = 5.0
# Consecutive connection failures after which the server is taken to be down for this run.
UNREACHABLE_AFTER = 3


@dataclass
class DispatchReport:
    """What one dispatch run did. `ok` is False when anything failed, died or was left over."""

    due: int = 0  # e-mails due when the run started
    sent: int = 0
    failed: int = 0  # not accepted this run; the next run tries again
    dead: int = 0  # given up for good this run, with the reason stored on the message
    skipped: int = 0  # not sent because their offer is no longer open (expired, revoked)
    stopped: str | None = None  # why the run ended before the outbox was drained

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.dead + self.skipped

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dead == 0 and self.stopped is None


Progress = Callable[[DispatchReport], None]


def dispatch_pending(
    container: Container,
    progress: Progress | None = None,
    *,
    transport: MailTransport | None = None,
    retry_failed_now: bool = True,
    batch_size: int = BATCH_SIZE,
) -> DispatchReport:
    """Send every due e-mail once: pending ones whose time has come and, by default, every
    failed one (the `dispatch` command retries failures at once; a continuous worker passes
    ``retry_failed_now=False`` to honour the back-off in next_attempt_at).

    `transport` defaults to the one the settings name and is closed at the end; `progress`
    is called with a copy of the running report after each batch.
    """
    own_transport = transport is None
    mailer = transport if transport is not None else open_transport(container.settings)
    report = DispatchReport()
    cutoff = container.now()
    with container.uow() as uow:
        report.due = outbox.count_due(uow.conn, cutoff, retry_failed_now=retry_failed_now)
    after = ""
    try:
        while report.stopped is None:
            with container.uow() as uow:
                batch = outbox.lock_due_batch(
                    uow.conn,
                    cutoff,
                    after_id=after,
                    limit=batch_size,
                    retry_failed_now=retry_failed_now,
                )
                if not batch:
                    break
                after = _send_batch(container, uow.conn, mailer, batch, report)
                uow.commit()
            if progress is not None:
                progress(replace(report))
    finally:
        if own_transport:
            mailer.close()
    return report


def _send_batch(
    container: Container,
    conn: sa.Connection,
    mailer: MailTransport,
    batch: list[OutgoingEmail],
    report: DispatchReport,
) -> str:
    """Send a locked batch and record the outcomes; returns the id of the last one handled."""
    sender = envelope_sender(container.settings)
    accepted: list[str] = []
    unreachable = 0
    started = time.monotonic()
    last = batch[0].id
    for mail in batch:
        last = mail.id
        outcome = _deliver_one(container, conn, mailer, sender, mail, report)
        if outcome == "accepted":
            accepted.append(mail.id)
        unreachable = unreachable + 1 if outcome == "unreachable" else 0
        if unreachable >= UNREACHABLE_AFTER:
            report.stopped = "mail server unreachable; the rest stays queued"
            break
        if time.monotonic() - started > MAX_BATCH_SECONDS:
            break
    try:
        mailer.flush()
    except DeliveryError as exc:
        # Not durable, so not 'sent': these stay queued and go out again on the next run.
        report.stopped = f"could not secure accepted mail: {exc.reason}"
        return last
    report.sent += outbox.mark_sent(conn, accepted, container.now())
    return last


def _deliver_one(
    container: Container,
    conn: sa.Connection,
    mailer: MailTransport,
    sender: str,
    mail: OutgoingEmail,
    report: DispatchReport,
) -> str:
    """Try one message; records failures at once and returns accepted | failed | unreachable."""
    settings = container.settings
    now = container.now()
    skip_reason = _skip_reason(mail, now)
    if skip_reason is not None:
        if outbox.mark_skipped(conn, mail.id, reason=skip_reason):
            report.skipped += 1
        return "skipped"
    try:
        rendered = render_offer_email(_notice(mail, now), settings)
        message = compose_email(
            rendered,
            outbox_id=mail.id,
            recipient=mail.recipient,
            locale=mail.locale,
            settings=settings,
            now=now,
        )
    except (RenderError, InvalidRecipient) as exc:
        # Nothing a later attempt could change: give up at once, with the reason.
        if outbox.mark_failed(conn, mail.id, reason=str(exc), dead=True, next_attempt_at=now):
            report.dead += 1
        return "failed"
    try:
        mailer.send(message, sender=sender, recipient=mail.recipient)
    except DeliveryError as exc:
        attempts = mail.attempts + 1
        dead = attempts >= settings.dispatch_max_attempts
        delay = timedelta(seconds=settings.dispatch_retry_seconds * 2 ** (attempts - 1))
        reason = exc.reason if not dead else f"gave up after {attempts} attempts: {exc.reason}"
        if outbox.mark_failed(conn, mail.id, reason=reason, dead=dead, next_attempt_at=now + delay):
            if dead:
                report.dead += 1
            else:
                report.failed += 1
        return "unreachable" if exc.connection else "failed"
    return "accepted"


def _skip_reason(mail: OutgoingEmail, now: datetime) -> str | None:
    if mail.offer_state == "revoked":
        return "not sent: the offer was revoked"
    if mail.template == "offer_claim":
        if mail.offer_state != "open":
            return "not sent: the credit was already applied"
        if mail.expires_at <= now:
            return "not sent: the offer expired before the e-mail could go out"
    return None


def _notice(mail: OutgoingEmail, now: datetime) -> OfferNotice:
    statement_date = None
    if mail.template == "offer_granted":
        granted_at = mail.credited_at or now
        statement_date = mail.next_bill_date
        if not lands_on(granted_at, statement_date):
            statement_date = add_months(statement_date, mail.billing_day)
    return OfferNotice(
        template=mail.template,
        locale=mail.locale,
        amount_minor=mail.amount_minor,
        currency=mail.currency,
        plan_name=mail.plan_name,
        incident_title=mail.incident_title,
        incident_starts_at=mail.incident_starts_at,
        incident_ends_at=mail.incident_ends_at,
        expires_at=mail.expires_at,
        failed_attempts=mail.failed_attempts,
        first_failure_at=mail.first_failure_at,
        last_failure_at=mail.last_failure_at,
        claim_token=mail.claim_token,
        statement_date=statement_date,
    )
