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

import sqlalchemy as sa

from makegood.store import outbox
from makegood.store import tables as t

# Label values (in the family's label order) and the count.
Samples = list[tuple[tuple[str, ...], float]]


@dataclass(frozen=True)
class DatabaseCounts:
    offers: Samples
    messages: Samples


def read_counts(conn: sa.Connection) -> DatabaseCounts:
    """Offers by state and messages by channel and state, as gauge samples."""
    o, m = t.offers, outbox.all_messages()
    offers = conn.execute(
        sa.select(o.c.state, sa.func.count()).group_by(o.c.state).order_by(o.c.state)
    ).all()
    messages = conn.execute(
        sa.select(m.c.channel, m.c.state, sa.func.count())
        .group_by(m.c.channel, m.c.state)
        .order_by(m.c.channel, m.c.state)
    ).all()
    return DatabaseCounts(
        offers=[((str(s),), float(n)) for s, n in offers],
        messages=[((str(c), str(s)), float(n)) for c, s, n in messages],
    )


class CachedCounts:
    """`read_counts` at most once per `ttl_seconds`; concurrent scrapes share one read."""

    def __init__(
        self,
        engine: sa.Engine,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.ttl = ttl_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._value: DatabaseCounts | None = None
        self._read_at = 0.0

    def get(self) -> DatabaseCounts:
        with self._lock:
            now = self.monotonic()
            if self._value is None or now - self._read_at >= self.ttl:
                with self.engine.connect() as conn:
                    self._value = read_counts(conn)
                self._read_at = now
            return self._value
