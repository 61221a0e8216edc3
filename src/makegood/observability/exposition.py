"""In-process counters and histograms, written in the Prometheus text format (version 0.0.4).

Written here rather than taken from prometheus_client to keep the dependency list short; only
what the endpoint needs: labelled counters, labelled histograms, gauges from the database.
Values are per process: with several web processes, scrape each (see docs/operations.md).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence

Labels = tuple[tuple[str, str], ...]

# Seconds; the claim target is p99 <= 50 ms, so the buckets are dense below 0.1 s.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_labels(labels: Labels) -> str:
    """`{a="1",b="2"}`, or nothing when there are no labels."""
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def format_value(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


class Counter:
    """A monotonically increasing count per label set."""

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, labels: Labels = ()) -> float:
        with self._lock:
            return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        lines = header(self.name, "counter", self.help)
        lines += [f"{self.name}{format_labels(k)} {format_value(v)}" for k, v in items]
        return lines


class Histogram:
    """Observations counted into cumulative buckets, with their sum and count, per label set."""

    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS
    ) -> None:
        self.name = name
        self.help = help_text
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, labels: Labels = ()) -> None:
        index = bisect.bisect_left(self.buckets, value)
        with self._lock:
            counts = self._counts.setdefault(labels, [0] * (len(self.buckets) + 1))
            counts[index] += 1
            self._sums[labels] = self._sums.get(labels, 0.0) + value

    def count(self, labels: Labels = ()) -> int:
        with self._lock:
            return sum(self._counts.get(labels, ()))

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        lines = header(self.name, "histogram", self.help)
        for labels, counts, total in items:
            running = 0
            for bound, n in zip((*self.buckets, float("inf")), counts, strict=True):
                running += n
                le = (*labels, ("le", format_value(bound)))
                lines.append(f"{self.name}_bucket{format_labels(le)} {running}")
            lines.append(f"{self.name}_sum{format_labels(labels)} {format_value(total)}")
            lines.append(f"{self.name}_count{format_labels(labels)} {running}")
        return lines


def gauge_lines(name: str, help_text: str, samples: Iterable[tuple[Labels, float]]) -> list[str]:
    """A gauge family from values read elsewhere (the database counts)."""
    lines = header(name, "gauge", help_text)
    lines += [f"{name}{format_labels(k)} {format_value(v)}" for k, v in samples]
    return lines
