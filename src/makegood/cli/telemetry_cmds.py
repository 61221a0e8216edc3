"""`makegood cohort`: who an incident affected, from the playback-attempt logs; and
`makegood detect` (cli/detect_cmds.py): where the logs show an outage."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_json, say
from makegood.cli.source_options import attempt_source_options, engine_option
from makegood.domain.csv_cells import safe_cell
from makegood.telemetry.cohort import COHORT_COLUMNS, CohortResult, CohortRow
from makegood.telemetry.engines import cohort_function, engine_options
from makegood.telemetry.incident_scope import load_incident_scope
from makegood.telemetry.source import AttemptSource


def _csv_rows(rows: list[CohortRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(
            [
                safe_cell(row.account_id),
                row.failed_attempts,
                row.first_failure_at.isoformat(),
                row.last_failure_at.isoformat(),
                row.impact_minutes,
            ]
        )
    return buffer.getvalue()


def _summary(incident_id: str, result: CohortResult) -> str:
    s = result.stats
    text = (
        f"incident {incident_id}: {s.affected} affected accounts, {s.failed_attempts} failed "
        f"attempts in the window and scope ({s.duplicates_ignored} duplicate rows counted once, "
        f"{s.rows_skipped} rows without account or timestamp skipped, "
        f"{s.rows_read} rows read from {s.files} files)"
    )
    if s.rows_bad:
        text += f"; {s.rows_bad} rows with a bad timestamp or outcome left out"
    if s.below_min_failures:
        text += f"; {s.below_min_failures} accounts below --min-failures"
    return text


@click.command("cohort")
@click.argument("incident")
@handles_errors
@attempt_source_options()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the cohort to FILE.csv or FILE.parquet instead of standard output.",
)
@click.option(
    "--min-failures",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Only accounts with at least N distinct failed attempts in the window and scope.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Only accounts with no successful attempt between their first failure and the "
    "window's end (tried and could not watch).",
)
@engine_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document on standard output.")
def cohort(
    incident: str,
    source: AttemptSource,
    out: Path | None,
    min_failures: int,
    strict: bool,
    engine: str,
    master: str | None,
    as_json: bool,
) -> None:
    """Accounts with a failed attempt in INCIDENT's window and scope, before eligibility.

    Columns: account_id, failed_attempts, first_failure_at, last_failure_at (UTC),
    impact_minutes, ordered by account_id (see docs/cohort.md). Without --out the rows go to
    standard output as CSV (or, with --json, in the document's "rows"); with --out the JSON
    document names the file instead of listing rows.
    """
    c = container()
    with c.uow() as uow:
        scope = load_incident_scope(uow.incidents, incident)
    compute = cohort_function(engine)
    with compute(
        source,
        scope.starts_at,
        scope.ends_at,
        scope.regions,
        scope.devices,
        min_failures=min_failures,
        strict=strict,
        say=say,
        **c.engine_config.duckdb_limits(),
        **engine_options(engine, master, c.engine_config),
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
                "min_failures": min_failures,
                "strict": strict,
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
                        "impact_minutes": row.impact_minutes,
                    }
                    for row in result.rows()
                ]
            print_json(document)
        elif out is None:
            click.echo(",".join(COHORT_COLUMNS))
            for batch in result.batches():
                click.echo(_csv_rows(batch), nl=False)


def register(cli: click.Group) -> None:
    """Add `cohort` and `detect` to the root group."""
    from makegood.cli.detect_cmds import detect

    cli.add_command(cohort)
    cli.add_command(detect)
