"""The export connector: a file of credits for a billing system's batch loader, and the import of
its acknowledgement file.

`makegood billing export --out FILE` (CSV or Parquet by extension) creates a posting for every
ready credit (as push would) and writes every posting not yet acknowledged, reversals included,
one row each: `idempotency_key, credit_id, campaign_id, account_id, purpose, amount_minor,
amount, currency, description`. Amounts are signed as the billing system books them: a credit is
negative. In the CSV, a text cell a spreadsheet would run as a formula (an account id starting
with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'` (domain/csv_cells.py); amounts are plain
numbers and stay as they are. Exporting again writes the same rows (same keys) plus any new
ones, so a lost file is no loss.

`makegood billing ack FILE` reads the billing system's answer: `status` (applied | rejected) and
`idempotency_key` (or `credit_id`), optionally `external_id` and `message`. The whole file is
checked first; one bad row refuses it all (`FILE:LINE: column COL: problem`) and nothing
changes. Acknowledging the same posting again is a no-op.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from makegood.billing import inactive
from makegood.billing.tabular import Problems, read_rows
from makegood.bootstrap import Container
from makegood.domain.csv_cells import safe_cell
from makegood.domain.errors import InvalidInput, InvalidState
from makegood.domain.money import format_major
from makegood.store.postings import Posting
from makegood.store.uow import UnitOfWork

CONNECTOR = "export"
COLUMNS = (
    "idempotency_key",
    "credit_id",
    "campaign_id",
    "account_id",
    "purpose",
    "amount_minor",
    "amount",
    "currency",
    "description",
)
STATUSES = ("applied", "rejected")


def _require_export(container: Container) -> None:
    if container.settings.billing_connector != CONNECTOR:
        raise InvalidState(
            f"the billing connector is {container.settings.billing_connector!r}: set "
            "MAKEGOOD_BILLING_CONNECTOR=export to exchange files with the billing system"
        )


def export_credits(container: Container, out: Path, campaign_id: str | None = None) -> int:
    """Write every unacknowledged export posting to `out`; returns the number of rows."""
    _require_export(container)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput(f"{out}: use a .csv or .parquet file name")
    now = container.now()
    rows: list[dict[str, Any]] = []
    with container.uow() as uow:
        inactive.release_reactivated(uow, now)
        inactive.settle_inactive(uow, container.settings.billing_inactive_policy, now)
        uow.postings.create_for_ready_credits(CONNECTOR, campaign_id, now)
        after = ""
        while page := uow.postings.resendable_page(CONNECTOR, campaign_id, after):
            rows.extend(_row(p) for p in page)
            after = page[-1].id
        uow.audit.record(now, "cli", "billing.exported", "file", out.name, {"rows": len(rows)})
        uow.commit()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    else:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        table = pa.table({c: [r[c] for r in rows] for c in COLUMNS}).cast(
            pa.schema([(c, pa.int64() if c == "amount_minor" else pa.string()) for c in COLUMNS])
        )
        pq.write_table(table, out)
    return len(rows)


def _row(p: Posting) -> dict[str, Any]:
    head = "Make-good credit" if p.purpose == "credit" else "Reversal of make-good credit"
    return {
        "idempotency_key": p.idempotency_key,
        "credit_id": p.credit_id,
        "campaign_id": p.campaign_id,
        "account_id": p.account_id,
        "purpose": p.purpose,
        "amount_minor": p.amount_minor,
        "amount": format_major(p.amount_minor, p.currency),
        "currency": p.currency,
        "description": f"{head}: {p.label}",
    }


@dataclass(frozen=True)
class AckSummary:
    rows: int
    applied: int
    rejected: int
    already: int  # acknowledged by an earlier file


def ack_file(container: Container, path: Path) -> AckSummary:
    """Import an acknowledgement file all-or-nothing (see the module docstring)."""
    _require_export(container)
    problems = Problems(path)
    parsed: list[tuple[int, dict[str, str]]] = []
    for row in read_rows(path, ("status",)):
        if row.width_problem:
            problems.add(row.line, "*", row.width_problem)
            continue
        parsed.append((row.line, row.values))
    now = container.now()
    with container.uow() as uow:
        found = _postings_for(uow, [v for _, v in parsed])
        seen: dict[str, int] = {}
        plan: list[tuple[Posting, str, dict[str, str]]] = []
        for line, values in parsed:
            checked = _check_row(problems, line, values, found, seen)
            if checked is not None:
                plan.append(checked)
        problems.raise_if_any()
        applied = rejected = already = 0
        for posting, state, values in plan:
            if state == "acked":
                already += 1
            elif values["status"] == "applied":
                uow.postings.acknowledge(
                    posting, values.get("external_id") or None, now, "connector:export"
                )
                applied += 1
            else:
                message = values.get("message") or "rejected by the billing system"
                uow.postings.mark(posting.id, now, state="failed", last_error=message[:1000])
                rejected += 1
        summary = AckSummary(len(plan), applied, rejected, already)
        uow.audit.record(now, "cli", "billing.acknowledged", "file", path.name, summary.__dict__)
        uow.commit()
    return summary


def _check_row(
    problems: Problems,
    line: int,
    values: dict[str, str],
    found: dict[str, tuple[Posting, str]],
    seen: dict[str, int],
) -> tuple[Posting, str, dict[str, str]] | None:
    status = values.get("status", "").lower()
    key = values.get("idempotency_key") or values.get("credit_id") or ""
    target = found.get(key)
    if not key:
        problems.add(line, "idempotency_key", "is empty; give idempotency_key or credit_id")
    elif target is None:
        problems.add(line, "idempotency_key", f"{key!r} matches no exported posting")
    elif key in seen:
        problems.add(line, "idempotency_key", f"duplicate of line {seen[key]}")
    if status not in STATUSES:
        problems.add(line, "status", f"{values.get('status')!r} must be applied or rejected")
    if len(values.get("external_id", "")) > 255:
        problems.add(line, "external_id", "is longer than 255 characters")
    seen.setdefault(key, line)
    if target is None or status not in STATUSES:
        return None
    return target[0], target[1], {**values, "status": status}


def _postings_for(uow: UnitOfWork, rows: list[dict[str, str]]) -> dict[str, tuple[Posting, str]]:
    """key (idempotency key or credit id) -> (export posting, its state)."""
    keys = {v.get("idempotency_key") or "" for v in rows} - {""}
    credit_ids = {v.get("credit_id") or "" for v in rows if not v.get("idempotency_key")} - {""}
    return uow.postings.by_key_or_credit(CONNECTOR, keys, credit_ids)
