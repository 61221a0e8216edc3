"""Outage detection on Spark: the same bucket rows and accounts touched as detect_duckdb.

Spark counts usable attempts per bucket and segment (identical rows each count, as on
DuckDB); the rows are collected (one per bucket and segment: small beside the logs) and
handed to the engine-neutral `propose_windows`, so both engines propose the same windows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from makegood.telemetry.detect import (
    BucketRow,
    Detection,
    DetectionRule,
    Window,
    bucket_us,
    check_by,
    from_micros,
    propose_windows,
)
from makegood.telemetry.source import AttemptSource
from makegood.telemetry.spark_attempts import read_attempts
from makegood.telemetry.spark_session import get_spark

Say = Callable[[str], None]


def _row_order(row: BucketRow) -> tuple[Any, ...]:
    """DuckDB's ORDER BY ALL: start, then each segment value with missing values last."""
    return (row.start, *((value is None, value or "") for value in row.segment))


def bucket_rows_spark(attempts: Any, rule: DetectionRule, by: Sequence[str]) -> list[BucketRow]:
    """BucketRows of normalised usable attempts (spark_attempts.read_attempts)."""
    from pyspark.sql import functions as sf

    check_by(by)
    width = bucket_us(rule)
    start = (sf.floor(sf.unix_micros("ts") / sf.lit(width)) * sf.lit(width)).cast("bigint")
    found = (
        attempts.groupBy(start.alias("start_us"), *by)
        .agg(
            sf.count(sf.lit(1)).alias("attempts"),
            sf.count(sf.when(sf.col("failed"), 1)).alias("failures"),
        )
        .collect()
    )
    rows = [
        BucketRow(
            from_micros(int(r["start_us"])),
            tuple(r[name] for name in by),
            int(r["attempts"]),
            int(r["failures"]),
        )
        for r in found
    ]
    return sorted(rows, key=_row_order)


def accounts_touched_spark(
    spark: Any, attempts: Any, windows: Sequence[Window], by: Sequence[str]
) -> list[Window]:
    """The windows with `accounts_touched`: distinct accounts with a failed attempt in the
    window's [start, end) and one of its segments (a missing value matches a missing one)."""
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    check_by(by)
    if not windows:
        return []
    schema = StructType(
        [
            StructField("idx", StringType()),
            StructField("start_ts", TimestampType()),
            StructField("end_ts", TimestampType()),
            *(StructField(f"p_{name}", StringType()) for name in by),
        ]
    )
    proposed = spark.createDataFrame(
        [(str(w.index), w.start, w.end, *segment) for w in windows for segment in w.segments],
        schema,
    )
    condition = (sf.col("ts") >= sf.col("start_ts")) & (sf.col("ts") < sf.col("end_ts"))
    for name in by:
        condition = condition & sf.col(name).eqNullSafe(sf.col(f"p_{name}"))
    counts = {
        int(r["idx"]): int(r["accounts"])
        for r in attempts.where(sf.col("failed"))
        .join(sf.broadcast(proposed), condition)
        .groupBy("idx")
        .agg(sf.countDistinct("account_id").alias("accounts"))
        .collect()
    }
    return [replace(w, accounts_touched=counts.get(w.index, 0)) for w in windows]


def detect_spark(
    source: str | AttemptSource,
    rule: DetectionRule,
    by: Sequence[str],
    bucket: str,
    *,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
    say: Say | None = None,
    master: str | None = None,
    driver_memory: str | None = None,
) -> Detection:
    """detect_duckdb's contract on Spark (`master`, default local[*], with `driver_memory`);
    `memory_limit` and `temp_dir` are DuckDB's and only bound the header checks here."""
    source = AttemptSource.of(source)
    spark = get_spark(master, driver_memory=driver_memory)
    attempts = read_attempts(spark, source, by, say, memory_limit=memory_limit, temp_dir=temp_dir)
    if say:
        say(f"counting attempts per {bucket} bucket" + (f" and {', '.join(by)}" if by else ""))
    # The logs are read twice (buckets, then the windows' accounts) rather than cached:
    # a cache of every attempt would not stay in bounded memory.
    rows = bucket_rows_spark(attempts.frame, rule, by)
    windows = propose_windows(rows, rule)
    if say:
        say(f"{len(windows)} window(s) proposed; counting the accounts they touched")
    windows = accounts_touched_spark(spark, attempts.frame, windows, by)
    return Detection(
        rule=rule,
        bucket=bucket,
        by=tuple(by),
        rows=rows,
        windows=windows,
        rows_read=attempts.counts.rows,
        rows_bad=attempts.counts.bad,
    )
