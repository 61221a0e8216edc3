"""The eligibility query of telemetry.eligibility run by Spark: the same SQL, the same rows.

The cohort and the exported inputs are staged as Parquet (DuckDB writes them: one CSV parser
for both engines), Spark joins and decides with the query's Spark dialect (DECIMAL(38,0) for
the exact percent, `div` for integer division), and its result is read back into the DuckDB
connection as the table `decisions`, from which the snapshot is written as with DuckDB.
"""

# SQL here is assembled from constants and file names passed through sql_string.
# ruff: noqa: S608

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from makegood.domain.policy import CreditPolicy, Outage
from makegood.telemetry.eligibility import decisions_sql, load_inputs, load_plan_filter
from makegood.telemetry.policy_sql import SPARK
from makegood.telemetry.spark_session import get_spark
from makegood.telemetry.sql import sql_string

if TYPE_CHECKING:
    from makegood.store.snapshot import EligibilityFiles

_STAGED = ("cohort", "accounts_in", "plans_in", "offered_in", "plan_filter")


def decide_in_spark(
    conn: Any,
    files: EligibilityFiles,
    policy: CreditPolicy,
    outage: Outage,
    *,
    scratch: Path,
    master: str | None = None,
    driver_memory: str | None = None,
) -> int:
    """telemetry.eligibility.decide_in_duckdb's contract, the join and decisions computed by
    Spark (`master`, default local[*], with `driver_memory`); `scratch` must be reachable by
    Spark's workers."""
    sql = decisions_sql(policy, outage, SPARK)  # refuses what cannot be exact, before any work
    load_inputs(conn, files.accounts, files.plans, files.offered)
    load_plan_filter(conn, policy.eligibility.plans)
    spark = get_spark(master, driver_memory=driver_memory)
    staged = scratch / "spark"
    staged.mkdir(parents=True, exist_ok=True)
    for table in _STAGED:
        source = "SELECT * FROM cohort WHERE kept" if table == "cohort" else f"FROM {table}"
        path = staged / f"{table}.parquet"
        conn.execute(f"COPY ({source}) TO {sql_string(str(path))} (FORMAT parquet)")
        spark.read.parquet(str(path)).createOrReplaceTempView(table)
    result = staged / "decisions"
    spark.sql(sql).write.mode("overwrite").parquet(str(result))
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE decisions AS SELECT * FROM "
        f"read_parquet({sql_string(str(result / '*.parquet'))})"
    )
    return int(conn.execute("SELECT count(*) FROM decisions").fetchall()[0][0])
