"""`makegood cohort`: who an incident affected, from the playback-attempt logs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_json, say
from makegood.telemetry.cohort import COHORT_COLUMNS, CohortResult, CohortRow, compute_cohort
from makegood.telemetry.incident_scope import load_incident_scope


def _csv_rows(rows: list[CohortRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(
            [
                row.account_id,
                row.failed_attempts,
                row.first_failure_at.isoformat(),
                row.last_failure_at.isoformat(),
            ]
        )
    return buffer.getvalue()


def _summary(incident_id: str, result: CohortResult) -> str:
    s = result.stats
    return (
        f"incident {incident_id}: {s.affected} affected accounts, {s.failed_attempts} failed "
        f"attempts in the window and scope ({s.duplicates_ignored} duplicate rows counted once, "
        f"{s.rows_skipped} rows without account or timestamp skipped, "
        f"{s.rows_read} rows read from {s.files} files)"
    )


@click.command("cohort")
@click.argument("incident")
@click.option(
    "--events",
    required=True,
    help="Playback-attempt logs: a .csv/.parquet file, a directory of them, or a glob.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the cohort to FILE.csv or FILE.parquet instead of standard output.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on standard output.")
@handles_errors
def cohort(incident: str, events: str, out: Path | None, as_json: bool) -> None:
    """Accounts with a failed attempt in INCIDENT's window and scope, before eligibility.

    Columns: account_id, failed_attempts, first_failure_at, last_failure_at (UTC), ordered by
    account_id. Without --out the rows go to standard output as CSV (or, with --json, in the
    document's "rows"); with --out the JSON document names the file instead of listing rows.
    """
    with container().uow() as uow:
        scope = load_incident_scope(uow.conn, incident)
    with compute_cohort(
        events, scope.starts_at, scope.ends_at, scope.regions, scope.devices
    ) as result:
        say(_summary(incident, result))
        if out is not None:
            written = result.write(out)
            say(f"wrote {result.count} rows to {written}")
        if as_json:
            document: dict[str, object] = {
                "incident": incident,
                "starts_at": scope.starts_at,
                "ends_at": scope.ends_at,
                "regions": list(scope.regions),
                "devices": list(scope.devices),
                "affected": result.count,
                "failed_attempts": result.stats.failed_attempts,
                "stats": result.stats.as_dict(),
            }
            if out is not None:
                document["out"] = str(out)
            else:
                document["rows"] = [
                    {
                        "account_id": row.account_id,
                        "failed_attempts": row.failed_attempts,
                        "first_failure_at": row.first_failure_at,
                        "last_failure_at": row.last_failure_at,
                    }
                    for row in result.rows()
                ]
            print_json(document)
        elif out is None:
            click.echo(",".join(COHORT_COLUMNS))
            for batch in result.batches():
                click.echo(_csv_rows(batch), nl=False)


def register(cli: click.Group) -> None:
    """Add `cohort` to the root group."""
    cli.add_command(cohort)
