"""A plans or accounts file checked in full: refused with every problem, or its rows ready to be
streamed, as the table's columns and in file order, in bounded Arrow batches.

`with check_accounts(path, plans) as checked:` closes DuckDB (and what it spilled) on leaving.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pyarrow as pa  # type: ignore[import-untyped]

from makegood.import_files import rules
from makegood.import_files.loading import LoadedFile, ProblemList, load_file

PLAN_COLUMNS = ("plan_id", "name", "monthly_price", "currency")
ACCOUNT_COLUMNS = (
    "account_id",
    "email",
    "plan_id",
    "status",
    "country",
    "locale",
    "next_bill_date",
)
ACCOUNT_OPTIONAL = ("billing_day", "stripe_customer_id", "cancelled_at")
BATCH_ROWS = 100_000  # rows per Arrow batch streamed to the database: bounds memory


@dataclass
class CheckedFile:
    """A file without problems: how many rows it has, the table columns its rows carry (in
    the batches' order), and the query that reads them for a database's dialect."""

    loaded: LoadedFile
    rows: int
    columns: list[str]
    query: Callable[[str], str]  # dialect -> DuckDB query of the rows

    def batches(self, dialect: str) -> Iterator[pa.RecordBatch]:
        """The rows in file order, at most BATCH_ROWS at a time."""
        reader: Iterator[pa.RecordBatch] = self.loaded.con.sql(self.query(dialect)).to_arrow_reader(
            BATCH_ROWS
        )
        yield from reader

    def close(self) -> None:
        self.loaded.con.close()

    def __enter__(self) -> CheckedFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _count(loaded: LoadedFile) -> int:
    found = loaded.con.execute("SELECT count(*) FROM src").fetchall()[0]
    return int(found[0]) if found else 0


def check_plans(path: Path) -> CheckedFile:
    """The plans file at `path`, checked; InvalidInput listing its problems."""
    loaded = load_file(path, PLAN_COLUMNS)
    try:
        rules.prepare_plans(loaded)
        found, total = rules.find_problems(loaded, rules.plan_rules(), "plan_id", rules.PRICES_JOIN)
        ProblemList(loaded).raise_if_any(found, total)
        columns = ["plan_id", "name", "monthly_price_minor", "currency"]
        return CheckedFile(loaded, _count(loaded), columns, lambda _: rules.PLAN_ROWS)
    except BaseException:
        loaded.con.close()
        raise


def check_accounts(path: Path, known_plans: Sequence[str]) -> CheckedFile:
    """The accounts file at `path`, checked (a plan must be one of `known_plans`);
    InvalidInput listing its problems."""
    loaded = load_file(path, ACCOUNT_COLUMNS, ACCOUNT_OPTIONAL)
    try:
        plans = pa.table({"plan_id": pa.array(list(known_plans), pa.string())})
        loaded.con.register("known_plans", plans)
        found, total = rules.find_problems(
            loaded, rules.account_rules(loaded.columns), "account_id"
        )
        ProblemList(loaded).raise_if_any(found, total)
        # An optional column is set (or, empty, cleared) only by a file that has it.
        columns = [
            *ACCOUNT_COLUMNS,
            "billing_day",
            *(c for c in ("stripe_customer_id", "cancelled_at") if c in loaded.columns),
        ]
        present = list(loaded.columns)
        return CheckedFile(
            loaded, _count(loaded), columns, lambda dialect: rules.account_rows(present, dialect)
        )
    except BaseException:
        loaded.con.close()
        raise
