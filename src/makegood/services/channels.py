"""SMS and push: outbox rows sent to the operator's provider as signed webhooks.

A channel exists only when its URL is set (MAKEGOOD_SMS_WEBHOOK_URL, MAKEGOOD_PUSH_WEBHOOK_URL):
then `campaign launch` writes one row per offer for it, in the same transaction as the offer,
with a claim token of its own. The worker sends each row as ``POST <url>`` with JSON
``{"message_id", "channel", "account_id", "locale", "text", "claim_url"}`` (the provider knows
how to reach the account; `locale` is the language the text is written in: the fallback's when
the account's has no template), headers ``Idempotency-Key: <message id>`` (a repeat after a crash
carries the same key), ``X-Makegood-Timestamp`` and ``X-Makegood-Signature: v1=<hex
HMAC-SHA256(MAKEGOOD_CHANNEL_WEBHOOK_SECRET, "<timestamp>." + body)>``.

The outbox guarantees are the e-mail ones: marked sent only after a 2xx reply, in the
transaction that commits right after the batch. Retry or dead follows domain/retry.py, as for
e-mail: 408, 425, 429 and 5xx use an attempt (back-off with jitter, dead at the attempt
limit); no answer at all (connection refused, timeout) uses none, is bounded by the maximum
age, and stops the run after UNREACHABLE_AFTER in a row; other 4xx are dead at once.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import Any

import httpx

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from makegood.domain.offers import claimable
from makegood.domain.retry import Dead, Failure, Retry, Tries, UnreachableStreak, decide
from makegood.domain.tokens import hash_token, new_token
from makegood.notify.delivery import DeliveryEvent
from makegood.notify.feedback import signature
from makegood.notify.render import OfferNotice, RenderError, claim_url, render_short_text
from makegood.rate_limits import Pacer
from makegood.services.outbox_batch import DispatchReport, message_retry_policy
from makegood.settings import Settings
from makegood.store.outbox import new_message
from makegood.store.uow import UnitOfWork

CHANNELS = ("sms", "push")
TEMPORARY_STATUSES = (408, 425, 429)
BATCH_SIZE = 100


def configured_channels(settings: Settings) -> tuple[str, ...]:
    """The extra channels the operator configured, in a fixed order."""
    urls = {"sms": settings.sms_webhook_url, "push": settings.push_webhook_url}
    return tuple(channel for channel in CHANNELS if urls[channel])


def launch_rows(
    channels: tuple[str, ...],
    *,
    offer_id: str,
    account_id: str,
    template: str,
    needs_link: bool,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(claim token rows, message rows) for one offer's extra channels, for `launch`."""
    tokens: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for channel in channels:
        token = new_token() if needs_link else None
        if token is not None:
            tokens.append(
                {"token_hash": hash_token(token), "offer_id": offer_id, "created_at": now}
            )
        messages.append(
            new_message(
                new_id("msg"),
                account_id,
                template,
                now,
                offer_id=offer_id,
                channel=channel,
                claim_token=token,
            )
        )
    return tokens, messages


def dispatch_channel(
    container: Container,
    channel: str,
    *,
    stop: threading.Event | None = None,
    limiter: Pacer | None = None,
    retry_failed_now: bool = False,
    client: httpx.Client | None = None,
) -> DispatchReport:
    """Send every due message of `channel` to its provider once; see the module contract."""
    settings = container.settings
    url = {"sms": settings.sms_webhook_url, "push": settings.push_webhook_url}[channel]
    if not url:
        return DispatchReport()
    own_client = client is None
    http = client or container.open_channel_client()
    report = DispatchReport()
    cutoff = container.now()
    after = ""
    streak = UnreachableStreak()
    try:
        while report.stopped is None and not (stop is not None and stop.is_set()):
            with container.uow() as uow:
                rows = uow.outbox.lock_due_on(
                    channel,
                    cutoff,
                    after=after,
                    limit=BATCH_SIZE,
                    retry_failed_now=retry_failed_now,
                )
                if not rows:
                    break
                after = rows[-1]["id"]
                report.due += len(rows)
                accepted = []
                for row in rows:
                    if limiter is not None and not limiter.acquire(stop):
                        break
                    if _send_row(container, uow, http, url, row, report, streak):
                        accepted.append(row["id"])
                    if streak.down:
                        # The rest of the batch stays as it was, for a later run.
                        report.stopped = f"{channel} provider unreachable; the rest stays queued"
                        break
                now = container.now()
                report.sent += uow.outbox.mark_sent(accepted, now)
                uow.deliveries.record_events(
                    [DeliveryEvent(i, "accepted", "worker", now) for i in accepted]
                )
                uow.commit()
    finally:
        if own_client:
            http.close()
    return report


def _send_row(
    container: Container,
    uow: UnitOfWork,
    http: httpx.Client,
    url: str,
    row: dict[str, Any],
    report: DispatchReport,
    streak: UnreachableStreak,
) -> bool:
    """Post one message; records a failure here and returns True when the provider took it."""
    settings = container.settings
    now = container.now()
    if row["template"] != "offer_granted" and not claimable(
        row["offer_state"], row["expires_at"], now
    ):
        if uow.outbox.mark_skipped(row["id"], reason="not sent: the offer is no longer open"):
            report.skipped += 1
        return False
    notice = OfferNotice(
        template=row["template"],
        locale=row["locale"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        plan_name="",
        incident_title="",
        incident_starts_at=now,
        incident_ends_at=now,
        expires_at=row["expires_at"],
        claim_token=row["claim_token"],
    )
    try:
        short = render_short_text(notice, settings)
    except RenderError as exc:
        if uow.outbox.mark_failed(row["id"], reason=str(exc), dead=True, next_attempt_at=now):
            report.dead += 1
            uow.outbox.mark_inapp_urgent([row["id"]])
        return False
    body = json.dumps(
        {
            "message_id": row["id"],
            "channel": row["channel"],
            "account_id": row["account_id"],
            "locale": short.locale,  # the text's language, not always the account's
            "text": short.text,
            "claim_url": claim_url(settings, row["claim_token"]) if row["claim_token"] else None,
        },
        ensure_ascii=False,
    ).encode("utf-8")
    outcome = _post(http, url, body, row["id"], settings.channel_webhook_secret or "")
    streak.note(None if outcome is None else outcome[0])
    if outcome is None:
        return True
    failure, error = outcome
    tries = Tries(row["attempts"] - row["unreached"], row["unreached"], row["created_at"])
    policy = message_retry_policy(settings)
    match decide(failure, error, tries, policy, now, container.rng):
        case Dead(reason=reason):
            dead, retry_at = True, now
        case Retry(at=retry_at):
            dead, reason = False, error
    unreached = failure is Failure.UNREACHED
    if uow.outbox.mark_failed(
        row["id"], reason=reason, dead=dead, next_attempt_at=retry_at, unreached=unreached
    ):
        report.dead += dead
        report.failed += not dead
        kind = "bounced" if failure is Failure.PERMANENT else "deferred"
        uow.deliveries.record_events([DeliveryEvent(row["id"], kind, "worker", now, reason)])
        if dead:
            # Like a bounced e-mail: this channel will not reach them, so the app must.
            uow.outbox.mark_inapp_urgent([row["id"]])
    return False


def _post(
    http: httpx.Client, url: str, body: bytes, message_id: str, secret: str
) -> tuple[Failure, str] | None:
    """None when the provider accepted; else (the kind of failure, reason)."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": message_id,
        "X-Makegood-Timestamp": timestamp,
        "X-Makegood-Signature": signature(secret, timestamp, body),
    }
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.TransportError as exc:  # no answer: refused, lost, timed out
        return Failure.UNREACHED, f"provider unreachable: {type(exc).__name__}"
    except httpx.HTTPError as exc:  # an answer that could not be read
        return Failure.TRANSIENT, f"provider answer unreadable: {type(exc).__name__}"
    if 200 <= response.status_code < 300:
        return None
    status = response.status_code
    reason = f"provider answered {status}"
    temporary = status >= 500 or status in TEMPORARY_STATUSES
    return (Failure.TRANSIENT if temporary else Failure.PERMANENT), reason
