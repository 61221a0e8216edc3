"""Cells of the CSV files makegood writes, made safe to open in a spreadsheet.

A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` (and, in some, after a tab or a
carriage return) as a formula: "CSV injection" (OWASP). Account ids and other text come from
outside, so every CSV writer passes each cell through `safe_cell` (Python writers) or
`safe_cell_sql` (DuckDB's COPY): one rule in two spellings, which a unit test holds equal. Such
a cell gets a leading single quote, which spreadsheets show as text and never run.

Numbers stay numbers: int and Decimal values, and text that is a plain number (`-0.24`, `-24`,
`+3`: ASCII digits, an optional sign and one point), are written as they are. A billing loader
must read `-0.24` as minus 0.24, and a spreadsheet reads a plain number as a number, never as
a formula; anything else after a sign (`-2+3`, `-1e5`) is text and is quoted.
"""

from __future__ import annotations

import re
from typing import TypeVar

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"[+-]?[0-9]+(\.[0-9]+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
T = TypeVar("T")


def safe_cell(value: T) -> T | str:
    """`value`, or `'value` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_cell_sql(expr: str) -> str:
    """The DuckDB expression for `safe_cell` of the VARCHAR expression `expr`."""
    firsts = ", ".join(f"chr({ord(c)})" for c in TRIGGERS)
    return (
        f"CASE WHEN left({expr}, 1) IN ({firsts}) "
        f"AND NOT regexp_full_match({expr}, '{PLAIN_NUMBER}') "
        f"THEN '''' || {expr} ELSE {expr} END"
    )
