"""The retry back-off with jitter (the send pacing: tests/unit/test_rate_limits.py)."""

from __future__ import annotations

from datetime import timedelta

from makegood.notify.batch import retry_delay


def test_back_off_doubles_with_jitter_within_bounds() -> None:
    for attempts, base in ((1, 60), (2, 120), (3, 240), (6, 1920)):
        delays = {retry_delay(60, attempts) for _ in range(50)}
        assert all(timedelta(seconds=base / 2) <= d < timedelta(seconds=base) for d in delays)
        assert len(delays) > 1  # jittered, not all the same instant


def test_back_off_stops_growing_at_an_hour() -> None:
    for attempts in (7, 20, 10_000):
        delay = retry_delay(60, attempts)
        assert timedelta(minutes=30) <= delay < timedelta(hours=1)
