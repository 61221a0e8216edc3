"""What a connector answers for one posting, and how push retries (pure parts; pacing is
makegood.rate_limits.Pacer).

A connector sends one posting and reports an Outcome; it never touches the database. `retry`
means "try again with the same idempotency key" (rate limited, server error, network); `failed`
is a refusal that retrying cannot fix (bad customer id, validation); `skipped` means the posting
cannot be sent yet (no Stripe customer for the account).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from makegood.billing.postings import Posting

CONNECTORS = ("statement", "stripe", "webhook", "export")


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # acked | retry | failed | skipped
    external_id: str | None = None
    error: str | None = None


class Connector(Protocol):
    name: str

    def send(self, posting: Posting) -> Outcome: ...


def backoff_seconds(first: float, attempt: int) -> float:
    """Delay before retry number `attempt` (1-based): first, 2x first, 4x first, ..."""
    return float(first * 2 ** (attempt - 1))
