"""A contract file (CSV or Parquet) loaded whole into DuckDB, with its line numbers.

The file becomes one DuckDB table `src` of text columns (trimmed of ASCII white space) and
`line`: the file's line of each row, counting the header as line 1 (Parquet: row index + 2),
so that every rule can run as one vectorised query. Rows DuckDB's reader refuses (a row with
more or fewer fields than the header) become problems too. A CSV row's line is its row index
plus 2 unless the file has blank lines or quoted fields spanning lines; only then, and only
when there is something to report, are the reported rows' lines found by reading the file
again (such a file is refused anyway: a line break is a control character in every column).
"""

# SQL here is built from this module's own identifiers and rules; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from makegood.domain.errors import InvalidInput

MAX_PROBLEMS = 50
_WS = "' \t\n\x0b\x0c\r'"  # ASCII white space, as a SQL literal
_NOT_TEXT = re.compile(r"\[\]|\[\d+\]$|^(STRUCT|MAP|UNION|BLOB|BIT)\b")
_FOUND = re.compile(r"Found: (\d+)")


@dataclass
class Problem:
    """One problem before formatting: `row` is a src row index, or None when `line` is known."""

    column: str
    text: str
    line: int | None = None
    row: int | None = None
    ref_row: int | None = None  # a duplicate's first row: its line replaces NUL in `text`


@dataclass
class LoadedFile:
    """The DuckDB connection holding `src`, the columns it has, and problems found on loading."""

    path: Path
    con: duckdb.DuckDBPyConnection
    columns: list[str]
    csv: bool
    problems: list[Problem] = field(default_factory=list)
    regular: bool = True  # CSV: one line per record, no blank lines (line = row + 2)
    rejected_lines: list[int] = field(default_factory=list)


def load_file(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> LoadedFile:
    """Load `path` into DuckDB table `src` (line, and each wanted column as trimmed text)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    # DuckDB spills to disk beyond this, so a file of any size fits the 1.5 GiB budget.
    con = duckdb.connect(config={"memory_limit": "768MB", "threads": 2})
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")
    try:
        if suffix == ".csv":
            return _load_csv(con, path, required, optional)
        if suffix in (".parquet", ".pq"):
            return _load_parquet(con, path, required, optional)
    except BaseException:
        con.close()
        raise
    con.close()
    raise InvalidInput(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _check_header(path: Path, header: Sequence[str], required: Sequence[str]) -> None:
    lines = [f"{path}:1: column {c}: missing from the header" for c in required if c not in header]
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            lines.append(f"{path}:1: column {name}: appears twice in the header; keep one of them")
        seen.add(name)
    if lines:
        raise InvalidInput(f"{path}: the file cannot be imported; nothing was changed", lines)


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [h.strip() for h in next(csv.reader(fh), [])]
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: not UTF-8 text ({exc.reason}); save the file as UTF-8"
        ) from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV file: {exc}") from None


def _trimmed(expr: str) -> str:
    return f"trim(coalesce({expr}, ''), {_WS})"


def _load_csv(
    con: duckdb.DuckDBPyConnection, path: Path, required: Sequence[str], optional: Sequence[str]
) -> LoadedFile:
    header = _csv_header(path)
    _check_header(path, header, required)
    names = {f"c{i}": "VARCHAR" for i in range(len(header))}
    wanted = [c for c in (*required, *optional) if c in header]
    picks = ", ".join(f'{_trimmed(f"c{header.index(c)}")} AS "{c}"' for c in wanted)
    blank = " AND ".join(f"coalesce(trim(c{i}), '') = ''" for i in range(len(header)))
    try:
        con.execute(
            f"CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true, auto_detect = false,"
            f" columns = {names!r}, delim = ',', quote = '\"', escape = '\"',"
            " strict_mode = true, store_rejects = true, max_line_size = 4000000)",
            [str(path)],
        )
        # rowid is the reader's order; blank rows keep their place so lines stay right. A view:
        # the file is held once, and trimmed as the checks and the writing read it.
        con.execute(f"CREATE VIEW src AS SELECT rowid AS row, {picks} FROM raw WHERE NOT ({blank})")
        rejects = con.execute(
            "SELECT line, error_type, csv_line, error_message FROM reject_errors ORDER BY line"
        ).fetchall()
        rows = con.execute("SELECT count(*) FROM raw").fetchall()[0]
    except duckdb.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV file: {exc}") from None
    loaded = LoadedFile(path, con, wanted, csv=True)
    for line, kind, text, message in rejects:
        if "ENCODING" in kind or "UNICODE" in kind:
            raise InvalidInput(
                f"{path}: not UTF-8 text (line {line}); save the file as UTF-8"
            ) from None
        if kind == "MISSING COLUMNS" and not (text or "").strip():
            continue  # a line of spaces: blank, skipped like an empty line
        loaded.rejected_lines.append(int(line))
        found = _FOUND.search(message or "")
        problem = (
            f"row has {found.group(1)} fields, the header has {len(header)}"
            if found and "COLUMNS" in kind
            else f"cannot be read ({kind.lower()})"
        )
        loaded.problems.append(Problem("*", problem, line=int(line)))
    loaded.regular = _physical_lines(path) == 1 + (rows[0] if rows else 0) + len(rejects)
    return loaded


def _physical_lines(path: Path) -> int:
    newlines, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return newlines + (last != b"\n")


def _load_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, required: Sequence[str], optional: Sequence[str]
) -> LoadedFile:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        header = list(pq.read_schema(path).names)
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
        types = {name: kind for name, kind, *_ in described.fetchall()}
    except Exception as exc:  # pyarrow and DuckDB raise their own kinds for a damaged file
        raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from None
    _check_header(path, header, required)
    wanted = [c for c in (*required, *optional) if c in header]
    loaded = LoadedFile(path, con, wanted, csv=False)
    picks = []
    for c in wanted:
        quoted = '"' + c.replace('"', '""') + '"'
        if _NOT_TEXT.search(types[c]):
            loaded.problems.append(
                Problem(c, f"is a Parquet {types[c]} column; write it as text", line=1)
            )
            picks.append(f"'' AS {quoted}")
        else:
            picks.append(f"{_trimmed(f'CAST({quoted} AS VARCHAR)')} AS {quoted}")
    try:
        con.execute(
            f"CREATE TABLE src AS SELECT file_row_number AS row, {', '.join(picks)}"
            " FROM read_parquet(?, file_row_number = true)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from None
    return loaded


def lines_of(loaded: LoadedFile, rows: Sequence[int]) -> dict[int, int]:
    """The file line of each src row index in `rows` (header = line 1)."""
    if not loaded.csv:
        return {r: r + 2 for r in rows}
    if loaded.regular:
        skipped = sorted(loaded.rejected_lines)
        found = {}
        for r in rows:
            line = r + 2
            for rejected in skipped:  # the reader's rows leave out the rejected lines
                if rejected <= line:
                    line += 1
            found[r] = line
        return found
    return _read_lines(loaded, set(rows))


def _read_lines(loaded: LoadedFile, rows: set[int]) -> dict[int, int]:
    """Lines of the wanted rows by reading the file as the CSV module does (irregular files
    only, and only when there are problems to report). The rows DuckDB's reader refused get
    their lines from this reading too: its own line count skips blank lines."""
    found: dict[int, int] = {}
    width = None
    index = -1
    widths = []
    with loaded.path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        start = 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if width is None:
                width = len(values)
            elif len(values) != width:
                if any(v.strip() for v in values):  # else blank, skipped by both readers
                    widths.append(
                        Problem("*", f"row has {len(values)} fields, the header has {width}", line)
                    )
            else:
                index += 1
                if index in rows:
                    found[index] = line
    loaded.problems = [p for p in loaded.problems if p.column != "*"] + widths
    return found


class ProblemList:
    """Formats problems as `FILE:LINE: column COL: problem` and raises them all at once."""

    def __init__(self, loaded: LoadedFile) -> None:
        self.loaded = loaded

    def raise_if_any(self, found: list[Problem], total: int) -> None:
        if not total + len(self.loaded.problems):
            return
        if self.loaded.csv and not self.loaded.regular:
            _read_lines(self.loaded, set())  # the refused rows' true lines, before sorting
        total += len(self.loaded.problems)
        problems = sorted(
            [*self.loaded.problems, *found],
            key=lambda p: (p.line or 0) if p.row is None else p.row + 2,
        )[:MAX_PROBLEMS]
        rows = {r for p in problems for r in (p.row, p.ref_row) if r is not None}
        lines = lines_of(self.loaded, sorted(rows))
        problems.sort(key=lambda p: (p.line or 0) if p.row is None else lines.get(p.row, 0))
        path = self.loaded.path
        text = []
        for p in problems:
            line = p.line if p.row is None else lines.get(p.row, p.row + 2)
            problem = p.text
            if p.ref_row is not None:
                problem = problem.replace("\x00", str(lines.get(p.ref_row, p.ref_row + 2)))
            text.append(f"{path}:{line}: column {p.column}: {problem}")
        if total > len(text):
            text.append(f"... and {total - len(text)} more problems")
        raise InvalidInput(
            f"{path}: {total} problem(s); nothing was imported. "
            "Fix the rows below and run the import again.",
            text,
        )
