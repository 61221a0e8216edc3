"""One batch of the outbox: prepare each message, hand the batch over, record the outcomes.

`prepare_batch` runs in the batch's transaction (rows locked): it retires messages that must
not go out (offer closed, address suppressed or unusable) and hands on the others, each with
the means to compose it, which the transport uses just before sending. `record_outcomes` then
records every refusal (and every message that could not be made) and returns the ids the
server accepted, which the caller marks sent after the transport's flush. See dispatch.py for
the guarantees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from makegood.bootstrap import Container
from makegood.domain.calendar import statement_date_for
from makegood.domain.offers import OfferState, claimable
from makegood.domain.retry import (
    Dead,
    Failure,
    Retry,
    RetryPolicy,
    Tries,
    UnreachableStreak,
    decide,
)
from makegood.notify import tracking
from makegood.notify.appeal_email import TEMPLATES as APPEAL_TEMPLATES
from makegood.notify.appeal_email import AppealNotice, render_appeal_email
from makegood.notify.delivery import ComposeFailed, DeliveryError, DeliveryEvent, Unsendable
from makegood.notify.mime import (
    ComposedEmail,
    InvalidRecipient,
    checked_recipient,
    compose_email,
    dkim_signed,
)
from makegood.notify.render import OfferNotice, RenderError, render_offer_email
from makegood.notify.status_email import TEMPLATE as STATUS_TEMPLATE
from makegood.notify.status_email import StatusNotice, render_status_email
from makegood.rate_limits import Pacer
from makegood.settings import Settings
from makegood.store.appeals import appeal_id_of_email
from makegood.store.outbox import OutgoingEmail
from makegood.store.uow import UnitOfWork
from makegood.telemetry.account_log import AccountLog

# A message's bytes, made when it is about to go out (see `_prepare`); raises Unsendable.
Compose = Callable[[], ComposedEmail]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A locked message that is to be sent: its envelope recipient, and how to compose it."""

    mail: OutgoingEmail
    recipient: str  # as the To header will name it (checked, IDN domain in ASCII)
    compose: Compose


Ready = list[Prepared]


@dataclass
class DispatchReport:
    """What one dispatch run did. `ok` is False when anything failed, died or was left over."""

    due: int = 0  # e-mails due when the run started
    sent: int = 0
    failed: int = 0  # not accepted this run; a later run tries again
    dead: int = 0  # given up for good this run, with the reason stored on the message
    skipped: int = 0  # not sent: offer no longer open (expired, revoked) or address suppressed
    stopped: str | None = None  # why the run ended before the outbox was drained
    # An error making a message (ComposeFailed): the run records its batches, then raises it.
    error: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.dead + self.skipped

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dead == 0 and self.stopped is None


def prepare_batch(
    container: Container,
    uow: UnitOfWork,
    batch: list[OutgoingEmail],
    report: DispatchReport,
    stop: threading.Event | None,
    limiter: Pacer | None,
) -> Ready:
    """The batch's messages that are to be sent; the others are retired here."""
    now = container.now()
    hashes = [tracking.address_hash(m.recipient) for m in batch]
    suppressed = uow.deliveries.suppressed_among(hashes)
    ready: Ready = []
    for mail, hash_ in zip(batch, hashes, strict=True):
        if limiter is not None and not limiter.acquire(stop):
            break  # shutting down: the rest of the batch is simply left for later
        prepared = _prepare(container, uow, mail, now, hash_ in suppressed, report)
        if prepared is not None:
            ready.append(prepared)
    return ready


def _prepare(
    container: Container,
    uow: UnitOfWork,
    mail: OutgoingEmail,
    now: datetime,
    suppressed: bool,
    report: DispatchReport,
) -> Prepared | None:
    """The message to send, or None when it is not to be sent (recorded here).

    Rendering and composing are left to `compose`, which the transport calls just before the
    message goes out: an SMTP transport sends from a thread of its own, and a message made
    there costs that thread a few tens of microseconds between two server replies, where the
    same work done here holds the interpreter lock that the sending thread waits for on every
    reply (docs/performance.md#dispatch measured the difference).
    """
    skip_reason = _skip_reason(mail, now)
    if skip_reason is not None:
        if uow.outbox.mark_skipped(mail.id, reason=skip_reason):
            report.skipped += 1
        return None
    if suppressed:
        reason = "not sent: the address bounced or complained before (suppressed)"
        if uow.outbox.mark_skipped(mail.id, reason=reason):
            report.skipped += 1
            uow.deliveries.record_events([DeliveryEvent(mail.id, "suppressed", "worker", now)])
            uow.outbox.mark_inapp_urgent([mail.id])
        return None
    try:
        recipient = checked_recipient(mail.recipient)
    except InvalidRecipient as exc:
        _give_up(uow, mail.id, str(exc), now, report)
        return None
    if mail.template == STATUS_TEMPLATE:
        # Read here, in the batch's transaction, so the e-mail says what is true as it leaves.
        credits = uow.reports.account_credits(mail.account_id, now)
        if credits is None:  # the account is gone: nothing true to say
            _give_up(uow, mail.id, "not sent: the account no longer exists", now, report)
            return None
        notice = StatusNotice(credits, dict(mail.status_links or {}))
        return Prepared(mail, recipient, partial(_compose, mail, container.settings, now, notice))
    if mail.template in APPEAL_TEMPLATES:
        appeal = uow.appeals.for_email(appeal_id_of_email(mail.id))
        if appeal is None:
            _give_up(uow, mail.id, "not sent: the appeal no longer exists", now, report)
            return None
        told = AppealNotice(
            template=mail.template,
            locale=mail.locale,
            incident_title=appeal["incident_title"],
            incident_starts_at=appeal["incident_starts_at"],
            incident_ends_at=appeal["incident_ends_at"],
            log=AccountLog.from_json(appeal["findings"] or {}),
            reason=appeal["reason"],
        )
        return Prepared(
            mail, recipient, partial(_compose, mail, container.settings, now, appeal=told)
        )
    return Prepared(mail, recipient, partial(_compose, mail, container.settings, now))


def _compose(
    mail: OutgoingEmail,
    settings: Settings,
    now: datetime,
    status: StatusNotice | None = None,
    appeal: AppealNotice | None = None,
) -> ComposedEmail:
    """The bytes of one message; Unsendable when it cannot be made (see record_outcomes)."""
    try:
        if status is not None:
            rendered = render_status_email(status, settings)
        elif appeal is not None:
            rendered = render_appeal_email(appeal, settings)
        else:
            rendered = render_offer_email(notice_of(mail, now), settings)
        composed = compose_email(
            rendered,
            outbox_id=mail.id,
            recipient=mail.recipient,
            locale=mail.locale,
            settings=settings,
            now=now,
        )
    except (RenderError, InvalidRecipient) as exc:
        raise Unsendable(str(exc)) from None
    return dkim_signed(composed, settings)


def _give_up(
    uow: UnitOfWork, message_id: str, reason: str, now: datetime, report: DispatchReport
) -> None:
    """Nothing a later attempt could change: dead at once, with the reason; the in-app
    message is made urgent instead."""
    if uow.outbox.mark_failed(message_id, reason=reason, dead=True, next_attempt_at=now):
        report.dead += 1
        uow.outbox.mark_inapp_urgent([message_id])


def record_outcomes(
    container: Container,
    uow: UnitOfWork,
    ready: Sequence[Prepared],
    outcomes: Sequence[DeliveryError | None],
    report: DispatchReport,
    now: datetime,
) -> list[str]:
    """Record every refusal (retry or dead: domain/retry.py); returns the ids the server
    accepted.

    After UNREACHABLE_AFTER connection failures in a row the server is taken to be down: the
    run stops, and the messages it did not record stay queued as they were.
    """
    policy = message_retry_policy(container.settings)
    accepted: list[str] = []
    streak = UnreachableStreak()
    events: list[DeliveryEvent] = []
    unreached: list[str] = []
    for prepared, exc in zip(ready, outcomes, strict=True):
        mail = prepared.mail
        if exc is None:
            accepted.append(mail.id)
            streak.note(None)
            continue
        if _never_offered(uow, mail, exc, now, report):
            continue
        failure = failure_of(exc)
        if exc.connection and report.stopped is not None:
            continue
        if streak.note(Failure.UNREACHED if exc.connection else failure):
            report.stopped = "mail server unreachable; the rest stays queued"
        tries = Tries(mail.attempts - mail.unreached, mail.unreached, mail.queued_at)
        match decide(failure, exc.reason, tries, policy, now, container.rng):
            case Dead(reason=reason):
                dead, retry_at = True, now
            case Retry(at=retry_at):
                dead, reason = False, exc.reason
        if not uow.outbox.mark_failed(
            mail.id,
            reason=reason,
            dead=dead,
            next_attempt_at=retry_at,
            unreached=failure is Failure.UNREACHED,
        ):
            continue
        if dead:
            report.dead += 1
            unreached.append(mail.id)
        else:
            report.failed += 1
        events.append(
            DeliveryEvent(mail.id, "deferred" if exc.temporary else "bounced", "smtp", now, reason)
        )
        if exc.recipient_refused:
            uow.deliveries.suppress(
                tracking.address_hash(mail.recipient),
                reason="bounced",
                message_id=mail.id,
                now=now,
            )
    uow.deliveries.record_events(events)
    uow.outbox.mark_inapp_urgent(unreached)
    return accepted


def _never_offered(
    uow: UnitOfWork,
    mail: OutgoingEmail,
    exc: DeliveryError,
    now: datetime,
    report: DispatchReport,
) -> bool:
    """Record a message that could not be made, so no server saw it (no delivery event);
    False for an outcome of sending."""
    if isinstance(exc, Unsendable):  # the message's own fault: dead, with the reason
        _give_up(uow, mail.id, exc.reason, now, report)
        return True
    if isinstance(exc, ComposeFailed):  # not the message's fault: it stays as it was
        if report.error is None:
            report.error, report.stopped = exc.error, exc.reason
        return True
    return False


def message_retry_policy(settings: Settings) -> RetryPolicy:
    """The retry limits of every outbox message (e-mail, SMS, push), from the settings."""
    return RetryPolicy(
        settings.dispatch_max_attempts,
        settings.dispatch_retry_seconds,
        settings.dispatch_retry_cap_seconds,
        settings.dispatch_max_age_hours,
    )


def failure_of(exc: DeliveryError) -> Failure:
    """The kind of an SMTP failure: a refusal, a "not now", or no answer at all."""
    if not exc.temporary:
        return Failure.PERMANENT
    return Failure.UNREACHED if exc.connection else Failure.TRANSIENT


def _skip_reason(mail: OutgoingEmail, now: datetime) -> str | None:
    if mail.offer_state == OfferState.REVOKED:
        return "not sent: the offer was revoked"
    if mail.template in ("offer_claim", "offer_reminder"):
        if not claimable(mail.offer_state, mail.expires_at, now, even_after_expiry=True):
            return "not sent: the credit was already applied"
        if not claimable(mail.offer_state, mail.expires_at, now):
            return "not sent: the offer expired before the e-mail could go out"
    return None


def notice_of(mail: OutgoingEmail, now: datetime) -> OfferNotice:
    statement_date = None
    if mail.template == "offer_granted":
        statement_date = statement_date_for(
            mail.credited_at or now, mail.next_bill_date, mail.billing_day
        )
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
        why=mail.why,
        why_count=mail.why_count,
        claim_token=mail.claim_token,
        statement_date=statement_date,
    )
