"""SQL literals and identifiers for DuckDB statements assembled in this package."""

from __future__ import annotations

from collections.abc import Sequence


def sql_string(value: str) -> str:
    """A SQL string literal (DuckDB's table functions take file names as literals)."""
    return "'" + value.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier, so any source column name (spaces, quotes, case) is safe."""
    return '"' + name.replace('"', '""') + '"'


def sql_list(values: Sequence[str]) -> str:
    """A DuckDB list literal of strings."""
    return "[" + ", ".join(sql_string(v) for v in values) + "]"
