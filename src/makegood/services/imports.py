"""Import plans and accounts: load the whole file into DuckDB, check every rule in one
vectorised pass, then write through a staging table with one set-based upsert by id.

All or nothing: a file with any problem is refused with every problem listed
(`FILE:LINE: column COL: problem`) and nothing written; a good file is written in one
transaction, so an import killed half-way leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services import import_checks as checks
from makegood.services.import_files import LoadedFile, ProblemList, load_file
from makegood.store import tables as t
from makegood.store.staging import stage_and_upsert

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
STATUSES = checks.STATUSES
BATCH_ROWS = 100_000  # rows per Arrow batch streamed to the database: bounds memory
# Keep an account's billing anchor (31) when its next bill date did not change (Feb 28).
KEEP_ANCHOR = (
    "CASE WHEN t.next_bill_date = excluded.next_bill_date THEN t.billing_day"
    " ELSE excluded.billing_day END"
)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    created: int
    updated: int


def _batches(loaded: LoadedFile, query: str) -> Iterator[pa.RecordBatch]:
    reader: Iterator[pa.RecordBatch] = loaded.con.sql(query).to_arrow_reader(BATCH_ROWS)
    yield from reader


def import_plans(container: Container, path: Path, actor: str = "cli") -> ImportSummary:
    """Create or update plans from `path`; any bad row aborts the whole import."""
    loaded = load_file(path, PLAN_COLUMNS)
    try:
        checks.prepare_plans(loaded)
        found, total = checks.find_problems(
            loaded, checks.plan_rules(), "plan_id", checks.PRICES_JOIN
        )
        ProblemList(loaded).raise_if_any(found, total)
        rows = _count(loaded)
        now = container.now()
        with container.uow() as uow:
            existing = stage_and_upsert(
                uow.conn,
                t.plans,
                "plan_id",
                ["plan_id", "name", "monthly_price_minor", "currency"],
                _batches(loaded, checks.PLAN_ROWS),
                now,
            )
            summary = ImportSummary(rows, rows - existing, existing)
            uow.audit.record(now, actor, "plans.imported", "file", path.name, summary.__dict__)
            uow.commit()
    finally:
        loaded.con.close()
    return summary


def _count(loaded: LoadedFile) -> int:
    found = loaded.con.execute("SELECT count(*) FROM src").fetchall()[0]
    return int(found[0]) if found else 0


def import_accounts(
    container: Container, path: Path, actor: str = "cli", progress: Progress | None = None
) -> ImportSummary:
    """Create or update accounts from `path`, validated in full before anything is written."""
    with container.uow() as uow:
        plans = list(uow.conn.execute(sa.select(t.plans.c.plan_id)).scalars())
    loaded = load_file(path, ACCOUNT_COLUMNS, ACCOUNT_OPTIONAL)
    try:
        loaded.con.register("known_plans", pa.table({"plan_id": pa.array(plans, pa.string())}))
        found, total = checks.find_problems(
            loaded, checks.account_rules(loaded.columns), "account_id"
        )
        ProblemList(loaded).raise_if_any(found, total)
        rows = _count(loaded)
        # An optional column is set (or, empty, cleared) only by a file that has it.
        columns = [
            *ACCOUNT_COLUMNS,
            "billing_day",
            *(c for c in ("stripe_customer_id", "cancelled_at") if c in loaded.columns),
        ]
        now = container.now()
        with container.uow() as uow:
            existing = stage_and_upsert(
                uow.conn,
                t.accounts,
                "account_id",
                columns,
                _batches(loaded, checks.account_rows(loaded.columns, uow.dialect)),
                now,
                {"billing_day": KEEP_ANCHOR},
                progress,
            )
            summary = ImportSummary(rows, rows - existing, existing)
            uow.audit.record(now, actor, "accounts.imported", "file", path.name, summary.__dict__)
            uow.commit()
    finally:
        loaded.con.close()
    if progress:
        progress(rows)
    return summary
