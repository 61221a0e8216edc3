"""Attempt files: which files a source names, and which columns each one holds.

Formats follow the extension: `.csv` (UTF-8, header on line 1), `.parquet`, and JSON lines
(`.jsonl`, `.ndjson`, or `.json`, which may also hold one JSON array of records).
"""

# SQL is assembled from reader calls whose file names pass through sql_string.
# ruff: noqa: S608

from __future__ import annotations

import csv
import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.telemetry.source import AttemptSource
from makegood.telemetry.sql import sql_string

REQUIRED_COLUMNS = ("account_id", "ts", "outcome")
OPTIONAL_COLUMNS = ("error_code", "region", "device")
SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
_NAMES = ".csv, .parquet, .jsonl, .ndjson or .json"
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class AttemptFile:
    """One file of a source, with the columns its header (or schema) declares."""

    path: str
    kind: str  # csv | parquet | json
    columns: frozenset[str]
    ts_is_text: bool  # CSV and JSON always; Parquet when ts is stored as a string

    @property
    def json_format(self) -> str:
        """DuckDB's read_json format: `.json` may be an array, the others are lines."""
        return "auto" if self.path.lower().endswith(".json") else "newline_delimited"


def _is_attempt_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES


def resolve_attempt_files(source: str) -> list[str]:
    """Every attempt file named by `source` (file, directory or glob), sorted."""
    path = Path(source)
    if path.is_dir():
        found = [p for p in path.rglob("*") if _is_attempt_file(p)]
        if not found:
            raise InvalidInput(f"{source}: no {_NAMES} attempt files in this directory")
        return sorted(str(p) for p in found)
    if path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise InvalidInput(
                f"{source}: attempt files must end in {_NAMES} (the format follows it)"
            )
        return [str(path)]
    if _GLOB_CHARS & set(source):
        matches = [m for m in glob.glob(source, recursive=True) if _is_attempt_file(Path(m))]
        if not matches:
            raise InvalidInput(f"{source}: no {_NAMES} files match this pattern")
        return sorted(matches)
    raise InvalidInput(f"{source}: no such file or directory")


def _csv_header(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}:1: the file is not UTF-8 text ({exc.reason})") from exc
    if not header:
        raise InvalidInput(f"{path}:1: the file is empty; expected a header line")
    return [name.strip() for name in header]


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _described(conn: Any, path: str, reader: str, what: str) -> dict[str, str]:
    try:
        rows = conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except Exception as exc:  # DuckDB raises several unrelated types for unreadable files
        raise InvalidInput(f"{path}: not a readable {what} file ({first_line(exc)})") from exc
    return {str(name): str(type_) for name, type_, *_ in rows}


def _file_columns(conn: Any, path: str, kind: str, ts: str) -> tuple[list[str], bool]:
    """The file's column names and whether its ts column is text."""
    if kind == "csv":
        return _csv_header(path), True
    if kind == "json":
        fmt = "auto" if path.lower().endswith(".json") else "newline_delimited"
        types = _described(
            conn, path, f"read_json({sql_string(path)}, format = {sql_string(fmt)})", "JSON"
        )
        return list(types), True
    types = _described(conn, path, f"read_parquet({sql_string(path)})", "Parquet")
    ts_type = types.get(ts, "")
    ts_is_text = ts_type == "VARCHAR"
    if ts in types and not ts_is_text and not ts_type.startswith("TIMESTAMP"):
        raise InvalidInput(
            f"{path}: column {ts}: has type {ts_type}; expected a timestamp or ISO 8601 text"
        )
    return list(types), ts_is_text


def inspect_files(
    conn: Any,
    paths: Sequence[str],
    extra_columns: Sequence[str] = (),
    source: AttemptSource | None = None,
) -> list[AttemptFile]:
    """Read each file's header or schema; refuse a file missing a required column or one of
    `extra_columns` (scope or grouping columns), naming the source column and the file.
    `source` gives the column mapping (default: the contract's own names)."""
    source = source or AttemptSource("")
    files: list[AttemptFile] = []
    needed = (*REQUIRED_COLUMNS, *(c for c in extra_columns if c not in REQUIRED_COLUMNS))
    for path in paths:
        kind = SUFFIXES[Path(path).suffix.lower()]
        columns, ts_is_text = _file_columns(conn, path, kind, source.column("ts"))
        for name in needed:
            if source.column(name) not in columns:
                why = "required" if name in REQUIRED_COLUMNS else "needed by the scope or --by"
                if source.column(name) != name:
                    why += f"; --map {name}={source.column(name)}"
                where = f"{path}:1" if kind == "csv" else path  # the header line of a CSV
                raise InvalidInput(f"{where}: column {source.column(name)}: missing ({why})")
        files.append(AttemptFile(path, kind, frozenset(columns), ts_is_text))
    return files
