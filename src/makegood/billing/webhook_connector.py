"""A signed webhook for any other billing system: one POST per posting, HMAC-SHA256 signed.

Header `Makegood-Signature: t=UNIX_SECONDS,v1=HEX` where HEX is HMAC-SHA256(secret,
"{t}.{body}") — the receiver recomputes it over the raw body and refuses stale timestamps.
`Idempotency-Key` carries the posting's key, so the receiver can drop a resend. A 2xx answer
acknowledges (its JSON `id`, if any, is kept as the external id); 408, 409, 429 and 5xx are
retried with backoff; any other status is a refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from makegood.billing.connectors import Outcome
from makegood.domain.errors import InvalidInput
from makegood.domain.money import format_major
from makegood.settings import Settings
from makegood.store.postings import Posting

SIGNATURE_HEADER = "Makegood-Signature"
RETRIED = (408, 409, 429)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Makegood-Signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within `tolerance`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def payload(posting: Posting) -> dict[str, Any]:
    """The JSON body: what to book, in minor units and as a decimal string."""
    return {
        "type": "credit.apply" if posting.purpose == "credit" else "credit.reverse",
        "posting_id": posting.id,
        "idempotency_key": posting.idempotency_key,
        "credit_id": posting.credit_id,
        "campaign_id": posting.campaign_id,
        "account_id": posting.account_id,
        "amount_minor": posting.amount_minor,
        "amount": format_major(posting.amount_minor, posting.currency),
        "currency": posting.currency,
        "description": f"Make-good credit: {posting.label}",
    }


class WebhookConnector:
    name = "webhook"

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        if not settings.billing_webhook_url or not settings.billing_webhook_secret:
            raise InvalidInput(
                "the webhook connector needs MAKEGOOD_BILLING_WEBHOOK_URL and "
                "MAKEGOOD_BILLING_WEBHOOK_SECRET"
            )
        self.url = settings.billing_webhook_url
        self.secret = settings.billing_webhook_secret
        self.clock = clock
        self.http = httpx.Client(timeout=timeout)

    def send(self, posting: Posting) -> Outcome:
        body = json.dumps(payload(posting), separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": posting.idempotency_key,
            SIGNATURE_HEADER: sign(self.secret, int(self.clock()), body),
        }
        try:
            response = self.http.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:  # no answer: refused, lost, timed out
            return Outcome("unreached", error=f"webhook: {exc.__class__.__name__}")
        except httpx.HTTPError as exc:  # an answer that could not be read
            return Outcome("retry", error=f"webhook: {exc.__class__.__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome("acked", external_id=_external_id(response))
        error = f"webhook {status}: {response.text[:200]}"
        return Outcome("retry" if status >= 500 or status in RETRIED else "failed", error=error)


def _external_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return str(value)[:255] if value else None
