"""A picture of a detection: failure ratio over time per segment, proposed windows shaded."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.telemetry.detect import Detection, Segment

MAX_LABELLED = 12  # more segments than this share one legend entry, "other segments"


def _name(by: tuple[str, ...], segment: Segment) -> str:
    if not by:
        return "all attempts"
    return ", ".join(str(value) if value is not None else "(none)" for value in segment)


def plot_detection(detection: Detection, path: Path) -> Path:
    """Draw `detection` into `path` (.png or .svg, by extension) with matplotlib's Agg backend
    (no display, no network). Buckets with fewer than the rule's minimum attempts are gaps:
    their ratio is noise. Written to a temporary name first, then moved into place."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InvalidInput(f"--plot {path}: the picture must end in .png or .svg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    date2num: Any = mdates.date2num  # untyped in matplotlib's stubs

    series: dict[Segment, list[tuple[datetime, float]]] = defaultdict(list)
    for row in sorted(detection.rows, key=lambda r: r.start):
        ratio = row.failures / row.attempts if row.attempts >= detection.rule.min_attempts else None
        series[row.segment].append((row.start, float("nan") if ratio is None else ratio))
    segments = sorted(series, key=lambda s: tuple(v or "" for v in s))
    flagged = {s for w in detection.windows for s in w.segments}
    # Label the segments in a window first, then the others while there is room.
    labelled = [s for s in segments if s in flagged] + [s for s in segments if s not in flagged]
    labelled = labelled[:MAX_LABELLED]

    figure, axes = plt.subplots(figsize=(11, 4.8), dpi=100)
    other_drawn = False
    for segment in segments:
        times = date2num([t for t, _ in series[segment]])
        ratios = [r for _, r in series[segment]]
        if segment in labelled:
            axes.plot(times, ratios, linewidth=0.9, label=_name(detection.by, segment))
        else:
            axes.plot(
                times,
                ratios,
                linewidth=0.6,
                color="0.7",
                label=None if other_drawn else "other segments",
            )
            other_drawn = True
    for window in detection.windows:
        start, end = date2num(window.start), date2num(window.end)
        axes.axvspan(start, end, color="tab:red", alpha=0.15, linewidth=0)
        axes.annotate(
            f"#{window.index}",
            xy=(start, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            color="tab:red",
        )
    axes.set_ylim(0, 1.02)
    axes.set_ylabel("failure ratio")
    axes.set_xlabel("time (UTC)")
    by = ", ".join(detection.by) or "all attempts"
    axes.set_title(
        f"Playback failure ratio per {detection.bucket} bucket by {by}; proposed windows shaded"
    )
    formatter = mdates.DateFormatter("%m-%d %H:%M", tz="UTC")  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.grid(alpha=0.3)
    if segments:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{suffix}")
    metadata = {"Date": None} if suffix == ".svg" else {"Software": None}
    figure.savefig(partial, format=suffix[1:], metadata=metadata)
    plt.close(figure)
    partial.replace(path)
    return path
