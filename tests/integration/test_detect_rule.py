"""The engine-neutral detection rule (telemetry.detect.propose_windows), on hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from makegood.domain.errors import InvalidInput
from makegood.telemetry.detect import (
    BucketRow,
    DetectionRule,
    parse_bucket,
    parse_by,
    propose_windows,
)

DAY1 = datetime(2026, 3, 20, tzinfo=UTC)
RULE = DetectionRule(bucket_seconds=60, min_attempts=20)


def minute(day: int, hour: int, m: int) -> datetime:
    return DAY1 + timedelta(days=day, hours=hour, minutes=m)


def flat(
    segment: tuple[str | None, ...], days: int = 3, attempts: int = 100, failures: int = 1
) -> list[BucketRow]:
    """Every minute 20:00-21:59 of each day with the same failure count."""
    return [
        BucketRow(minute(d, 20, 0) + timedelta(minutes=m), segment, attempts, failures)
        for d in range(days)
        for m in range(120)
    ]


def with_outage(
    rows: list[BucketRow],
    segment: tuple[str | None, ...],
    day: int,
    first: int,
    last: int,
    failures: int = 60,
) -> list[BucketRow]:
    hit = {minute(day, 20, 0) + timedelta(minutes=m) for m in range(first, last + 1)}
    return [
        BucketRow(r.start, r.segment, r.attempts, failures)
        if r.segment == segment and r.start in hit
        else r
        for r in rows
    ]


def test_a_flat_world_proposes_nothing() -> None:
    assert propose_windows(flat(("eu",)) + flat(("us",)), RULE) == []


def test_an_outage_is_one_window_with_its_segments_and_evidence() -> None:
    rows = flat(("eu",)) + flat(("us",)) + flat(("jp",))
    rows = with_outage(rows, ("eu",), 1, 10, 39)  # 20:10-20:39 on day 2
    rows = with_outage(rows, ("us",), 1, 12, 41, failures=40)
    [window] = propose_windows(rows, RULE)
    assert window.index == 1
    assert window.start == minute(1, 20, 10)
    assert window.end == minute(1, 20, 42)  # exclusive, bucket-aligned
    assert window.segments == (("eu",), ("us",))
    assert window.peak_failure_ratio == pytest.approx(0.6)
    assert window.baseline_failure_ratio == pytest.approx(0.01)  # the other days, same minutes
    assert window.attempts == 2 * 32 * 100
    assert window.failed_attempts == 30 * 60 + 2 * 1 + 30 * 40 + 2 * 1
    assert window.accounts_touched is None  # the engine counts accounts


def test_near_buckets_merge_and_far_ones_make_two_windows_ordered_by_start() -> None:
    rows = flat(("eu",))
    rows = with_outage(rows, ("eu",), 1, 10, 14)
    rows = with_outage(rows, ("eu",), 1, 17, 19)  # 2 quiet buckets between: merged
    rows = with_outage(rows, ("eu",), 1, 60, 64)  # far: a second window
    windows = propose_windows(list(reversed(rows)), RULE)
    assert [(w.index, w.start, w.end) for w in windows] == [
        (1, minute(1, 20, 10), minute(1, 20, 20)),
        (2, minute(1, 21, 0), minute(1, 21, 5)),
    ]


@pytest.mark.parametrize(
    ("usual", "below", "at"),
    [
        (20, 59, 60),  # baseline 20 %: 3 x baseline (60 %) is the larger threshold
        (1, 20, 21),  # baseline 1 %: baseline + 20 points (21 %) is the larger threshold
    ],
)
def test_the_threshold_is_the_larger_of_factor_and_margin(usual: int, below: int, at: int) -> None:
    base = flat(("eu",), failures=usual)
    assert propose_windows(with_outage(base, ("eu",), 1, 0, 0, failures=below), RULE) == []
    [window] = propose_windows(with_outage(base, ("eu",), 1, 0, 0, failures=at), RULE)
    assert window.peak_failure_ratio == pytest.approx(at / 100)


def test_buckets_with_too_few_attempts_are_never_flagged() -> None:
    base = flat(("eu",))
    few = [
        BucketRow(r.start, r.segment, 19, 19) if r.start == minute(1, 20, 0) else r for r in base
    ]
    assert propose_windows(few, RULE) == []
    assert len(propose_windows(few, DetectionRule(bucket_seconds=60, min_attempts=19))) == 1


def test_one_day_of_data_uses_the_segments_quiet_level() -> None:
    rows = with_outage(flat(("eu",), days=1), ("eu",), 0, 30, 50)
    [window] = propose_windows(rows, RULE)
    assert (window.start, window.end) == (minute(0, 20, 30), minute(0, 20, 51))
    assert window.baseline_failure_ratio == pytest.approx(0.01)  # the median minute


def test_a_recurring_daily_spike_is_its_own_baseline() -> None:
    rows = flat(("eu",))
    for day in range(3):
        rows = with_outage(rows, ("eu",), day, 0, 5)
    assert propose_windows(rows, RULE) == []


def test_partial_rows_of_one_bucket_add_up_and_unaligned_rows_are_refused() -> None:
    rows = with_outage(flat(("eu",)), ("eu",), 1, 0, 0)
    halves = [BucketRow(r.start, r.segment, r.attempts // 2, r.failures // 2) for r in rows]
    assert len(propose_windows(halves + halves, RULE)) == 1
    with pytest.raises(ValueError, match="not bucket-aligned"):
        propose_windows([BucketRow(minute(0, 0, 0) + timedelta(seconds=1), (), 1, 0)], RULE)


def test_bucket_and_by_options() -> None:
    assert [parse_bucket(t) for t in ("30s", "1m", "5m", "1h")] == [30, 60, 300, 3600]
    for bad in ("7m", "0m", "1d", "m", "25h"):
        with pytest.raises(InvalidInput, match="--bucket"):
            parse_bucket(bad)
    assert parse_by("region, device,region") == ("region", "device")
    assert parse_by(None) == ()
    with pytest.raises(InvalidInput, match="--by 'country'"):
        parse_by("country")
