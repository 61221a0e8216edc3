"""`makegood import ...` and `makegood incident create`."""

from __future__ import annotations

from pathlib import Path

import click

from makegood.cli.context import container
from makegood.cli.detect_cmds import detection_options, run_detection, segment_text, window_of
from makegood.cli.output import handles_errors, print_id, say
from makegood.cli.progress import progress_printer
from makegood.cli.source_options import attempt_source_options
from makegood.domain.errors import InvalidInput
from makegood.telemetry.source import AttemptSource


def register(cli: click.Group) -> None:
    cli.add_command(import_group)
    cli.add_command(incident)


@click.group("import")
def import_group() -> None:
    """Load plans and accounts (CSV or Parquet, by extension); re-importing updates by id."""


@import_group.command("plans")
@click.argument("file", type=click.Path(path_type=Path))
@handles_errors
def import_plans_cmd(file: Path) -> None:
    """Import plans: plan_id, name, monthly_price (e.g. 7.99), currency (ISO 4217)."""
    from makegood.services.imports import import_plans

    summary = import_plans(container(), file)
    say(f"imported {summary.rows} plans ({summary.created} new, {summary.updated} updated)")


@import_group.command("accounts")
@click.argument("file", type=click.Path(path_type=Path))
@handles_errors
def import_accounts_cmd(file: Path) -> None:
    """Import accounts: account_id, email, plan_id, status, country, locale, next_bill_date."""
    from makegood.services.imports import import_accounts

    # Every row is checked before the first is written; on millions of rows that takes a while.
    say(f"checking {file.name}: every row, before anything is written")
    summary = import_accounts(container(), file, progress=progress_printer("accounts written"))
    say(f"imported {summary.rows} accounts ({summary.created} new, {summary.updated} updated)")


@click.group()
def incident() -> None:
    """Declare outages."""


@incident.command("create")
@handles_errors
@click.option("--title", default=None, help="What happened, as subscribers will read it.")
@click.option("--start", "start", help="ISO 8601 start, included (UTC if no offset).")
@click.option("--end", "end", help="ISO 8601 end, excluded (UTC if no offset).")
@click.option("--region", "regions", multiple=True, help="Limit to a region; repeat for more.")
@click.option("--device", "devices", multiple=True, help="Limit to a device; repeat for more.")
@click.option(
    "--from-detection",
    "from_detection",
    type=click.IntRange(min=1),
    help="Declare window N of `makegood detect` (same --events and options): its start, end "
    "and, when --by included them, its regions and devices.",
)
@attempt_source_options(events_required=False)
@detection_options
def incident_create(
    title: str | None,
    start: str | None,
    end: str | None,
    regions: tuple[str, ...],
    devices: tuple[str, ...],
    from_detection: int | None,
    source: AttemptSource | None,
    bucket: str,
    by_text: str | None,
    min_attempts: int,
    engine: str,
    master: str | None,
) -> None:
    """Declare an incident and print its id: --title, --start and --end, or --from-detection N
    --events PATH (then the title is optional and the window comes from the detection)."""
    from makegood.services.incidents import create_incident, parse_instant

    c = container()
    if from_detection is not None:
        if source is None:
            raise InvalidInput("--from-detection needs --events: the logs to detect from")
        if start or end or regions or devices:
            raise InvalidInput(
                "--from-detection takes the window and scope from the detection; "
                "leave out --start, --end, --region and --device"
            )
        detection = run_detection(source, bucket, by_text, min_attempts, engine, master)
        window = window_of(detection, from_detection)
        starts_at, ends_at = window.start, window.end
        regions, devices = _scope_of(detection.by, window.segments)
        title = title or f"Playback outage ({segment_text(detection.by, window.segments)})"
        from makegood.services.detections import declare_from_detection

        # Also keeps the window's detection series, which the console's incident page draws.
        incident_id = declare_from_detection(c, detection, from_detection, title, regions, devices)
    else:
        if not title or not start or not end:
            given = (("--title", title), ("--start", start), ("--end", end))
            missing = ", ".join(name for name, value in given if not value)
            raise InvalidInput(f"give {missing} (or --from-detection N --events PATH)")
        starts_at, ends_at = parse_instant(start, "--start"), parse_instant(end, "--end")
        with c.uow() as uow:
            incident_id = create_incident(uow, title, starts_at, ends_at, regions, devices, c.now())
            uow.commit()
    scope = ", ".join([*regions, *devices]) or "all regions and devices"
    say(f"incident [{starts_at.isoformat()}, {ends_at.isoformat()}) scope: {scope}")
    print_id(incident_id)


def _scope_of(
    by: tuple[str, ...], segments: tuple[tuple[str | None, ...], ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The regions and devices of a detected window's segments (none: no restriction)."""
    found: dict[str, set[str]] = {"region": set(), "device": set()}
    for segment in segments:
        for name, value in zip(by, segment, strict=True):
            if name in found and value is not None:
                found[name].add(value)
    return tuple(sorted(found["region"])), tuple(sorted(found["device"]))
