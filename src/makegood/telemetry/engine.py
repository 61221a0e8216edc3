"""A DuckDB connection for one analysis: in memory, UTC, with bounded memory."""

from __future__ import annotations

from typing import Any

from makegood.telemetry.sql import sql_string


def connect_duckdb(*, memory_limit: str | None = None, temp_dir: str | None = None) -> Any:
    """A fresh in-memory connection; its session time zone is UTC so every timestamp is UTC.

    `memory_limit` ("2GB") caps DuckDB's buffer pool; beyond it large sorts and aggregates
    spill to `temp_dir`. Each defaults to its setting (MAKEGOOD_DUCKDB_MEMORY_LIMIT,
    MAKEGOOD_DUCKDB_TEMP_DIR), then to DuckDB's own default.
    """
    import duckdb

    from makegood.settings import get_settings

    settings = get_settings()
    memory_limit = memory_limit or settings.duckdb_memory_limit
    if temp_dir is None and settings.duckdb_temp_dir is not None:
        temp_dir = str(settings.duckdb_temp_dir)
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        conn.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    if temp_dir:
        conn.execute(f"SET temp_directory = {sql_string(temp_dir)}")
    return conn
