"""The retry rule (domain/retry.py): full-jitter back-off within [0, cap], growing with each
try, dead exactly at the attempt limit, and unanswered tries bounded by time, not attempts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.retry import (
    UNREACHABLE_AFTER,
    Dead,
    Failure,
    Retry,
    RetryPolicy,
    Tries,
    UnreachableStreak,
    ceiling,
    decide,
    delay,
)

NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(0, 20),
    first_delay=st.floats(0, 600, allow_nan=False),
    cap=st.floats(0.001, 86_400, allow_nan=False),
    max_age_hours=st.none() | st.floats(0.001, 24 * 30, allow_nan=False),
)
seeds = st.integers(0, 2**32)
counts = st.integers(0, 10_000)


@given(policies, st.integers(1, 10_000), seeds)
def test_every_wait_lies_within_zero_and_the_cap(
    policy: RetryPolicy, tries: int, seed: int
) -> None:
    wait = delay(policy, tries, random.Random(seed))
    assert timedelta(0) <= wait <= timedelta(seconds=min(policy.cap, ceiling(policy, tries)))


@given(policies, st.integers(1, 200), seeds)
def test_the_wait_grows_with_each_try_until_the_cap(
    policy: RetryPolicy, tries: int, seed: int
) -> None:
    # The ceiling, so the expected wait (half of it), never shrinks; and for one draw of the
    # jitter the wait after one more try is never shorter.
    assert ceiling(policy, tries) <= ceiling(policy, tries + 1)
    assert delay(policy, tries, random.Random(seed)) <= delay(
        policy, tries + 1, random.Random(seed)
    )


def test_the_ceiling_doubles_from_the_first_delay_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=5, first_delay=60, cap=3600)
    assert [ceiling(policy, n) for n in (1, 2, 3, 6, 7, 10_000)] == [
        60,
        120,
        240,
        1920,
        3600,
        3600,
    ]


def test_the_jitter_spreads_items_deferred_together() -> None:
    policy = RetryPolicy(max_attempts=5, first_delay=60, cap=3600)
    rng = random.Random(1)
    waits = [delay(policy, 3, rng) for _ in range(200)]
    assert len(set(waits)) == 200
    assert min(waits) < timedelta(seconds=30)
    assert max(waits) > timedelta(seconds=210)


@given(policies, counts, counts, seeds)
def test_a_transient_failure_is_dead_exactly_at_the_attempt_limit(
    policy: RetryPolicy, attempts: int, unreached: int, seed: int
) -> None:
    tries = Tries(attempts, unreached, NOW - timedelta(days=365))  # age plays no part
    decision = decide(Failure.TRANSIENT, "451 busy", tries, policy, NOW, random.Random(seed))
    if attempts + 1 >= policy.max_attempts:
        assert decision == Dead(f"gave up after {attempts + 1} attempts: 451 busy")
    else:
        assert isinstance(decision, Retry)
        assert NOW <= decision.at <= NOW + timedelta(seconds=policy.cap)


@given(policies, counts, counts, seeds)
def test_a_permanent_failure_is_dead_at_once_with_its_reason(
    policy: RetryPolicy, attempts: int, unreached: int, seed: int
) -> None:
    decision = decide(
        Failure.PERMANENT,
        "550 no such user",
        Tries(attempts, unreached, NOW),
        policy,
        NOW,
        random.Random(seed),
    )
    assert decision == Dead("550 no such user")


@given(policies, counts, counts, st.floats(0, 24 * 60, allow_nan=False), seeds)
def test_an_unanswered_try_uses_no_attempt_and_is_dead_only_past_the_deadline(
    policy: RetryPolicy, attempts: int, unreached: int, age_hours: float, seed: int
) -> None:
    queued = NOW - timedelta(hours=age_hours)
    tries = Tries(attempts, unreached, queued)
    decision = decide(Failure.UNREACHED, "timeout", tries, policy, NOW, random.Random(seed))
    deadline = policy.deadline(queued)
    if deadline is not None and deadline <= NOW:
        assert isinstance(decision, Dead)
        assert decision.reason.endswith(": timeout")
    else:  # however many attempts were used, and however many tries went unanswered
        assert isinstance(decision, Retry)
        assert NOW <= decision.at <= NOW + timedelta(seconds=policy.cap)


def test_unanswered_tries_lengthen_the_wait_too() -> None:
    policy = RetryPolicy(max_attempts=5, first_delay=60, cap=3600, max_age_hours=168)
    after = [
        decide(Failure.UNREACHED, "down", Tries(0, n, NOW), policy, NOW, random.Random(3))
        for n in (0, 4, 20)
    ]
    assert [d.at - NOW for d in after if isinstance(d, Retry)] == [
        delay(policy, n, random.Random(3)) for n in (1, 5, 21)
    ]


def test_the_server_is_down_after_unanswered_tries_in_a_row_only() -> None:
    streak = UnreachableStreak()
    outcomes = [Failure.UNREACHED, Failure.UNREACHED, None, Failure.UNREACHED]
    outcomes += [Failure.TRANSIENT, Failure.UNREACHED, Failure.UNREACHED]
    assert not any(streak.note(o) for o in outcomes)
    assert streak.note(Failure.UNREACHED) is True
    assert streak.down
    assert streak.count == UNREACHABLE_AFTER
