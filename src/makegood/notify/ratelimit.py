"""A token bucket: at most `rate` messages per second on average, bursts up to `burst`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Per-channel send rate of one worker. A rate of 0 or less means no limit.

    `acquire` waits on the stop event rather than sleeping, so SIGTERM ends the wait at once.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate)
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()

    @property
    def limited(self) -> bool:
        return self.rate > 0

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is there now); takes none."""
        if not self.limited:
            return 0.0
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def try_take(self) -> bool:
        if not self.limited:
            return True
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Take one token, waiting as needed; False if `stop` was set while waiting."""
        while not self.try_take():
            delay = self.wait_time()
            if stop is not None:
                if stop.wait(delay):
                    return False
            else:
                time.sleep(delay)
        return True

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now
