"""The playback-attempt log contract, read with DuckDB.

An attempt file is CSV or Parquet (chosen by extension) with the columns `account_id, ts,
outcome` and optionally `error_code, region, device`; other columns are ignored. `ts` is
ISO 8601 with an offset (`2026-03-22T20:14:00+05:30`, `...Z`) or a Parquet timestamp (UTC).
`outcome` is `success` or `failure`. A source is a file, a directory (every .csv / .parquet
file below it) or a glob.

`open_attempts` checks every file's header, registers one DuckDB view `attempts` over all of
them with normalised columns, and refuses rows that break the contract with a message
naming the file, the line and the column. Rows without an account or a timestamp are
skipped and counted, not refused: anonymous attempts are normal in playback logs.
"""

# SQL is assembled from this module's constants; file names pass through sql_string.
# ruff: noqa: S608

from __future__ import annotations

import csv
import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from makegood.domain.errors import InvalidInput

REQUIRED_COLUMNS = ("account_id", "ts", "outcome")
OPTIONAL_COLUMNS = ("error_code", "region", "device")
OUTCOMES = ("success", "failure")
MAX_PROBLEMS = 20

_SUFFIXES = {".csv": "csv", ".parquet": "parquet"}
_GLOB_CHARS = set("*?[")
# A written offset: Z, +05:30, -0800 or +05. Timestamps without one are ambiguous.
_OFFSET_PATTERN = r"(Z|z|[+-]\d\d(:?\d\d)?)$"
_SOURCE = "__mg_source_file"
_ROW = "__mg_row"


@dataclass(frozen=True)
class AttemptFile:
    """One file of a source, with the columns its header (or schema) declares."""

    path: str
    kind: str  # csv | parquet
    columns: frozenset[str]
    ts_is_text: bool  # CSV always; Parquet when ts is stored as a string


def sql_string(value: str) -> str:
    """A SQL string literal (DuckDB's table functions take file names as literals)."""
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"


def resolve_attempt_files(source: str) -> list[str]:
    """Every .csv / .parquet file named by `source` (file, directory or glob), sorted."""
    path = Path(source)
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES]
        if not found:
            raise InvalidInput(f"{source}: no .csv or .parquet attempt files in this directory")
        return sorted(str(p) for p in found)
    if path.is_file():
        if path.suffix.lower() not in _SUFFIXES:
            raise InvalidInput(
                f"{source}: attempt files must end in .csv or .parquet (the format follows it)"
            )
        return [str(path)]
    if _GLOB_CHARS & set(source):
        matches = [
            m
            for m in glob.glob(source, recursive=True)
            if Path(m).is_file() and Path(m).suffix.lower() in _SUFFIXES
        ]
        if not matches:
            raise InvalidInput(f"{source}: no .csv or .parquet files match this pattern")
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


def _parquet_columns(conn: Any, path: str) -> dict[str, str]:
    try:
        rows = conn.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_string(path)})").fetchall()
    except Exception as exc:  # DuckDB raises several unrelated types for unreadable files
        raise InvalidInput(f"{path}: not a readable Parquet file ({_first_line(exc)})") from exc
    return {str(name): str(type_) for name, type_, *_ in rows}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def reader_problem(exc: BaseException) -> str:
    """DuckDB's own account of a file it could not parse, without its SQL echo and its list of
    reader options to try (which name options of DuckDB, not of this tool)."""
    kept: list[str] = []
    for line in str(exc).strip().splitlines():
        if line.startswith(("LINE ", "Possible fixes", "The search space")):
            break
        if line.strip():
            kept.append(line.strip())
    return " ".join(kept) or type(exc).__name__


def inspect_files(
    conn: Any, paths: Sequence[str], scope_columns: Sequence[str]
) -> list[AttemptFile]:
    """Read each file's header and refuse files missing a required or scope column."""
    files: list[AttemptFile] = []
    needed = (*REQUIRED_COLUMNS, *scope_columns)
    for path in paths:
        kind = _SUFFIXES[Path(path).suffix.lower()]
        if kind == "csv":
            columns = _csv_header(path)
            ts_is_text = True
        else:
            types = _parquet_columns(conn, path)
            columns = list(types)
            ts_type = types.get("ts", "")
            ts_is_text = ts_type == "VARCHAR"
            if "ts" in types and not ts_is_text and not ts_type.startswith("TIMESTAMP"):
                raise InvalidInput(
                    f"{path}: column ts: has type {ts_type}; expected a timestamp or ISO 8601 text"
                )
        for name in needed:
            if name not in columns:
                why = "required" if name in REQUIRED_COLUMNS else "needed by the incident's scope"
                where = f"{path}:1" if kind == "csv" else path  # the header line of a CSV
                raise InvalidInput(f"{where}: column {name}: missing ({why})")
        files.append(AttemptFile(path, kind, frozenset(columns), ts_is_text))
    return files


def _projection(group: Sequence[AttemptFile], reader: str, ts_is_text: bool) -> str:
    """Normalised columns of one reader call: text ids, parsed UTC timestamps, a row locator."""
    present = frozenset().union(*(f.columns for f in group))
    optional = ", ".join(
        f"CAST({name} AS VARCHAR) AS {name}" if name in present else f"NULL::VARCHAR AS {name}"
        for name in OPTIONAL_COLUMNS
    )
    if ts_is_text:
        ts_text = "NULLIF(trim(CAST(ts AS VARCHAR)), '')"
        ts = f"try_cast({ts_text} AS TIMESTAMPTZ)"
        has_offset = f"regexp_matches({ts_text}, '{_OFFSET_PATTERN}')"
        ts_ok = f"({ts_text} IS NULL OR ({ts} IS NOT NULL AND {has_offset}))"
    else:
        ts_text = "CAST(ts AS VARCHAR)"
        ts = "CAST(ts AS TIMESTAMPTZ)"  # a Parquet timestamp without zone is UTC by contract
        ts_ok = "true"
    row = f"{_ROW} + 1" if reader.startswith("read_parquet") else "NULL::BIGINT"
    return (
        f"SELECT {_SOURCE} AS source_file, {row} AS source_row, "
        f"NULLIF(trim(CAST(account_id AS VARCHAR)), '') AS account_id, "
        f"{ts_text} AS ts_text, {ts} AS ts, {ts_ok} AS ts_ok, "
        f"CAST(outcome AS VARCHAR) AS outcome, {optional} FROM {reader}"
    )


def create_attempts_view(conn: Any, files: Sequence[AttemptFile]) -> None:
    """Register the view `attempts` over every file (source_file, source_row, account_id, ts_text,
    ts, ts_ok, outcome, error_code, region, device)."""
    parts: list[str] = []
    csv_files = [f for f in files if f.kind == "csv"]
    if csv_files:
        reader = (
            f"read_csv({_sql_list([f.path for f in csv_files])}, header = true, "
            f"all_varchar = true, union_by_name = true, delim = ',', quote = '\"', "
            f"escape = '\"', filename = '{_SOURCE}')"
        )
        parts.append(_projection(csv_files, reader, ts_is_text=True))
    for ts_is_text in (False, True):
        group = [f for f in files if f.kind == "parquet" and f.ts_is_text == ts_is_text]
        if group:
            reader = (
                f"read_parquet({_sql_list([f.path for f in group])}, union_by_name = true, "
                f"filename = '{_SOURCE}', file_row_number = true)"
            )
            parts.append(_projection(group, reader, ts_is_text).replace(_ROW, "file_row_number"))
    conn.execute("CREATE OR REPLACE TEMP VIEW attempts AS " + " UNION ALL ".join(parts))


# Rows that break the contract; rows without account or timestamp are skipped, not checked.
_CHECKED = "account_id IS NOT NULL AND ts_text IS NOT NULL"
_BAD_TS = f"{_CHECKED} AND NOT ts_ok"
_BAD_OUTCOME = (
    f"{_CHECKED} AND outcome IS DISTINCT FROM 'success' AND outcome IS DISTINCT FROM 'failure'"
)
USABLE = f"{_CHECKED} AND ts_ok"


@dataclass(frozen=True)
class AttemptCounts:
    """What a source held: every row read, and the rows skipped for lack of account or ts."""

    rows: int
    skipped: int


def check_attempts(conn: Any) -> AttemptCounts:
    """Count the rows of `attempts`; raise InvalidInput listing up to MAX_PROBLEMS rows with a bad
    timestamp or outcome (every file is checked whole, not only the incident's window)."""
    found = conn.execute(
        f"SELECT count(*), count(*) FILTER (NOT ({_CHECKED})), count(*) FILTER ({_BAD_TS}), "
        f"count(*) FILTER ({_BAD_OUTCOME}) FROM attempts"
    ).fetchone()
    total = int(found[2]) + int(found[3])
    if not total:
        return AttemptCounts(rows=int(found[0]), skipped=int(found[1]))
    samples = conn.execute(
        f"""
        SELECT DISTINCT source_file, source_row, column_name, value FROM (
            SELECT source_file, source_row, 'ts' AS column_name, ts_text AS value
            FROM attempts WHERE {_BAD_TS}
            UNION ALL
            SELECT source_file, source_row, 'outcome', outcome FROM attempts WHERE {_BAD_OUTCOME}
        ) ORDER BY source_file, source_row NULLS LAST, column_name, value NULLS FIRST
        LIMIT {MAX_PROBLEMS}
        """
    ).fetchall()
    problems: list[str] = []
    bad_csv_values: dict[str, set[tuple[str, str | None]]] = {}
    for path, row, column, value in samples:
        if row is None:
            bad_csv_values.setdefault(str(path), set()).add((str(column), value))
        else:
            problems.append(f"{path}: row {row}: {_describe(str(column), value)}")
    for path, bad in bad_csv_values.items():
        problems.extend(_csv_problems(path, bad, MAX_PROBLEMS - len(problems)))
    head = f"{total} attempt row(s) break the contract"
    if total > len(problems):
        head += f" (first {len(problems)} shown)"
    raise InvalidInput(head, problems[:MAX_PROBLEMS])


def _describe(column: str, value: str | None) -> str:
    if column == "ts":
        return (
            f"column ts: {value!r} is not an ISO 8601 timestamp with an offset "
            f"(e.g. 2026-03-22T20:14:00+05:30 or 2026-03-22T14:44:00Z)"
        )
    shown = "empty" if value is None else repr(value)
    return f"column outcome: {shown} is not one of {', '.join(OUTCOMES)}"


def _csv_problems(path: str, bad: set[tuple[str, str | None]], limit: int) -> list[str]:
    """`FILE:LINE: column COL: problem` for CSV rows holding a value DuckDB refused. Read only on
    the error path, because DuckDB's CSV reader does not tell the line of a row it parsed."""
    found: list[str] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [name.strip() for name in next(reader, [])]
        watched = [(c, header.index(c)) for c in {c for c, _ in bad} if c in header]
        for row in reader:
            for column, index in watched:
                raw = row[index] if index < len(row) else ""
                cell = (raw.strip() if column == "ts" else raw) or None
                if (column, cell) in bad:
                    found.append(f"{path}:{reader.line_num}: {_describe(column, cell)}")
            if len(found) >= limit:
                return found[:limit]
    if not found:  # the value was written in a way csv and DuckDB read differently
        found = [f"{path}: {_describe(c, v)}" for c, v in sorted(bad, key=str)][:limit]
    return found
