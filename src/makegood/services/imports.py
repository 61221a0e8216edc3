"""Import plans and accounts: the whole file checked first (import_files/: every rule in one
vectorised DuckDB pass), then written through the table's repository (a staging table and one
set-based upsert by id).

All or nothing: a file with any problem is refused with every problem listed
(`FILE:LINE: column COL: problem`) and nothing written; a good file is written in one
transaction, so an import killed half-way leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from makegood.bootstrap import Container
from makegood.import_files.checked import check_accounts, check_plans

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    created: int
    updated: int


def import_plans(container: Container, path: Path, actor: str = "cli") -> ImportSummary:
    """Create or update plans from `path`; any bad row aborts the whole import."""
    with check_plans(path) as checked:
        now = container.now()
        with container.uow() as uow:
            existing = uow.plans.import_rows(checked.columns, checked.batches(uow.dialect), now)
            summary = ImportSummary(checked.rows, checked.rows - existing, existing)
            uow.audit.record(now, actor, "plans.imported", "file", path.name, summary.__dict__)
            uow.commit()
    return summary


def import_accounts(
    container: Container, path: Path, actor: str = "cli", progress: Progress | None = None
) -> ImportSummary:
    """Create or update accounts from `path`, validated in full before anything is written."""
    with container.uow() as uow:
        plans = uow.plans.ids()
    with check_accounts(path, plans) as checked:
        now = container.now()
        with container.uow() as uow:
            existing = uow.accounts.import_rows(
                checked.columns, checked.batches(uow.dialect), now, progress
            )
            summary = ImportSummary(checked.rows, checked.rows - existing, existing)
            uow.audit.record(now, actor, "accounts.imported", "file", path.name, summary.__dict__)
            uow.commit()
    if progress:
        progress(checked.rows)
    return summary
