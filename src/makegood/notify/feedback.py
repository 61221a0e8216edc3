"""What comes back after sending: bounce files, and the provider's signed webhook (the
adapter part: reports, signatures, parsing; services/delivery_feedback.py records them).

Both end in `services.delivery_feedback.record_feedback`: the event is stored on its
message, a bounced or complaining address is suppressed (by hash), and the offer's in-app
message marked urgent.

Webhook signature (documented in docs/notifications.md): the provider sends
``X-Makegood-Timestamp: <unix seconds>`` and
``X-Makegood-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>``;
requests outside the replay window (settings.webhook_tolerance_seconds) are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from makegood.domain.errors import InvalidInput
from makegood.notify import dsn
from makegood.notify.delivery import DeliveryEvent

WEBHOOK_KINDS = ("accepted", "delivered", "deferred", "bounced", "complained")
SIGNATURE_VERSION = "v1"


class BadSignature(Exception):
    """The webhook request is not signed with our secret, or is too old or too new."""


@dataclass
class FeedbackReport:
    """What an import or a webhook call did."""

    read: int = 0  # report messages or webhook events looked at
    recorded: int = 0  # events stored on one of our messages
    ignored: int = 0  # not about one of our messages, or not a delivery report

    def add(self, other: FeedbackReport) -> None:
        self.read += other.read
        self.recorded += other.recorded
        self.ignored += other.ignored


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp` (providers compute this)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def check_signature_headers(
    *, timestamp: str | None, given: str | None, now: datetime, tolerance_seconds: int
) -> None:
    """Raise BadSignature when the headers alone refuse the request (missing, or a time outside
    the replay window): the receiver need not read the body then."""
    if not timestamp or not given:
        raise BadSignature("missing signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise BadSignature("timestamp is not a number of seconds") from None
    if abs(now.timestamp() - sent_at) > tolerance_seconds:
        raise BadSignature("timestamp outside the replay window")


def verify_signature(
    secret: str,
    *,
    timestamp: str | None,
    body: bytes,
    given: str | None,
    now: datetime,
    tolerance_seconds: int,
) -> None:
    """Raise BadSignature unless `given` signs `timestamp` + `body` and the time is fresh."""
    check_signature_headers(
        timestamp=timestamp, given=given, now=now, tolerance_seconds=tolerance_seconds
    )
    assert timestamp is not None
    assert given is not None
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, part.strip()) for part in given.split(",")):
        raise BadSignature("signature does not match")


def webhook_events(body: bytes, *, domain: str, now: datetime) -> list[DeliveryEvent | None]:
    """The events of a webhook body (None for entries that name none of our messages).

    Body: ``{"events": [{"message_id": "<msg_x@domain>" | "msg_x", "event": "bounced",
    "at": "2026-03-23T09:00:00Z", "detail": "550 5.1.1 ..."}]}``. Raises InvalidInput.
    """
    try:
        document = json.loads(body)
        entries = document["events"]
        if not isinstance(entries, list):
            raise TypeError("events must be a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f'body must be JSON {{"events": [...]}}: {exc}') from None
    events: list[DeliveryEvent | None] = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidInput(f"events[{number}]: must be an object")
        kind = entry.get("event")
        if kind not in WEBHOOK_KINDS:
            raise InvalidInput(f"events[{number}].event: must be one of {', '.join(WEBHOOK_KINDS)}")
        raw_id = str(entry.get("message_id") or "")
        message = dsn.outbox_id(raw_id, domain) if "@" in raw_id else (raw_id or None)
        at = _instant(entry.get("at"), now, number)
        detail = entry.get("detail")
        events.append(
            None
            if message is None
            else DeliveryEvent(message, str(kind), "webhook", at, str(detail) if detail else None)
        )
    return events


def _instant(value: object, now: datetime, number: int) -> datetime:
    if value is None:
        return now
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"events[{number}].at: not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"events[{number}].at: needs a UTC offset (Z or +00:00)")
    return moment.astimezone(UTC)
