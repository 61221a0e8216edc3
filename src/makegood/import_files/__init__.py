"""The plans and accounts files an import reads (CSV or Parquet), loaded and checked by DuckDB.

An adapter, like telemetry/: its DuckDB SQL reads a file, never our tables. `check_plans` and
`check_accounts` (checked.py) refuse a file with every problem as `FILE:LINE: column COL:
problem` and otherwise stream its rows, as the table's columns, to the store's bulk writer.
"""
