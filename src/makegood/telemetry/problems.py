"""Messages for attempt rows that break the contract: `FILE:LINE: column COL: problem`.

DuckDB's CSV and JSON readers do not tell the line of a row they parsed, so the lines of the
bad values are found by reading those files again in Python, on this (rare) path only.
Parquet rows are named by their row number.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from makegood.telemetry.source import AttemptSource

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class BadValue:
    """A refused value: its file, its Parquet row (None for text files), its contract column."""

    path: str
    row: int | None
    column: str  # ts | outcome
    value: str | None


def describe(source: AttemptSource, column: str, value: str | None) -> str:
    """`column COL: problem`, naming the source column and what would be accepted."""
    shown = "empty" if not value else repr(value)
    if column == "ts":
        return (
            f"column {source.label('ts')}: {shown} is not an ISO 8601 timestamp "
            f"(e.g. 2026-03-22T20:14:00+05:30, 2026-03-22T14:44:00Z, or 2026-03-22T14:44:00 "
            f"read as UTC)"
        )
    accepted = ", ".join((*source.failure_values, *source.success_values))
    return f"column {source.label('outcome')}: {shown} is not one of {accepted}"


def locate_problems(source: AttemptSource, values: Sequence[BadValue]) -> list[str]:
    """One message per bad value, with its line for CSV and JSON-lines files."""
    problems: list[str] = []
    by_text_file: dict[str, set[tuple[str, str | None]]] = {}
    for bad in values:
        if bad.row is None:
            by_text_file.setdefault(bad.path, set()).add((bad.column, bad.value))
        else:
            problems.append(f"{bad.path}: row {bad.row}: {describe(source, bad.column, bad.value)}")
    for path, wanted in by_text_file.items():
        found: list[str] = []
        for line, column, cell in _cells(source, path, {c for c, _ in wanted}):
            if (column, cell) in wanted:
                found.append(f"{path}:{line}: {describe(source, column, cell)}")
                if len(found) >= MAX_PROBLEMS - len(problems):
                    break
        if not found:  # the value was written in a way Python and DuckDB read differently
            found = [f"{path}: {describe(source, c, v)}" for c, v in sorted(wanted, key=str)]
        problems.extend(found)
    return problems[:MAX_PROBLEMS]


def _normalise(column: str, raw: object) -> str | None:
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else json.dumps(raw)
    if column == "ts":
        return text.strip() or None
    return text


def _cells(
    source: AttemptSource, path: str, columns: set[str]
) -> Iterator[tuple[int, str, str | None]]:
    """(line, contract column, value as DuckDB saw it) for each watched cell of a text file."""
    if Path(path).suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [name.strip() for name in next(reader, [])]
            watched = [
                (c, header.index(source.column(c))) for c in columns if source.column(c) in header
            ]
            for row in reader:
                for column, index in watched:
                    raw = row[index] if index < len(row) else None
                    yield reader.line_num, column, _normalise(column, raw or None)
        return
    with open(path, encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            try:
                record = json.loads(text)
            except ValueError:
                continue  # an array document or a blank line: no per-line location
            if isinstance(record, dict):
                for column in columns:
                    yield number, column, _normalise(column, record.get(source.column(column)))
