"""What the database holds, counted cheaply (one GROUP BY per table) and cached briefly.

These are the fleet-wide numbers: every web process reports the same values, so they can be
scraped from any one of them. Scrapes at any rate cost at most one pair of queries per
`ttl_seconds` per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from makegood.store.uow import UnitOfWork

# Label values (in the family's label order) and the count.
Samples = list[tuple[tuple[str, ...], float]]


@dataclass(frozen=True)
class DatabaseCounts:
    offers: Samples
    messages: Samples


def read_counts(uow: UnitOfWork) -> DatabaseCounts:
    """Offers by state and messages by channel and state, as gauge samples."""
    offers = uow.reports.offers_by_state()
    messages = uow.reports.messages_by_channel_and_state()
    return DatabaseCounts(
        offers=[((s,), float(n)) for s, n in offers],
        messages=[((c, s), float(n)) for c, s, n in messages],
    )


class CachedCounts:
    """`read_counts` at most once per `ttl_seconds`; concurrent scrapes share one read."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.uow = uow  # a fresh unit of work for each read
        self.ttl = ttl_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._value: DatabaseCounts | None = None
        self._read_at = 0.0

    def get(self) -> DatabaseCounts:
        with self._lock:
            now = self.monotonic()
            if self._value is None or now - self._read_at >= self.ttl:
                with self.uow() as uow:
                    self._value = read_counts(uow)
                self._read_at = now
            return self._value
