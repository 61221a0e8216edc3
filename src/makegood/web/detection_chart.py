"""The detection chart of an incident as inline SVG: failure ratio over time per segment, the
baseline dashed, the declared window shaded. No JavaScript; the same numbers are in a table
(`detection_rows`) for screen readers and for anyone who wants the figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from makegood.services.detections import DetectionRecord, Point
from makegood.telemetry.detect import Segment

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 14, 34
LEGEND_LINE = 18
MAX_LINES = 8  # more segments than this are in the table only (the busiest are drawn)
PALETTE = ("#1f5fd6", "#c2410c", "#047857", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d")


def segment_name(by: tuple[str, ...], segment: Segment) -> str:
    if not by:
        return "all attempts"
    return "/".join(v if v is not None else "(none)" for v in segment)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the data table."""

    start: datetime
    segment: str
    attempts: int
    failures: int
    ratio: str
    baseline: str
    in_window: bool


def detection_rows(record: DetectionRecord) -> list[Row]:
    return [
        Row(
            p.start,
            segment_name(record.by, p.segment),
            p.attempts,
            p.failures,
            f"{p.ratio:.1%}",
            f"{p.baseline:.1%}",
            record.window_start <= p.start < record.window_end,
        )
        for p in record.points
    ]


def _drawn_segments(record: DetectionRecord) -> list[Segment]:
    failures: dict[Segment, int] = defaultdict(int)
    for p in record.points:
        if record.window_start <= p.start < record.window_end:
            failures[p.segment] += p.failures
        else:
            failures.setdefault(p.segment, 0)
    ordered = sorted(failures, key=lambda s: (-failures[s], tuple(v or "" for v in s)))
    return ordered[:MAX_LINES]


def detection_chart(record: DetectionRecord) -> Markup:
    """The chart; buckets with fewer attempts than the rule's minimum are gaps (noise)."""
    segments = _drawn_segments(record)
    if not record.points or not segments:
        return Markup("")
    first = min(p.start for p in record.points)
    last = max(p.start for p in record.points)
    span = max((last - first).total_seconds() + record.bucket_seconds, 1.0)
    legend_height = LEGEND_LINE * len(segments) + 8
    height = HEIGHT + legend_height
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return LEFT + plot_w * (at - first).total_seconds() / span

    def y(ratio: float) -> float:
        return TOP + plot_h * (1 - min(max(ratio, 0.0), 1.0))

    title = f"Failure ratio per {record.bucket} bucket, declared window shaded"
    w0, w1 = x(record.window_start), x(record.window_end)
    peak = float(record.window.get("peak_failure_ratio", 0))
    base = float(record.window.get("baseline_failure_ratio", 0))
    desc = (
        f"{len(segments)} segment(s) from {first:%Y-%m-%d %H:%M} to "
        f"{last:%Y-%m-%d %H:%M} UTC; window {record.window_start:%H:%M}-"
        f"{record.window_end:%H:%M} UTC, peak {peak:.0%} against a baseline of {base:.0%}. "
        "The table below holds every value."
    )
    parts = [
        (
            '<svg role="img" aria-labelledby="det-t det-d" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" class="chart" '
            'xmlns="http://www.w3.org/2000/svg">'
        ),
        f'<title id="det-t">{escape(title)}</title><desc id="det-d">{escape(desc)}</desc>',
        (
            f'<rect x="{w0:.1f}" y="{TOP}" width="{max(w1 - w0, 1):.1f}" height="{plot_h}" '
            'fill="#dc2626" fill-opacity="0.14" class="window"/>'
        ),
        (
            f'<text x="{w0 + 4:.1f}" y="{TOP + 14}" font-size="12" fill="#b91c1c">'
            "declared window</text>"
        ),
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{WIDTH - RIGHT}" y2="{y(tick):.1f}" '
            f'stroke="#d5d9e0" stroke-width="1"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end" font-size="11" fill="#5a6270">{tick:.0%}</text>'
        )
    for at, anchor in ((first, "start"), (last, "end")):
        parts.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}" font-size="11" '
            f'fill="#5a6270">{at:%Y-%m-%d %H:%M} UTC</text>'
        )
    by_segment: dict[Segment, list[Point]] = defaultdict(list)
    for p in record.points:
        by_segment[p.segment].append(p)
    half = record.bucket_seconds / 2
    for i, segment in enumerate(segments):
        colour = PALETTE[i % len(PALETTE)]
        ratio_path, base_path = _paths(by_segment[segment], record.min_attempts, x, y, half)
        if base_path:
            parts.append(
                f'<path d="{base_path}" fill="none" stroke="{colour}" stroke-width="1" '
                'stroke-dasharray="4 3" stroke-opacity="0.7" class="baseline"/>'
            )
        if ratio_path:
            parts.append(
                f'<path d="{ratio_path}" fill="none" stroke="{colour}" stroke-width="1.8" '
                'class="ratio"/>'
            )
        ly = HEIGHT + 4 + i * LEGEND_LINE
        parts.append(
            f'<line x1="{LEFT}" y1="{ly + 6}" x2="{LEFT + 22}" y2="{ly + 6}" stroke="{colour}" '
            f'stroke-width="3"/><text x="{LEFT + 28}" y="{ly + 10}" font-size="12" '
            f'fill="#1d2330">{escape(segment_name(record.by, segment))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def _paths(
    points: list[Point],
    min_attempts: int,
    fx: Callable[[datetime], float],
    fy: Callable[[float], float],
    half_bucket: float,
) -> tuple[str, str]:
    """SVG path data for the ratio (broken where a bucket is missing or too thin) and the
    baseline, each point at the middle of its bucket."""
    ratio: list[str] = []
    base: list[str] = []
    previous: datetime | None = None
    gap = timedelta(seconds=half_bucket * 2)
    for p in points:
        mid = p.start + timedelta(seconds=half_bucket)
        usable = p.attempts >= min_attempts
        joined = previous is not None and p.start - previous <= gap
        if usable:
            ratio.append(f"{'L' if joined and ratio else 'M'}{fx(mid):.1f},{fy(p.ratio):.1f}")
            previous = p.start
        else:
            previous = None
        base.append(f"{'L' if base else 'M'}{fx(mid):.1f},{fy(p.baseline):.1f}")
    return " ".join(ratio), " ".join(base)
