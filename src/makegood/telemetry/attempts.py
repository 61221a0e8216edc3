"""The playback-attempt log contract, read with DuckDB.

An attempt source (see `AttemptSource`) has the columns `account_id, ts, outcome` and
optionally `error_code, region, device`, under their own names or mapped (`--map
ts=event_time`); other columns are ignored. `ts` is ISO 8601 text with an offset
(`2026-03-22T20:14:00+05:30`, `...Z`) or without one (read as UTC), or a Parquet timestamp
(UTC). `outcome` is one of the source's failure or success values.

`open_attempts` checks every file's header, registers one DuckDB view `attempts` over all
of them with normalised columns, and counts rows that break the contract (unparseable
timestamp or outcome) with examples naming the file and line; the source's `on_bad_rows`
decides whether they stop the work or are left out. Rows without an account or a timestamp
are skipped and counted, not refused: anonymous attempts are normal in playback logs.
"""

# SQL is assembled from this module's constants; names pass through sql_string / sql_ident.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.telemetry.files import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    AttemptFile,
    inspect_files,
    resolve_attempt_files,
)
from makegood.telemetry.problems import MAX_PROBLEMS, BadValue, locate_problems
from makegood.telemetry.source import AttemptSource
from makegood.telemetry.sql import sql_ident, sql_list, sql_string

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "USABLE",
    "AttemptCounts",
    "AttemptFile",
    "check_attempts",
    "create_attempts_view",
    "inspect_files",
    "open_attempts",
    "reader_problem",
    "resolve_attempt_files",
    "sql_string",
]

_SOURCE = "__mg_source_file"
_ROW = "__mg_row"
Say = Callable[[str], None]


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


@contextmanager
def source_errors(source: AttemptSource) -> Iterator[None]:
    """DuckDB's errors while reading `source` become InvalidInput naming it (with DuckDB's own
    account of the problem); InvalidInput and every other error pass through unchanged."""
    try:
        yield
    except Exception as exc:
        if type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise InvalidInput(
                f"{source.path}: cannot read the attempt files: {reader_problem(exc)}"
            ) from exc
        raise


def _account_id(column: str) -> str:
    """The trimmed id, NULL when blank. trim() (which removes every Unicode space) runs only on
    values whose first or last character is not printable ASCII: a value that starts and ends
    with one (every usual id) is already trimmed and not blank, and testing that is cheaper."""
    text = f"CAST({column} AS VARCHAR)"
    return (
        f"CASE WHEN ascii({text}) BETWEEN 33 AND 126 AND ascii(right({text}, 1)) BETWEEN 33 "
        f"AND 126 THEN {text} ELSE NULLIF(trim({text}), '') END"
    )


def _projection(
    source: AttemptSource, group: Sequence[AttemptFile], reader: str, ts_is_text: bool
) -> str:
    """Normalised columns of one reader call: text ids, parsed UTC timestamps, the outcome as
    a boolean `failed` (NULL when the value is neither a failure nor a success value)."""
    present = frozenset().union(*(f.columns for f in group))

    def col(name: str) -> str:
        return sql_ident(source.column(name))

    optional = ", ".join(
        f"CAST({col(name)} AS VARCHAR) AS {name}"
        if source.column(name) in present
        else f"NULL::VARCHAR AS {name}"
        for name in OPTIONAL_COLUMNS
    )
    if ts_is_text:
        ts_text = f"NULLIF(trim(CAST({col('ts')} AS VARCHAR)), '')"
        ts = f"try_cast({ts_text} AS TIMESTAMPTZ)"  # the session zone is UTC: naive = UTC
        ts_ok = f"({ts_text} IS NULL OR {ts} IS NOT NULL)"
    else:
        # Such a ts is never a bad value, so ts_text only marks its presence: formatting 100M
        # timestamps as text just to test them for NULL was most of a large scan's time.
        ts_text = f"CASE WHEN {col('ts')} IS NOT NULL THEN 'timestamp' END"
        ts = f"CAST({col('ts')} AS TIMESTAMPTZ)"  # a Parquet timestamp without zone is UTC
        ts_ok = "true"
    outcome = f"trim(CAST({col('outcome')} AS VARCHAR))"
    failed = (
        f"CASE WHEN {outcome} IN ({sql_list(source.failure_values)[1:-1]}) THEN true "
        f"WHEN {outcome} IN ({sql_list(source.success_values)[1:-1]}) THEN false END"
    )
    row = f"{_ROW} + 1" if reader.startswith("read_parquet") else "NULL::BIGINT"
    return (
        f"SELECT {_SOURCE} AS source_file, {row} AS source_row, "
        f"{_account_id(col('account_id'))} AS account_id, "
        f"{ts_text} AS ts_text, {ts} AS ts, {ts_ok} AS ts_ok, "
        f"CAST({col('outcome')} AS VARCHAR) AS outcome, {failed} AS failed, {optional} "
        f"FROM {reader}"
    )


def _json_columns(source: AttemptSource, group: Sequence[AttemptFile]) -> str:
    """Read the needed JSON keys as text, so values are never guessed into other types."""
    present = frozenset().union(*(f.columns for f in group))
    names = [source.column(n) for n in REQUIRED_COLUMNS]
    names += [source.column(n) for n in OPTIONAL_COLUMNS if source.column(n) in present]
    return "{" + ", ".join(f"{sql_string(n)}: 'VARCHAR'" for n in dict.fromkeys(names)) + "}"


def create_attempts_view(
    conn: Any, files: Sequence[AttemptFile], source: AttemptSource | None = None
) -> None:
    """Register the view `attempts` over every file (source_file, source_row, account_id, ts_text,
    ts, ts_ok, outcome, failed, error_code, region, device); `source` gives the column and
    outcome mapping (default: the contract's own names and values)."""
    source = source or AttemptSource("")
    parts: list[str] = []
    csv_files = [f for f in files if f.kind == "csv"]
    if csv_files:
        reader = (
            f"read_csv({sql_list([f.path for f in csv_files])}, header = true, "
            f"all_varchar = true, union_by_name = true, delim = ',', quote = '\"', "
            f"escape = '\"', filename = '{_SOURCE}')"
        )
        parts.append(_projection(source, csv_files, reader, ts_is_text=True))
    for fmt in ("newline_delimited", "auto"):
        group = [f for f in files if f.kind == "json" and f.json_format == fmt]
        if group:
            reader = (
                f"read_json({sql_list([f.path for f in group])}, format = '{fmt}', "
                f"columns = {_json_columns(source, group)}, filename = '{_SOURCE}')"
            )
            parts.append(_projection(source, group, reader, ts_is_text=True))
    for ts_is_text in (False, True):
        group = [f for f in files if f.kind == "parquet" and f.ts_is_text == ts_is_text]
        if group:
            reader = (
                f"read_parquet({sql_list([f.path for f in group])}, union_by_name = true, "
                f"filename = '{_SOURCE}', file_row_number = true)"
            )
            projection = _projection(source, group, reader, ts_is_text)
            parts.append(projection.replace(_ROW, "file_row_number"))
    conn.execute("CREATE OR REPLACE TEMP VIEW attempts AS " + " UNION ALL ".join(parts))


# Rows that break the contract; rows without account or timestamp are skipped, not checked.
_CHECKED = "account_id IS NOT NULL AND ts_text IS NOT NULL"
_BAD_TS = f"{_CHECKED} AND NOT ts_ok"
_BAD_OUTCOME = f"{_CHECKED} AND failed IS NULL"
USABLE = f"{_CHECKED} AND ts_ok AND failed IS NOT NULL"


@dataclass(frozen=True)
class AttemptCounts:
    """What a source held: every row read, rows skipped for lack of account or ts, and rows
    with an unparseable timestamp or outcome (`bad`, left out when the source skips them)."""

    rows: int
    skipped: int
    bad: int = 0
    examples: list[str] = field(default_factory=list)


def _clean_by_footers(
    conn: Any, files: Sequence[AttemptFile], source: AttemptSource
) -> AttemptCounts | None:
    """The counts of a source of Parquet files with a timestamp `ts` when they show no row
    breaking or skipping the contract, else None (then the full check decides and words it).

    The footers' statistics (every row group's) prove that no account_id or ts is NULL
    (null_count 0) and no account_id is blank (every value starts with printable ASCII:
    min >= '!' and max < DEL); such a ts is never a bad value. What is left is one scan of
    the outcome column alone, compared raw with the accepted values: the cheapest column to
    read (dictionary-encoded), where the full check decodes and trims every id of every row.
    """
    if not files or not all(f.kind == "parquet" and not f.ts_is_text for f in files):
        return None
    paths = sql_list([f.path for f in files])
    (proven,) = conn.execute(
        f"SELECT count(*) = 2 * (SELECT count(*) FROM parquet_metadata({paths}) "
        f"WHERE path_in_schema = $ts) AND coalesce(bool_and(stats_null_count = 0 AND "
        f"(path_in_schema = $ts OR (stats_min_value >= '!' AND stats_max_value < chr(127)))), "
        f"false) FROM parquet_metadata({paths}) WHERE path_in_schema IN ($account, $ts)",
        {"account": source.column("account_id"), "ts": source.column("ts")},
    ).fetchone()
    if not proven:
        return None
    outcome = f"CAST({sql_ident(source.column('outcome'))} AS VARCHAR)"
    accepted = sql_list([*source.failure_values, *source.success_values])[1:-1]
    rows, odd = conn.execute(
        f"SELECT count(*), count(*) FILTER ({outcome} IS NULL OR {outcome} NOT IN "
        f"({accepted})) FROM read_parquet({paths}, union_by_name = true)"
    ).fetchone()
    return None if odd else AttemptCounts(rows=int(rows), skipped=0)


def check_attempts(
    conn: Any, source: AttemptSource | None = None, files: Sequence[AttemptFile] = ()
) -> AttemptCounts:
    """Count the rows of `attempts` and the rows breaking the contract (every file is checked
    whole, not only an incident's window). With `on_bad_rows == "fail"` raise InvalidInput
    listing up to MAX_PROBLEMS of them; with "skip" return them counted, with examples.

    `files` (those the view reads) lets Parquet sources be cleared from their footers and
    one outcome scan (see _clean_by_footers); the answer is the same either way."""
    source = source or AttemptSource("")
    clean = _clean_by_footers(conn, files, source)
    if clean is not None:
        return clean
    found = conn.execute(
        f"SELECT count(*), count(*) FILTER (NOT ({_CHECKED})), "
        f"count(*) FILTER ({_BAD_TS} OR {_BAD_OUTCOME}) FROM attempts"
    ).fetchone()
    rows, skipped, bad = (int(v) for v in found)
    if not bad:
        return AttemptCounts(rows=rows, skipped=skipped)
    samples = conn.execute(
        f"""
        SELECT DISTINCT source_file, source_row, column_name, value FROM (
            SELECT source_file, source_row, 'ts' AS column_name, ts_text AS value
            FROM attempts WHERE {_BAD_TS}
            UNION ALL
            SELECT source_file, source_row, 'outcome', outcome FROM attempts
            WHERE {_BAD_OUTCOME}
        ) ORDER BY source_file, source_row NULLS LAST, column_name, value NULLS FIRST
        LIMIT {MAX_PROBLEMS}
        """
    ).fetchall()
    values = [BadValue(str(p), None if r is None else int(r), str(c), v) for p, r, c, v in samples]
    examples = locate_problems(source, values)
    if source.on_bad_rows == "skip":
        return AttemptCounts(rows=rows, skipped=skipped, bad=bad, examples=examples)
    head = f"{bad} attempt row(s) break the contract"
    if bad > len(examples):
        head += f" (first {len(examples)} shown)"
    head += "; fix them, map the values (--map, --failure-values), or use --on-bad-rows skip"
    raise InvalidInput(head, examples)


def open_attempts(
    conn: Any,
    source: AttemptSource,
    extra_columns: Sequence[str] = (),
    say: Say | None = None,
) -> tuple[list[str], AttemptCounts]:
    """Resolve and inspect the source's files, register the `attempts` view and check it.

    Returns the file paths and the counts; reports each phase through `say` (and the bad rows
    left out, when the source skips them)."""
    paths = resolve_attempt_files(source.path)
    files = inspect_files(conn, paths, extra_columns, source)
    create_attempts_view(conn, files, source)
    if say:
        say(
            f"checking {sum(f.kind != 'parquet' for f in files)} text and "
            f"{sum(f.kind == 'parquet' for f in files)} Parquet attempt file(s) in {source.path}"
        )
    counts = check_attempts(conn, source, files)
    if say:
        say(f"read {counts.rows:,} rows ({counts.skipped:,} without account or timestamp)")
        if counts.bad:
            say(f"skipped {counts.bad:,} row(s) with a bad timestamp or outcome, e.g.:")
            for example in counts.examples[:5]:
                say(f"  {example}")
    return paths, counts
