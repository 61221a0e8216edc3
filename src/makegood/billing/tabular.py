"""Reading contract files (CSV or Parquet, by extension) row by row, with line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from makegood.domain.errors import InvalidInput

MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Row:
    """One data row; `line` counts from 1 with the header as line 1 (Parquet: row index + 2)."""

    line: int
    values: dict[str, str]
    width_problem: str | None = None  # a CSV row with more or fewer fields than the header


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest repr: 7.99 stays "7.99"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _check_columns(path: Path, header: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"{path}: the file cannot be imported; nothing was changed",
            [f"{path}:1: column {c}: missing from the header" for c in missing],
        )


def read_rows(path: Path, required: Sequence[str]) -> Iterator[Row]:
    """Yield rows of a CSV or Parquet file after checking the header has `required` columns."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path, required)
    elif suffix in (".parquet", ".pq"):
        yield from _read_parquet(path, required)
    else:
        raise InvalidInput(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _read_csv(path: Path, required: Sequence[str]) -> Iterator[Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            _check_columns(path, header, required)
            start = reader.line_num + 1
            for values in reader:
                line, start = start, reader.line_num + 1  # a quoted field may span lines
                if not any(v.strip() for v in values):
                    continue
                width = None
                if len(values) != len(header):
                    width = f"row has {len(values)} fields, the header has {len(header)}"
                padded = (values + [""] * len(header))[: len(header)]
                cells = {h: v.strip() for h, v in zip(header, padded, strict=True)}
                yield Row(line, cells, width)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8"
        ) from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV file: {exc}") from None


def _read_parquet(path: Path, required: Sequence[str]) -> Iterator[Row]:
    # pyarrow reads the file itself (it writes the export too): no SQL engine is needed to
    # read a file row by row.
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from None
    header = list(source.schema_arrow.names)
    _check_columns(path, header, required)
    line = 1
    for batch in source.iter_batches(batch_size=10_000):
        for values in batch.to_pylist():
            line += 1
            yield Row(line, {h: _text(values[h]) for h in header})


class Problems:
    """Collects `FILE:LINE: column COL: problem` lines, up to a limit, and raises them at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self.count = 0

    def add(self, line: int, column: str, problem: str) -> None:
        self.count += 1
        if len(self.lines) < MAX_PROBLEMS:
            self.lines.append(f"{self.path}:{line}: column {column}: {problem}")

    def raise_if_any(self) -> None:
        if not self.count:
            return
        lines = list(self.lines)
        if self.count > len(lines):
            lines.append(f"... and {self.count - len(lines)} more problems")
        raise InvalidInput(
            f"{self.path}: {self.count} problem(s); nothing was imported. "
            "Fix the rows below and run the import again.",
            lines,
        )
