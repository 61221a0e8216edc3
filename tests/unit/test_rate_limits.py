"""Rate limits and pacing on `limits` in memory: windows, Retry-After, hashed keys, settings."""

from __future__ import annotations

import threading

import pytest
from limits.storage import MemoryStorage
from pydantic import ValidationError

from makegood.rate_limits import Pacer, RateLimit, per_window, redacted
from makegood.settings import Settings
from tests.harness.clock import LimitsClock


def limit(storage: MemoryStorage, amount: int = 3, seconds: int = 60) -> RateLimit:
    return RateLimit(storage, "test", amount, seconds, secret="s" * 32, fail_open=False)


def test_limited_spends_nothing(limits_clock: LimitsClock) -> None:
    bucket = limit(MemoryStorage())
    for _ in range(100):
        assert not bucket.limited("a")
    assert [bucket.hit("a") for _ in range(4)] == [True, True, True, False]
    assert bucket.limited("a")
    assert bucket.limited("a")  # asking again does not change it
    assert not bucket.limited("b")


def test_retry_after_is_the_whole_seconds_until_the_oldest_hit_leaves_the_window(
    limits_clock: LimitsClock,
) -> None:
    bucket = limit(MemoryStorage(), amount=5)
    assert bucket.retry_after("unknown") == 1
    bucket.hit("a")
    limits_clock.advance(20)
    for _ in range(4):
        bucket.hit("a")
    assert bucket.retry_after("a") == 40
    limits_clock.advance(2.5)
    assert bucket.retry_after("a") == 38  # 37.5 s, rounded up
    limits_clock.advance(38)
    assert not bucket.limited("a")
    assert bucket.retry_after("a") == 1  # never 0
    bucket.hit("a")
    assert bucket.limited("a")
    # a refused hit is not counted: failing while limited does not lengthen the wait
    for _ in range(10):
        assert not bucket.hit("a")
    assert bucket.retry_after("a") == 20  # the hits made at 20 s leave the window at 80 s


def test_the_store_sees_an_hmac_never_the_address(limits_clock: LimitsClock) -> None:
    storage = MemoryStorage()
    bucket = limit(storage)
    bucket.hit("203.0.113.9")
    bucket.hit("someone@example.com")
    keys = " ".join(storage.events)
    assert "203.0.113.9" not in keys
    assert "example.com" not in keys
    other_secret = RateLimit(storage, "test", 3, 60, secret="t" * 32, fail_open=False)
    assert other_secret.key("203.0.113.9") != bucket.key("203.0.113.9")


def test_a_limit_that_could_never_allow_is_refused() -> None:
    with pytest.raises(ValueError, match="amount >= 1"):
        limit(MemoryStorage(), amount=0)


def test_pacer_allows_a_second_at_once_then_the_rate(limits_clock: LimitsClock) -> None:
    pacer = Pacer(MemoryStorage(), "email", 3)
    assert [pacer.try_take() for _ in range(4)] == [True, True, True, False]
    assert pacer.wait_time() == pytest.approx(1.0)
    limits_clock.advance(1.5)
    assert [pacer.try_take() for _ in range(4)] == [True, True, True, False]


def test_pacer_acquire_waits_for_room_and_gives_up_when_stopped(limits_clock: LimitsClock) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        limits_clock.advance(seconds)

    pacer = Pacer(MemoryStorage(), "stripe", 4)
    for _ in range(5):
        assert pacer.acquire(sleep=sleep)
    # four in the first second; the fifth waits for it (and a millisecond at its very edge)
    assert slept[0] == pytest.approx(1.0)
    assert sum(slept) < 1.01
    stop = threading.Event()
    stop.set()
    slow = Pacer(MemoryStorage(), "sms", 0.001)  # one in 1000 s
    assert slow.acquire(stop)
    assert slow.acquire(stop) is False


def test_unlimited_pacer_never_waits() -> None:
    pacer = Pacer(MemoryStorage(), "email", 0)
    assert not pacer.limited
    assert all(pacer.try_take() for _ in range(1000))
    assert pacer.wait_time() == 0


def test_fractional_rates_become_whole_hits_per_whole_seconds() -> None:
    assert per_window(25) == (25, 1)
    assert per_window(2.5) == (5, 2)
    assert per_window(0.25) == (1, 4)
    assert per_window(0.001) == (1, 1000)


def test_storage_setting() -> None:
    assert Settings().rate_limit_storage == "memory://"
    assert Settings(rate_limit_storage="redis://127.0.0.1:6379/0").rate_limit_storage == (
        "redis://127.0.0.1:6379/0"
    )
    for wrong in ("memcached://127.0.0.1:11211", "redis://", "127.0.0.1:6379", "redis://h:x/0"):
        with pytest.raises(ValidationError, match=r"memory:// .* or redis://HOST:PORT/DB"):
            Settings(rate_limit_storage=wrong)
    with pytest.raises(ValidationError, match="rate_limit_prefix"):
        Settings(rate_limit_prefix="has space")


def test_passwords_are_not_repeated_in_messages() -> None:
    assert redacted("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redacted("redis://user:hunter2@cache/1") == "redis://user:***@cache/1"
    assert redacted("redis://cache:6379/0") == "redis://cache:6379/0"


def test_claim_failures_setting() -> None:
    assert Settings().claim_failures_per_minute == 20
    assert Settings(claim_failures_per_minute=0).claim_failures_per_minute == 0
    with pytest.raises(ValidationError, match="claim_failures_per_minute"):
        Settings(claim_failures_per_minute=-1)
