"""The one rule for CSV cells a spreadsheet would run as a formula (issue 12, item 7)."""

from __future__ import annotations

import duckdb
import pytest

from makegood.domain.csv_cells import safe_cell, safe_cell_sql

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "-",
    "+",
]
KEPT = ["acc_1", "Make-good credit: outage", "-0.24", "-24", "+3", "0.105", "", "a=b", " =1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", KEPT)
def test_text_and_plain_numbers_stay_as_they_are(value: str) -> None:
    assert safe_cell(value) == value


def test_numbers_and_empty_cells_are_not_text() -> None:
    assert safe_cell(-24) == -24
    assert safe_cell(None) is None


def test_the_sql_spelling_agrees_with_the_python_one() -> None:
    values = [*HOSTILE, *KEPT, "-1e5", "\uff0d1", "-\u0663"]  # fullwidth minus, Arabic-Indic three
    conn = duckdb.connect()
    conn.execute("CREATE TABLE cells (i INTEGER, v VARCHAR)")
    conn.executemany("INSERT INTO cells VALUES (?, ?)", list(enumerate(values)))
    got = [
        row[0]
        for row in conn.execute(
            f"SELECT {safe_cell_sql('v')} FROM cells ORDER BY i"  # noqa: S608 - our own SQL
        ).fetchall()
    ]
    assert got == [safe_cell(v) for v in values]
    assert conn.execute(f"SELECT {safe_cell_sql('NULL::VARCHAR')}").fetchone() == (None,)
