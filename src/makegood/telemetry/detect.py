"""Outage detection from attempt counts per time bucket and segment: engine-neutral, pure.

An engine (DuckDB, Spark) scans the attempt logs into `BucketRow`s; `propose_windows` turns
them into proposed incident windows with the rule below (docs/detection.md):

1. Per segment (the values of the --by columns) and bucket: failure ratio = failures / attempts.
2. Baseline of a (segment, bucket): the pooled failure ratio of the same segment and the same
   time-of-day bucket on the other UTC days in the data, when those hold at least
   `min_attempts` attempts; otherwise (one day of data, or too few attempts then) the segment's
   quiet level: the median failure ratio of its buckets with at least `min_attempts` attempts.
3. A bucket is flagged when it holds at least `min_attempts` attempts and its failure ratio is
   at least max(`ratio_factor` x baseline, baseline + `ratio_margin`).
4. A segment's flagged buckets at most `merge_gap` buckets apart form one run [first, last + 1
   bucket). Runs of any segments that overlap or lie at most `merge_gap` buckets apart form one
   window, with the list of their segments.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from makegood.domain.errors import InvalidInput

DAY_SECONDS = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {"s": 1, "m": 60, "h": 3600}
BY_COLUMNS = ("region", "device", "error_code")
Segment = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class BucketRow:
    """Usable attempts (rows; identical rows each count) of one segment in one bucket.

    `start`: the bucket's start, UTC, floor(epoch seconds / bucket seconds) x bucket seconds.
    `segment`: the values of the --by columns, in --by order (None for a missing value; the
    empty tuple without --by). Only buckets holding at least one attempt appear.
    """

    start: datetime
    segment: Segment
    attempts: int
    failures: int


@dataclass(frozen=True)
class DetectionRule:
    """The thresholds of the rule in this module's docstring."""

    bucket_seconds: int = 60
    min_attempts: int = 20
    ratio_factor: float = 3.0
    ratio_margin: float = 0.2
    merge_gap: int = 2

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Window:
    """A proposed incident window [start, end), bucket-aligned, over `segments`."""

    index: int  # 1-based, in order of start
    start: datetime
    end: datetime
    segments: tuple[Segment, ...]
    peak_failure_ratio: float  # the highest ratio among its flagged buckets
    baseline_failure_ratio: float  # its buckets' baselines, weighted by their attempts
    attempts: int  # every attempt of its segments in [start, end)
    failed_attempts: int
    accounts_touched: int | None = None  # distinct accounts failing in it; filled by the engine

    def as_dict(self, by: Sequence[str]) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "segments": [dict(zip(by, segment, strict=True)) for segment in self.segments],
            "peak_failure_ratio": round(self.peak_failure_ratio, 6),
            "baseline_failure_ratio": round(self.baseline_failure_ratio, 6),
            "attempts": self.attempts,
            "failed_attempts": self.failed_attempts,
            "accounts_touched": self.accounts_touched,
        }


@dataclass
class Detection:
    """What an engine found: its bucket rows, the rule, and the proposed windows."""

    rule: DetectionRule
    bucket: str
    by: tuple[str, ...]
    rows: list[BucketRow]
    windows: list[Window]
    rows_read: int = 0
    rows_bad: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "by": list(self.by),
            "rule": self.rule.as_dict(),
            "windows": [w.as_dict(self.by) for w in self.windows],
        }


def parse_bucket(text: str) -> int:
    """Seconds in a bucket written `30s`, `1m`, `5m`, `1h`; it must divide a day evenly."""
    found = re.fullmatch(r"\s*(\d+)\s*([smh])\s*", text)
    seconds = int(found.group(1)) * _UNITS[found.group(2)] if found else 0
    if not seconds or DAY_SECONDS % seconds:
        raise InvalidInput(
            f"--bucket {text!r}: write a length like 30s, 1m, 5m or 1h that divides a day"
        )
    return seconds


def parse_by(text: str | None) -> tuple[str, ...]:
    """The segment columns of `--by region,device` (none: the whole service is one segment)."""
    names = tuple(dict.fromkeys(n.strip() for n in (text or "").split(",") if n.strip()))
    unknown = [n for n in names if n not in BY_COLUMNS]
    if unknown:
        raise InvalidInput(f"--by {unknown[0]!r}: use some of {', '.join(BY_COLUMNS)}")
    return names


def check_by(by: Sequence[str]) -> None:
    """Refuse --by names other than BY_COLUMNS: engines splice them into their queries."""
    if any(name not in BY_COLUMNS for name in by):
        raise ValueError(f"unknown --by column in {list(by)}")


def bucket_us(rule: DetectionRule) -> int:
    return rule.bucket_seconds * 1_000_000


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _ratio(attempts: int, failures: int) -> float:
    return failures / attempts if attempts else 0.0


class _Baselines:
    """Baseline failure ratio per (segment, bucket start in micros)."""

    def __init__(self, cells: dict[tuple[Segment, int], tuple[int, int]], rule: DetectionRule):
        self.rule = rule
        day_us = DAY_SECONDS * 1_000_000
        self.days = {start // day_us for _, start in cells}
        # (segment, time of day) -> day -> (attempts, failures)
        self.by_tod: dict[tuple[Segment, int], dict[int, tuple[int, int]]] = defaultdict(dict)
        ratios: dict[Segment, list[float]] = defaultdict(list)
        for (segment, start), (attempts, failures) in cells.items():
            self.by_tod[(segment, start % day_us)][start // day_us] = (attempts, failures)
            if attempts >= rule.min_attempts:
                ratios[segment].append(_ratio(attempts, failures))
        self.quiet = {segment: median(values) for segment, values in ratios.items()}
        self.day_us = day_us

    def of(self, segment: Segment, start: int) -> float:
        attempts = failures = 0
        for day, (a, f) in self.by_tod[(segment, start % self.day_us)].items():
            if day != start // self.day_us:
                attempts, failures = attempts + a, failures + f
        if attempts >= self.rule.min_attempts:
            return _ratio(attempts, failures)
        return self.quiet.get(segment, 0.0)


def _runs(starts: list[int], gap_us: int, width: int) -> list[tuple[int, int]]:
    """[first, last + width) of starts at most `gap_us` apart (start to previous end)."""
    runs: list[tuple[int, int]] = []
    for start in sorted(starts):
        if runs and start - runs[-1][1] <= gap_us:
            runs[-1] = (runs[-1][0], start + width)
        else:
            runs.append((start, start + width))
    return runs


def propose_windows(rows: Iterable[BucketRow], rule: DetectionRule) -> list[Window]:
    """The windows the rule proposes from `rows` (any order), ordered by start, 1-based.

    Rows of the same segment and bucket are added up, so an engine may hand over partial
    counts. `accounts_touched` is left None for the engine to fill in."""
    width = bucket_us(rule)
    cells: dict[tuple[Segment, int], tuple[int, int]] = {}
    for row in rows:
        key = (tuple(row.segment), _micros(row.start))
        if key[1] % width:
            raise ValueError(f"bucket row start {row.start.isoformat()} is not bucket-aligned")
        attempts, failures = cells.get(key, (0, 0))
        cells[key] = (attempts + row.attempts, failures + row.failures)
    baselines = _Baselines(cells, rule)
    flagged: dict[Segment, list[int]] = defaultdict(list)
    for (segment, start), (attempts, failures) in cells.items():
        base = baselines.of(segment, start)
        threshold = max(rule.ratio_factor * base, base + rule.ratio_margin)
        # The tolerance keeps 30/100 at or above 3 x 10 % despite binary floating point.
        if attempts >= rule.min_attempts and _ratio(attempts, failures) >= threshold - 1e-9:
            flagged[segment].append(start)
    gap_us = rule.merge_gap * width
    runs = sorted(
        (start, end, segment)
        for segment, starts in flagged.items()
        for start, end in _runs(starts, gap_us, width)
    )
    groups: list[tuple[int, int, set[Segment]]] = []
    for start, end, segment in runs:
        if groups and start - groups[-1][1] <= gap_us:
            first, last, segments = groups[-1]
            segments.add(segment)
            groups[-1] = (first, max(last, end), segments)
        else:
            groups.append((start, end, {segment}))
    flagged_set = {(segment, start) for segment, starts in flagged.items() for start in starts}
    windows: list[Window] = []
    for index, (start, end, segments) in enumerate(groups, start=1):
        attempts = failures = 0
        weighted = peak = 0.0
        for segment in segments:
            for bucket in range(start, end, width):
                a, f = cells.get((segment, bucket), (0, 0))
                attempts, failures = attempts + a, failures + f
                weighted += a * baselines.of(segment, bucket)
                if (segment, bucket) in flagged_set:
                    peak = max(peak, _ratio(a, f))
        windows.append(
            Window(
                index=index,
                start=from_micros(start),
                end=from_micros(end),
                segments=tuple(sorted(segments, key=lambda s: tuple(v or "" for v in s))),
                peak_failure_ratio=peak,
                baseline_failure_ratio=weighted / attempts if attempts else 0.0,
                attempts=attempts,
                failed_attempts=failures,
            )
        )
    return windows


def bucket_baselines(
    rows: Iterable[BucketRow], rule: DetectionRule
) -> Callable[[Segment, datetime], float]:
    """The baseline failure ratio (step 2 of the rule) of any (segment, bucket start) over
    `rows`, exactly as `propose_windows` computes it; for charts that show it next to the
    ratio. Rows are added up per segment and bucket, as there."""
    cells: dict[tuple[Segment, int], tuple[int, int]] = {}
    for row in rows:
        key = (tuple(row.segment), _micros(row.start))
        attempts, failures = cells.get(key, (0, 0))
        cells[key] = (attempts + row.attempts, failures + row.failures)
    baselines = _Baselines(cells, rule)
    return lambda segment, start: baselines.of(tuple(segment), _micros(start))
