"""The eligibility query of telemetry.eligibility run by Spark: the same SQL, the same rows.

The cohort and the exported inputs are staged as Parquet (DuckDB writes them: one CSV parser
for both engines), Spark joins and decides with the query's Spark dialect (DECIMAL(38,0) for
the exact percent, `div` for integer division), and its result is read back into the DuckDB
connection as the table `decisions`, from which the snapshot is written as with DuckDB.
"""

# SQL here is assembled from constants and file names passed through sql_string.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from makegood.domain.policy import Policy
from makegood.telemetry.eligibility import (
    SPARK,
    amount_terms,
    decisions_sql,
    load_inputs,
    load_terms,
)
from makegood.telemetry.spark_session import get_spark
from makegood.telemetry.sql import sql_string

if TYPE_CHECKING:
    from makegood.store.snapshot import EligibilityFiles

_STAGED = ("cohort", "accounts_in", "plans_in", "offered_in", "fixed_in", "plan_filter")


def decide_in_spark(
    conn: Any,
    files: EligibilityFiles,
    policy: Policy,
    plans: Collection[str] | None,
    *,
    scratch: Path,
    master: str | None = None,
) -> int:
    """telemetry.eligibility.decide_in_duckdb's contract, the join and decisions computed by
    Spark (`master`, default local[*]); `scratch` must be reachable by Spark's workers."""
    terms = amount_terms(policy)
    load_inputs(conn, files.accounts, files.plans, files.offered)
    load_terms(conn, terms, plans)
    spark = get_spark(master)
    staged = scratch / "spark"
    staged.mkdir(parents=True, exist_ok=True)
    for table in _STAGED:
        source = "SELECT * FROM cohort WHERE kept" if table == "cohort" else f"FROM {table}"
        path = staged / f"{table}.parquet"
        conn.execute(f"COPY ({source}) TO {sql_string(str(path))} (FORMAT parquet)")
        spark.read.parquet(str(path)).createOrReplaceTempView(table)
    result = staged / "decisions"
    spark.sql(decisions_sql(terms, plans is not None, SPARK)).write.mode("overwrite").parquet(
        str(result)
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE decisions AS SELECT * FROM "
        f"read_parquet({sql_string(str(result / '*.parquet'))})"
    )
    return int(conn.execute("SELECT count(*) FROM decisions").fetchall()[0][0])
