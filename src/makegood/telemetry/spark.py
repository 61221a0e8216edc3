"""The affected cohort computed with Spark: the same contract and results as the DuckDB engine.

Spark reads and normalises the attempts (spark_attempts), then computes per account, as
telemetry.cohort does: the distinct failed attempts in the window and scope (identical rows
once), the first and last of them, the first success anywhere after the first failure and
before the window's end, the impact minutes, and whether the account is kept under
`min_failures` and `strict` (docs/cohort.md). The per-account table is staged as Parquet and
handed back in the DuckDB engine's CohortResult, so paging, writing and every command behave
the same whichever engine computed it.
"""

# The only SQL here reads back the staged file, named through sql_string.
# ruff: noqa: S608

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from makegood.telemetry.cohort import CohortResult, cohort_result, scope_columns_of, window_micros
from makegood.telemetry.engine import connect_duckdb
from makegood.telemetry.source import AttemptSource
from makegood.telemetry.spark_attempts import read_attempts
from makegood.telemetry.spark_session import get_spark
from makegood.telemetry.sql import sql_string

_MINUTE_US = 60_000_000


def _cohort_frame(
    attempts: Any,
    start_us: int,
    end_us: int,
    regions: Sequence[str],
    devices: Sequence[str],
    min_failures: int,
    strict: bool,
) -> Any:
    """account_id, failed_attempts, copies, first_us, last_us, success_us, impact_minutes, kept:
    the columns of telemetry.cohort's table `cohort`, one row per account with a failure."""
    from pyspark.sql import functions as sf

    window = attempts.where(
        (sf.col("ts") >= sf.timestamp_micros(sf.lit(start_us)))
        & (sf.col("ts") < sf.timestamp_micros(sf.lit(end_us)))
    )
    in_scope = sf.lit(True)
    if regions:
        in_scope = in_scope & sf.col("region").isin(list(regions))
    if devices:
        in_scope = in_scope & sf.col("device").isin(list(devices))
    # Identical rows are one attempt logged twice (retried shipping, overlapping files).
    hits = (
        window.where(sf.col("failed") & in_scope)
        .groupBy("account_id", "ts", "error_code", "region", "device")
        .agg(sf.count(sf.lit(1)).alias("copies"))
    )
    accounts = hits.groupBy("account_id").agg(
        sf.count(sf.lit(1)).alias("failed_attempts"),
        sf.sum("copies").alias("copies"),
        sf.min("ts").alias("first_ts"),
        sf.max("ts").alias("last_ts"),
    )
    # A success anywhere (the subscriber could watch again) after the first failure.
    successes = window.where(~sf.col("failed")).select(
        "account_id", sf.col("ts").alias("success_ts")
    )
    recovered = (
        accounts.select("account_id", "first_ts")
        .join(successes, "account_id")
        .where(sf.col("success_ts") > sf.col("first_ts"))
        .groupBy("account_id")
        .agg(sf.min("success_ts").alias("success_ts"))
    )
    first_us = sf.unix_micros("first_ts")
    success_us = sf.unix_micros("success_ts")
    impact_us = sf.coalesce(success_us, sf.lit(end_us)) - first_us
    kept = sf.col("failed_attempts") >= sf.lit(min_failures)  # domain.cohort.enough_failures
    if strict:
        kept = kept & success_us.isNull()
    return accounts.join(recovered, "account_id", "left").select(
        "account_id",
        sf.col("failed_attempts").cast("bigint").alias("failed_attempts"),
        sf.col("copies").cast("bigint").alias("copies"),
        first_us.alias("first_us"),
        sf.unix_micros("last_ts").alias("last_us"),
        success_us.alias("success_us"),
        sf.floor((impact_us + sf.lit(_MINUTE_US - 1)) / sf.lit(_MINUTE_US))
        .cast("bigint")
        .alias("impact_minutes"),
        kept.alias("kept"),
    )


def compute_cohort_spark(
    events: str | AttemptSource,
    starts_at: datetime,
    ends_at: datetime,
    regions: Sequence[str],
    devices: Sequence[str],
    *,
    min_failures: int = 1,
    strict: bool = False,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
    say: Callable[[str], None] | None = None,
    master: str | None = None,
    driver_memory: str | None = None,
) -> CohortResult:
    """telemetry.cohort.compute_cohort's contract and result, computed by Spark (`master`,
    default local[*], with `driver_memory`, started on first use and kept for the process).

    The per-account table is staged under `temp_dir` (for a cluster master, a directory every
    worker and this process can reach) and read back through DuckDB, capped by `memory_limit`.
    """
    source = AttemptSource.of(events)
    start_us, end_us = window_micros(starts_at, ends_at, min_failures)
    scope_columns = scope_columns_of(regions, devices)
    spark = get_spark(master, driver_memory=driver_memory)
    attempts = read_attempts(
        spark, source, scope_columns, say, memory_limit=memory_limit, temp_dir=temp_dir
    )
    if say:
        say("computing the cohort of the window with Spark")
    staging = Path(tempfile.mkdtemp(prefix="makegood-spark-", dir=temp_dir))
    conn = connect_duckdb(memory_limit=memory_limit, temp_dir=temp_dir)
    try:
        frame = _cohort_frame(
            attempts.frame, start_us, end_us, regions, devices, min_failures, strict
        )
        frame.write.mode("overwrite").parquet(str(staging / "cohort"))
        conn.execute(
            "CREATE TEMP TABLE cohort AS SELECT account_id, failed_attempts, copies, first_us, "
            "last_us, success_us, impact_minutes, kept FROM "
            f"read_parquet({sql_string(str(staging / 'cohort' / '*.parquet'))}) "
            "ORDER BY account_id"
        )
        return cohort_result(conn, len(attempts.paths), attempts.counts, min_failures)
    except BaseException:
        conn.close()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
