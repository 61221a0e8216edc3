"""The web pages' per-client token buckets: spending, the non-spending check, Retry-After."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from makegood.settings import Settings
from makegood.web.genuine import TokenBucket as ExportedFromGenuine
from makegood.web.ratelimit import TokenBucket


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limited_spends_nothing_and_costs_nothing_for_a_client_that_never_failed() -> None:
    ticks = Ticks()
    bucket = TokenBucket(capacity=3, refill_per_minute=3, clock=ticks)
    for _ in range(100):
        assert not bucket.limited("a")
    assert bucket.buckets == {}  # nothing remembered for clients that only ask
    assert [bucket.allow("a") for _ in range(3)] == [True, True, True]
    assert bucket.limited("a")
    assert bucket.limited("a")  # asking again does not change it
    assert not bucket.limited("b")


def test_retry_after_is_the_whole_seconds_until_a_token_is_back() -> None:
    ticks = Ticks()
    bucket = TokenBucket(capacity=5, refill_per_minute=5, clock=ticks)
    assert bucket.retry_after("unknown") == 1
    for _ in range(5):
        bucket.allow("a")
    assert bucket.retry_after("a") == 12
    ticks.now = 2.5
    assert bucket.retry_after("a") == 10  # 9.5 s, rounded up
    ticks.now = 12.0
    assert not bucket.limited("a")
    assert bucket.retry_after("a") == 1  # never 0
    bucket.allow("a")
    assert bucket.limited("a")
    # an empty bucket does not go below zero: failing while limited does not lengthen the wait
    for _ in range(10):
        assert not bucket.allow("a")
    assert bucket.retry_after("a") == 12


def test_memory_is_bounded_least_recently_spent_forgotten_first() -> None:
    ticks = Ticks()
    bucket = TokenBucket(capacity=1, refill_per_minute=1, max_clients=2, clock=ticks)
    for key in ("x", "y", "z"):
        bucket.allow(key)
    assert list(bucket.buckets) == ["y", "z"]
    assert not bucket.limited("x")  # forgotten
    assert bucket.limited("z")


def test_a_bucket_that_could_never_allow_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity >= 1"):
        TokenBucket(capacity=0)
    with pytest.raises(ValueError, match="refill_per_minute > 0"):
        TokenBucket(capacity=1, refill_per_minute=0)


def test_genuine_page_still_exports_the_bucket() -> None:
    assert ExportedFromGenuine is TokenBucket


def test_claim_failures_setting() -> None:
    assert Settings().claim_failures_per_minute == 20
    assert Settings(claim_failures_per_minute=0).claim_failures_per_minute == 0
    with pytest.raises(ValidationError, match="claim_failures_per_minute"):
        Settings(claim_failures_per_minute=-1)
