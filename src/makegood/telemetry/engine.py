"""A DuckDB connection for one analysis: in memory, UTC, with bounded memory; and the engines'
configuration, which the composition root (bootstrap.py) builds from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from makegood.telemetry.sql import sql_string


@dataclass(frozen=True)
class EngineConfig:
    """How DuckDB connections and the Spark session are set up. `Container.engine_config`
    builds it from MAKEGOOD_DUCKDB_MEMORY_LIMIT, MAKEGOOD_DUCKDB_TEMP_DIR,
    MAKEGOOD_SPARK_MASTER and MAKEGOOD_SPARK_DRIVER_MEMORY; None leaves the engine's default."""

    memory_limit: str | None = None
    temp_dir: str | None = None
    spark_master: str | None = None
    spark_driver_memory: str | None = None

    def duckdb_limits(self) -> dict[str, str | None]:
        """The `memory_limit` and `temp_dir` keywords of the cohort and detection functions."""
        return {"memory_limit": self.memory_limit, "temp_dir": self.temp_dir}

    def connect(self) -> Any:
        """connect_duckdb with this configuration's limits."""
        return connect_duckdb(memory_limit=self.memory_limit, temp_dir=self.temp_dir)


def connect_duckdb(*, memory_limit: str | None = None, temp_dir: str | None = None) -> Any:
    """A fresh in-memory connection; its session time zone is UTC so every timestamp is UTC.

    `memory_limit` ("2GB") caps DuckDB's buffer pool; beyond it large sorts and aggregates
    spill to `temp_dir`. None leaves DuckDB's own default; callers pass their
    `EngineConfig`'s values (the settings MAKEGOOD_DUCKDB_MEMORY_LIMIT, MAKEGOOD_DUCKDB_TEMP_DIR).
    """
    import duckdb

    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        conn.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    if temp_dir:
        conn.execute(f"SET temp_directory = {sql_string(temp_dir)}")
    return conn
