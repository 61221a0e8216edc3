"""Retry or dead: one rule for every channel (e-mail, SMS, push) and for billing postings.

A failed try is one of three kinds, told apart by the adapter that made it:

- `PERMANENT`: the other side answered with a refusal that trying again cannot fix (an SMTP 5xx,
  an HTTP 4xx other than 408/409/425/429): dead at once.
- `TRANSIENT`: the other side answered "not now" (an SMTP 4xx, HTTP 408/409/425/429/5xx). It
  uses one attempt; dead once the attempts reach the limit, else retried after the back-off.
- `UNREACHED`: the try never got an answer (connection refused or lost, a timeout, an SMTP
  421 or a refused session). That says nothing about this item, only about the server, so it
  uses no attempt: an outage, however long, does not use up the attempts. It is bounded by
  time instead: past its deadline (queued + the maximum age) the item is dead too, so
  nothing is retried for ever. Billing postings have no deadline: a posting is never given
  up for good, `billing push` is run again by the operator (see `decide`).

Within one run the server itself is judged too: after `UNREACHABLE_AFTER` unreached tries in
a row (`UnreachableStreak`) the run stops, and what it has not tried yet stays as it was.

Back-off: exponential with full jitter and a cap. Before try n + 1 (n tries so far, of any
kind) the wait is uniform in [0, min(cap, first * 2^(n-1))]: items deferred together spread
over the whole window instead of coming back at one instant, the expected wait doubles with
each try, and no wait exceeds the cap (so an item kept back by a long outage is tried at
least that often once the server is back). The random source is passed in, so tests seed it.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# Unreached tries in a row after which a run takes the server to be down and stops.
UNREACHABLE_AFTER = 3

# 2^32 first delays already exceed any sensible cap; beyond that the float would overflow.
_MAX_DOUBLINGS = 32


class Failure(enum.Enum):
    """What a failed try says about the item (see the module docstring)."""

    PERMANENT = "permanent"
    TRANSIENT = "transient"
    UNREACHED = "unreached"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The limits of one kind of item: attempts, first delay and cap of the wait (seconds),
    and the maximum age (hours) after which a server not reached makes it dead."""

    max_attempts: int
    first_delay: float
    cap: float
    max_age_hours: float | None = None  # None: unreached tries alone never make it dead

    def deadline(self, queued_at: datetime | None) -> datetime | None:
        """When an item queued at `queued_at` stops being retried for want of an answer."""
        if self.max_age_hours is None or queued_at is None:
            return None
        return queued_at + timedelta(hours=self.max_age_hours)


@dataclass(frozen=True, slots=True)
class Tries:
    """An item's history before the failure being decided."""

    attempts: int  # failed tries that used an attempt (TRANSIENT), before this one
    unreached: int = 0  # failed tries that never reached the server, before this one
    queued_at: datetime | None = None  # when the item was queued: its deadline counts from it

    @property
    def total(self) -> int:
        return self.attempts + self.unreached


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again at `at` (never earlier)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Dead:
    """Give up; `reason` says why, for the item's last error."""

    reason: str


Decision = Retry | Dead


def decide(
    failure: Failure,
    reason: str,
    tries: Tries,
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random,
) -> Decision:
    """Retry (when) or dead (why) after a failed try whose error is `reason`."""
    if failure is Failure.PERMANENT:
        return Dead(reason)
    if failure is Failure.TRANSIENT and tries.attempts + 1 >= policy.max_attempts:
        return Dead(f"gave up after {tries.attempts + 1} attempts: {reason}")
    deadline = policy.deadline(tries.queued_at)
    if failure is Failure.UNREACHED and deadline is not None and now >= deadline:
        hours = f"{policy.max_age_hours:g}"
        return Dead(f"gave up: no answer from the server within {hours} h of queueing: {reason}")
    return Retry(now + delay(policy, tries.total + 1, rng))


def delay(policy: RetryPolicy, tries: int, rng: random.Random) -> timedelta:
    """The wait after `tries` tries (1-based): uniform in [0, min(cap, first * 2^(tries-1))]."""
    return timedelta(seconds=rng.uniform(0.0, ceiling(policy, tries)))


def ceiling(policy: RetryPolicy, tries: int) -> float:
    """The longest wait after `tries` tries: first * 2^(tries-1), at most the cap."""
    doublings = min(max(0, tries - 1), _MAX_DOUBLINGS)
    return max(0.0, min(policy.first_delay * 2.0**doublings, policy.cap))


class UnreachableStreak:
    """Unreached tries in a row within one run; `down` once there were UNREACHABLE_AFTER."""

    def __init__(self, limit: int = UNREACHABLE_AFTER) -> None:
        self.limit = limit
        self.count = 0

    def note(self, failure: Failure | None) -> bool:
        """Record a try's outcome (None: it went through); True once the server is down."""
        self.count = self.count + 1 if failure is Failure.UNREACHED else 0
        return self.down

    @property
    def down(self) -> bool:
        return self.count >= self.limit
