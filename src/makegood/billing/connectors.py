"""What a connector answers for one posting, and how push paces and retries (pure parts).

A connector sends one posting and reports an Outcome; it never touches the database. `retry`
means "try again with the same idempotency key" (rate limited, server error, network); `failed`
is a refusal that retrying cannot fix (bad customer id, validation); `skipped` means the posting
cannot be sent yet (no Stripe customer for the account).
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


class Pacer:
    """At most `rate` calls per second: waits before a call that would come too early.

    Monotonic time, so clock changes do not burst or stall; rate <= 0 means no limit.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def backoff_seconds(first: float, attempt: int) -> float:
    """Delay before retry number `attempt` (1-based): first, 2x first, 4x first, ..."""
    return float(first * 2 ** (attempt - 1))
