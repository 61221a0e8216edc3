"""Rate limits and send pacing on the `limits` library, in memory or shared through Redis.

MAKEGOOD_RATE_LIMIT_STORAGE picks the store: `memory://` (the default: each process counts on
its own) or `redis://HOST:PORT/DB` (`rediss://` for TLS), which every process and host using the
same Redis shares, so a limit holds for the whole fleet. Keys start with
MAKEGOOD_RATE_LIMIT_PREFIX and never hold an address or an IP in clear: each identifier is an
HMAC of the secret key (an IPv4 address hashed without a key could be found by trying them all).

Every limit is a moving window: at most `amount` hits in any `seconds`. When the store does not
answer, each limit does what its owner chose (`fail_open`): let the hit through (the limit only
slows guessing of 256-bit tokens, and refusing would stop subscribers from claiming), or refuse
with `RateLimitUnavailable` (the limit stands between the internet and mail to a stranger or a
password check).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from urllib.parse import urlsplit, urlunsplit

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from makegood.domain.errors import InvalidInput

log = logging.getLogger(__name__)

STORAGE_SETTING = "MAKEGOOD_RATE_LIMIT_STORAGE"
# A Redis that does not answer within this long counts as down (requests must not hang on it).
REDIS_TIMEOUT_SECONDS = 0.5
# Seconds a pacer waits before asking a store that did not answer again.
PACER_RETRY_SECONDS = 1.0

# The store's own clock (limits reads time.time()); tests move it with the store's.
wall_clock: Callable[[], float] = time.time


class RateLimitUnavailable(Exception):
    """The store did not answer and this limit fails closed: refuse, and try again later."""


def redacted(uri: str) -> str:
    """`uri` without its password, for messages."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


def open_storage(uri: str, prefix: str) -> Storage:
    """The store named by MAKEGOOD_RATE_LIMIT_STORAGE (checked by the settings); connects
    only when first used."""
    storage = storage_from_string(
        uri,
        key_prefix=prefix,
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    assert isinstance(storage, Storage)
    assert isinstance(storage, MovingWindowSupport)
    return storage


def require_storage(storage: Storage, uri: str) -> None:
    """Raise InvalidInput, naming the setting, when the store does not answer (at start: a
    server whose limits cannot count should not start)."""
    if storage.check():
        return
    raise InvalidInput(
        f"{STORAGE_SETTING}={redacted(uri)}: the store does not answer; start it, correct "
        "the setting, or set memory:// (limits counted in each process)"
    )


class RateLimit:
    """At most `amount` hits per key in any `seconds`, shared by all who use the same store."""

    def __init__(
        self,
        storage: Storage,
        name: str,
        amount: int,
        seconds: int,
        *,
        secret: str,
        fail_open: bool,
    ) -> None:
        if amount < 1 or seconds < 1:
            raise ValueError("a rate limit needs amount >= 1 and seconds >= 1")
        self.name = name
        self.amount = amount
        self.seconds = seconds
        self.fail_open = fail_open
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerSecond(amount, seconds, namespace=name)
        self._secret = secret.encode()

    def key(self, identifier: str) -> str:
        """What the store sees for `identifier`: an HMAC, never the address itself."""
        message = f"{self.name}\0{identifier}".encode("utf-8", "replace")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def _unavailable(self, exc: StorageError) -> bool:
        log.warning(
            "rate limit %s: the store did not answer (%s); %s",
            self.name,
            type(exc.storage_error).__name__,
            "letting the request through" if self.fail_open else "refusing the request",
        )
        if self.fail_open:
            return True
        raise RateLimitUnavailable(self.name) from exc

    def hit(self, identifier: str) -> bool:
        """Spend one hit of `identifier` if the window has room; True when it had."""
        try:
            return self._limiter.hit(self._item, self.key(identifier))
        except StorageError as exc:
            return self._unavailable(exc)

    def limited(self, identifier: str) -> bool:
        """True when `identifier` has no hit left; spends nothing."""
        try:
            return not self._limiter.test(self._item, self.key(identifier))
        except StorageError as exc:
            return not self._unavailable(exc)

    def retry_after(self, identifier: str) -> int:
        """Whole seconds until `identifier` has a hit again; at least 1."""
        try:
            stats = self._limiter.get_window_stats(self._item, self.key(identifier))
        except StorageError:
            return 1
        if stats.remaining > 0:
            return 1
        return max(1, math.ceil(stats.reset_time - wall_clock()))


def per_window(rate: float) -> tuple[int, int]:
    """`rate` per second as whole hits per whole seconds (2.5 -> 5 per 2, 0.25 -> 1 per 4)."""
    fraction = Fraction(rate).limit_denominator(3600)
    if fraction.numerator == 0:
        return 1, 3600
    return fraction.numerator, fraction.denominator


class Pacer:
    """At most `rate` sends per second on average, bursts up to one second's worth; shared by
    every process pacing `name` through the same store. A rate of 0 or less means no limit.

    When the store does not answer, the pacer waits and asks again (sending faster than the
    provider allows gets mail refused; waiting loses nothing, the outbox keeps it).
    """

    def __init__(self, storage: Storage, name: str, rate: float) -> None:
        self.rate = rate
        self.name = name
        self._limiter = MovingWindowRateLimiter(storage)
        amount, seconds = per_window(rate) if rate > 0 else (1, 1)
        self._item = RateLimitItemPerSecond(amount, seconds, namespace="pace")

    @property
    def limited(self) -> bool:
        return self.rate > 0

    def try_take(self) -> bool:
        """Take one send now if the window has room."""
        if not self.limited:
            return True
        return self._limiter.hit(self._item, self.name)

    def wait_time(self) -> float:
        """Seconds until a send may have room (0 when it has now); takes none."""
        if not self.limited:
            return 0.0
        stats = self._limiter.get_window_stats(self._item, self.name)
        if stats.remaining > 0:
            return 0.0
        return max(0.001, stats.reset_time - wall_clock())

    def acquire(
        self, stop: threading.Event | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> bool:
        """Take one send, waiting as needed; False if `stop` was set while waiting."""
        while True:
            try:
                if self.try_take():
                    return True
                # (at least a millisecond: at the window's very edge the store may still
                # refuse a hit its own statistics already give room for)
                delay = max(0.001, self.wait_time())
            except StorageError as exc:
                log.warning(
                    "pacing %s: the store did not answer (%s); waiting",
                    self.name,
                    type(exc.storage_error).__name__,
                )
                delay = PACER_RETRY_SECONDS
            if stop is not None:
                if stop.wait(delay):
                    return False
            else:
                sleep(delay)
