"""Per-client token buckets for the public pages, held in this process's memory.

Each key (a client address) may spend `capacity` tokens at once and gains `refill_per_minute`
back, up to `capacity`. The buckets reset when the server restarts and are per process (run one
worker, or put a shared limiter in front). At most `max_clients` keys are remembered; the one
touched longest ago is forgotten first, so memory stays bounded whatever the traffic.

Two ways to use it: `allow(key)` spends a token per request and says whether there was one (the
genuine check, console login); or spend only on failures (`allow`) and ask `limited(key)`, which
spends nothing, before doing any work (the claim pages: a valid link is never slowed).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import Request

# Float slack: a bucket refilled to 0.9999999999 by rounding counts as holding one token.
_EPSILON = 1e-9


def client_address(request: Request) -> str:
    """The key a client is limited by: its address (`request.client.host`). Behind a proxy,
    uvicorn's --proxy-headers/--forwarded-allow-ips put the X-Forwarded-For address there."""
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimited(Exception):
    """A client spent its tokens; it may try again in `retry_after` seconds (at least 1)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


class TokenBucket:
    """Per-key token buckets; `allow(key)` spends one token if there is one."""

    def __init__(
        self,
        capacity: int = 10,
        refill_per_minute: float = 10.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or refill_per_minute <= 0 or max_clients < 1:
            raise ValueError(
                "a token bucket needs capacity >= 1, refill_per_minute > 0 and max_clients >= 1"
            )
        self.capacity = capacity
        self.refill_per_minute = float(refill_per_minute)
        self.max_clients = max_clients
        self.clock = clock
        # key -> (tokens at `last`, last); oldest-touched first.
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _tokens(self, entry: tuple[float, float], now: float) -> float:
        tokens, last = entry
        # A wall clock may step back: time never refills a bucket negatively.
        now = max(now, last)
        # (elapsed * per-minute / 60 rather than elapsed * per-second: whole seconds of refill
        # come out exact, so `retry_after` seconds later a token is really there)
        return min(float(self.capacity), tokens + (now - last) * self.refill_per_minute / 60.0)

    def allow(self, key: str) -> bool:
        """Spend one token of `key` if it has one; True when it had."""
        with self._lock:
            now = self.clock()
            entry = self.buckets.pop(key, None)
            tokens = float(self.capacity) if entry is None else self._tokens(entry, now)
            allowed = tokens + _EPSILON >= 1.0
            if allowed:
                tokens = max(0.0, tokens - 1.0)
            self.buckets[key] = (tokens, now)
            while len(self.buckets) > self.max_clients:
                self.buckets.popitem(last=False)
            return allowed

    def limited(self, key: str) -> bool:
        """True when `key` has no token left; spends nothing. A key that never spent costs one
        dict lookup (no clock read, no lock)."""
        entry = self.buckets.get(key)
        if entry is None:
            return False
        return self._tokens(entry, self.clock()) + _EPSILON < 1.0

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` has a token again; at least 1."""
        entry = self.buckets.get(key)
        if entry is None:
            return 1
        missing = 1.0 - self._tokens(entry, self.clock())
        return max(1, math.ceil(missing * 60.0 / self.refill_per_minute - _EPSILON))
