"""The attempt contract read with Spark: the same files, columns and rules as the DuckDB reader.

Files are found and their headers checked by the DuckDB engine's own functions (the same
messages for a missing column); Spark then reads the rows and normalises them exactly as the
DuckDB view `attempts` does: text ids trimmed, empty as missing, `ts` parsed to UTC (a zone-
less value is UTC), the outcome mapped through the source's failure and success values.
When a row breaks the contract the DuckDB checker words the refusal, so both engines refuse
a source with the same message (it reads the files again, on that rare path only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from makegood.telemetry.attempts import AttemptCounts, check_attempts, create_attempts_view
from makegood.telemetry.engine import connect_duckdb
from makegood.telemetry.files import (
    OPTIONAL_COLUMNS,
    AttemptFile,
    inspect_files,
    resolve_attempt_files,
)
from makegood.telemetry.source import AttemptSource

Say = Callable[[str], None]


@dataclass(frozen=True)
class SparkAttempts:
    """The normalised rows (a Spark DataFrame) and what the source held."""

    frame: Any  # account_id, ts, failed, error_code, region, device: usable rows only
    paths: list[str]
    counts: AttemptCounts


def _json_is_array(path: str) -> bool:
    with open(path, encoding="utf-8-sig") as fh:
        while chunk := fh.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped.startswith("[")
    return False


def _read_group(spark: Any, kind: str, paths: list[str], multiline: bool) -> Any:
    if kind == "csv":
        return spark.read.csv(
            paths, header=True, inferSchema=False, quote='"', escape='"', encoding="UTF-8"
        )
    if kind == "json":
        # Every value as text, as DuckDB reads them: ids and timestamps are never guessed.
        return spark.read.json(paths, primitivesAsString=True, multiLine=multiline)
    return spark.read.parquet(*paths)


def _projection(source: AttemptSource, frame: Any, columns: frozenset[str], text_ts: bool) -> Any:
    from pyspark.sql import functions as sf

    def col(name: str) -> Any:
        return sf.col(f"`{source.column(name)}`")

    ts_text = sf.nullif(sf.trim(col("ts").cast("string")), sf.lit(""))
    if text_ts:
        ts = ts_text.try_cast("timestamp")  # the session zone is UTC: naive = UTC
        ts_ok = ts_text.isNull() | ts.isNotNull()
    else:
        ts = col("ts").cast("timestamp")  # a zone-less Parquet timestamp is UTC
        ts_ok = sf.lit(True)
    outcome = sf.trim(col("outcome").cast("string"))
    failed = sf.when(outcome.isin(list(source.failure_values)), sf.lit(True)).when(
        outcome.isin(list(source.success_values)), sf.lit(False)
    )
    optional = [
        (
            col(name).cast("string")
            if source.column(name) in columns
            else sf.lit(None).cast("string")
        ).alias(name)
        for name in OPTIONAL_COLUMNS
    ]
    account = sf.nullif(sf.trim(col("account_id").cast("string")), sf.lit(""))
    return frame.select(
        account.alias("account_id"),
        ts_text.alias("ts_text"),
        ts.alias("ts"),
        ts_ok.alias("ts_ok"),
        failed.alias("failed"),
        *optional,
    )


def read_attempts(
    spark: Any,
    source: AttemptSource,
    extra_columns: Sequence[str] = (),
    say: Say | None = None,
    *,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
) -> SparkAttempts:
    """Resolve, inspect and read the source; count its rows; refuse it (or leave bad rows out,
    when the source skips them) exactly as the DuckDB engine's open_attempts does. DuckDB,
    within `memory_limit` and `temp_dir`, checks the headers and explains bad rows."""
    from pyspark.sql import functions as sf

    paths = resolve_attempt_files(source.path)
    conn = connect_duckdb(memory_limit=memory_limit, temp_dir=temp_dir)
    try:
        files = inspect_files(conn, paths, extra_columns, source)
    finally:
        conn.close()
    # One read per header (Spark maps CSV columns by position within a read) and per ts kind.
    groups: dict[tuple[str, frozenset[str], bool, bool], list[str]] = {}
    for f in files:
        multiline = f.kind == "json" and _json_is_array(f.path)
        groups.setdefault((f.kind, f.columns, f.ts_is_text, multiline), []).append(f.path)
    frames = [
        _projection(source, _read_group(spark, kind, group, multiline), columns, text_ts)
        for (kind, columns, text_ts, multiline), group in sorted(
            groups.items(), key=lambda item: item[1][0]
        )
    ]
    every = frames[0]
    for frame in frames[1:]:
        every = every.unionByName(frame)
    if say:
        say(f"reading {len(paths)} attempt file(s) in {source.path} with Spark")

    checked = sf.col("account_id").isNotNull() & sf.col("ts_text").isNotNull()
    bad = checked & (~sf.col("ts_ok") | sf.col("failed").isNull())
    found = every.agg(
        sf.count(sf.lit(1)).alias("rows"),
        sf.count(sf.when(~checked, 1)).alias("skipped"),
        sf.count(sf.when(bad, 1)).alias("bad"),
    ).collect()[0]
    counts = AttemptCounts(rows=int(found["rows"]), skipped=int(found["skipped"]))
    if int(found["bad"]):
        counts = _explain_bad_rows(
            source, files, int(found["bad"]), memory_limit=memory_limit, temp_dir=temp_dir
        )
    if say:
        say(f"read {counts.rows:,} rows ({counts.skipped:,} without account or timestamp)")
        if counts.bad:
            say(f"skipped {counts.bad:,} row(s) with a bad timestamp or outcome, e.g.:")
            for example in counts.examples[:5]:
                say(f"  {example}")
    usable = every.where(checked & sf.col("ts_ok") & sf.col("failed").isNotNull())
    return SparkAttempts(
        frame=usable.select("account_id", "ts", "failed", *OPTIONAL_COLUMNS),
        paths=paths,
        counts=counts,
    )


def _explain_bad_rows(
    source: AttemptSource,
    files: Sequence[AttemptFile],
    bad: int,
    *,
    memory_limit: str | None,
    temp_dir: str | None,
) -> Any:
    """The DuckDB checker's verdict on the same files: it raises InvalidInput (fail) or
    returns the counts with located examples (skip)."""
    conn = connect_duckdb(memory_limit=memory_limit, temp_dir=temp_dir)
    try:
        create_attempts_view(conn, files, source)
        return check_attempts(conn, source)
    finally:
        conn.close()
