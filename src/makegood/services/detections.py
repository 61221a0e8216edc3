"""Incidents declared from a detection, and the detection series kept with them.

`declare_from_detection` records the incident for window N of a detection and keeps, next to
it, what the console draws: per bucket of that window's segments (the window and some context
either side) the attempts, the failures and the rule's baseline ratio. An incident declared by
hand has no such record, and its page says that no telemetry was analysed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from makegood.bootstrap import Container
from makegood.domain.errors import NotFound
from makegood.services.incidents import create_incident
from makegood.store.uow import UnitOfWork
from makegood.telemetry.detect import Detection, Segment, Window, bucket_baselines

# Context either side of the window, in buckets: at least this many, or the window's length.
MIN_CONTEXT_BUCKETS = 30
# Bounds that keep one record (and the page drawing it) small whatever the logs hold.
MAX_BUCKETS = 720  # time steps kept, window first, then context evenly either side
MAX_SEGMENTS = 24  # the window's segments with the most failures in it


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket of one segment: the rule's inputs and its baseline there."""

    start: datetime
    segment: Segment
    attempts: int
    failures: int
    baseline: float

    @property
    def ratio(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


@dataclass(frozen=True, slots=True)
class DetectionRecord:
    """What an incident was declared from: the window, the rule and the series around it."""

    bucket: str
    bucket_seconds: int
    by: tuple[str, ...]
    rule: dict[str, Any]
    window: dict[str, Any]
    window_start: datetime
    window_end: datetime
    points: tuple[Point, ...]

    @property
    def min_attempts(self) -> int:
        return int(self.rule.get("min_attempts", 1))


def detection_record(detection: Detection, window: Window) -> DetectionRecord:
    """The series of `window`'s segments from `detection`'s bucket rows, bounded (see the
    module's limits): buckets without attempts are absent, as in the detection."""
    width = timedelta(seconds=detection.rule.bucket_seconds)
    window_buckets = max(1, (window.end - window.start) // width)
    context = max(MIN_CONTEXT_BUCKETS, window_buckets)
    context = max(0, min(context, (MAX_BUCKETS - window_buckets) // 2))
    first, end = window.start - context * width, window.end + context * width
    failures_in_window: dict[Segment, int] = {}
    wanted = set(window.segments)
    for row in detection.rows:
        if row.segment in wanted and window.start <= row.start < window.end:
            failures_in_window[row.segment] = failures_in_window.get(row.segment, 0) + row.failures
    kept = set(sorted(wanted, key=lambda s: -failures_in_window.get(s, 0))[:MAX_SEGMENTS])
    baseline: Callable[[Segment, datetime], float] = bucket_baselines(
        detection.rows, detection.rule
    )
    cells: dict[tuple[datetime, Segment], tuple[int, int]] = {}
    for row in detection.rows:
        if row.segment in kept and first <= row.start < end:
            a, f = cells.get((row.start, row.segment), (0, 0))
            cells[(row.start, row.segment)] = (a + row.attempts, f + row.failures)
    points = tuple(
        Point(start, segment, a, f, baseline(segment, start))
        for (start, segment), (a, f) in sorted(
            cells.items(), key=lambda item: (item[0][0], tuple(v or "" for v in item[0][1]))
        )
    )
    return DetectionRecord(
        bucket=detection.bucket,
        bucket_seconds=detection.rule.bucket_seconds,
        by=tuple(detection.by),
        rule=detection.rule.as_dict(),
        window=window.as_dict(detection.by),
        window_start=window.start,
        window_end=window.end,
        points=points,
    )


def save_detection(
    uow: UnitOfWork, incident_id: str, record: DetectionRecord, now: datetime
) -> None:
    """Keep `record` as the detection of `incident_id` in `uow` (the caller commits)."""
    uow.incidents.add_detection(
        {
            "incident_id": incident_id,
            "bucket": record.bucket,
            "bucket_seconds": record.bucket_seconds,
            "by_columns": list(record.by),
            "rule": record.rule,
            "window": record.window,
            "window_start": record.window_start,
            "window_end": record.window_end,
            "series": [
                {
                    "start": p.start.isoformat(),
                    "segment": list(p.segment),
                    "attempts": p.attempts,
                    "failures": p.failures,
                    "baseline": round(p.baseline, 6),
                }
                for p in record.points
            ],
            "created_at": now,
        }
    )


def get_detection(uow: UnitOfWork, incident_id: str) -> DetectionRecord | None:
    """The detection the incident was declared from; None when it was declared by hand."""
    row = uow.incidents.detection(incident_id)
    if row is None:
        return None
    return DetectionRecord(
        bucket=row["bucket"],
        bucket_seconds=row["bucket_seconds"],
        by=tuple(row["by_columns"]),
        rule=dict(row["rule"]),
        window=dict(row["window"]),
        window_start=row["window_start"],
        window_end=row["window_end"],
        points=tuple(
            Point(
                datetime.fromisoformat(p["start"]),
                tuple(p["segment"]),
                int(p["attempts"]),
                int(p["failures"]),
                float(p["baseline"]),
            )
            for p in row["series"]
        ),
    )


def declare_from_detection(
    container: Container,
    detection: Detection,
    index: int,
    title: str,
    regions: tuple[str, ...],
    devices: tuple[str, ...],
    actor: str = "cli",
) -> str:
    """Declare window `index` (1-based) of `detection` as an incident and keep its series.

    The incident commits first and the series after it: the series is an annex for the
    console, and an incident whose series failed to store is still correct (its page then says
    no telemetry was analysed)."""
    if not 1 <= index <= len(detection.windows):
        raise NotFound(
            f"--from-detection {index}: detection proposed {len(detection.windows)} window(s)"
        )
    window = detection.windows[index - 1]
    record = detection_record(detection, window)
    now = container.now()
    with container.uow() as uow:
        incident_id = create_incident(
            uow, title, window.start, window.end, regions, devices, now, actor
        )
        uow.commit()
        save_detection(uow, incident_id, record, now)
        uow.commit()
    return incident_id
