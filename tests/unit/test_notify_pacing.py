"""Pacing: the token bucket's rate limit and the retry back-off with jitter."""

from __future__ import annotations

import threading
from datetime import timedelta

from makegood.notify.batch import retry_delay
from makegood.notify.ratelimit import TokenBucket


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    ticks = Ticks()
    bucket = TokenBucket(10, burst=3, clock=ticks)

    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert abs(bucket.wait_time() - 0.1) < 1e-9
    ticks.now = 0.25  # 2.5 tokens came back
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]


def test_unlimited_bucket_never_waits() -> None:
    bucket = TokenBucket(0)
    assert not bucket.limited
    assert all(bucket.try_take() for _ in range(1000))


def test_acquire_gives_up_when_stopped() -> None:
    ticks = Ticks()
    bucket = TokenBucket(0.001, burst=1, clock=ticks)  # the next token in 1000 s
    assert bucket.acquire()
    stop = threading.Event()
    stop.set()
    assert bucket.acquire(stop) is False


def test_back_off_doubles_with_jitter_within_bounds() -> None:
    for attempts, base in ((1, 60), (2, 120), (3, 240), (6, 1920)):
        delays = {retry_delay(60, attempts) for _ in range(50)}
        assert all(timedelta(seconds=base / 2) <= d < timedelta(seconds=base) for d in delays)
        assert len(delays) > 1  # jittered, not all the same instant


def test_back_off_stops_growing_at_an_hour() -> None:
    for attempts in (7, 20, 10_000):
        delay = retry_delay(60, attempts)
        assert timedelta(minutes=30) <= delay < timedelta(hours=1)
