"""Clocks the tests move by hand: the services' clock, and the rate limits' wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta


class FrozenClock:
    """A clock the test moves by hand; never sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, value: datetime) -> None:
        self.now = value


class LimitsClock:
    """The wall clock the rate limits' memory store reads, stopped; moved only by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
