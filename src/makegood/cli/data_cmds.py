"""`makegood import ...` and `makegood incident create`."""

from __future__ import annotations

from pathlib import Path

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_id, say
from makegood.cli.progress import progress_printer


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

    summary = import_accounts(container(), file, progress=progress_printer("accounts written"))
    say(f"imported {summary.rows} accounts ({summary.created} new, {summary.updated} updated)")


@click.group()
def incident() -> None:
    """Declare outages."""


@incident.command("create")
@click.option("--title", required=True, help="What happened, as subscribers will read it.")
@click.option(
    "--start", "start", required=True, help="ISO 8601 start, included (UTC if no offset)."
)
@click.option("--end", "end", required=True, help="ISO 8601 end, excluded (UTC if no offset).")
@click.option("--region", "regions", multiple=True, help="Limit to a region; repeat for more.")
@click.option("--device", "devices", multiple=True, help="Limit to a device; repeat for more.")
@handles_errors
def incident_create(
    title: str, start: str, end: str, regions: tuple[str, ...], devices: tuple[str, ...]
) -> None:
    """Declare an incident and print its id."""
    from makegood.services.incidents import create_incident, parse_instant

    c = container()
    starts_at, ends_at = parse_instant(start, "--start"), parse_instant(end, "--end")
    with c.uow() as uow:
        incident_id = create_incident(uow, title, starts_at, ends_at, regions, devices, c.now())
    scope = ", ".join([*regions, *devices]) or "all regions and devices"
    say(f"incident [{starts_at.isoformat()}, {ends_at.isoformat()}) scope: {scope}")
    print_id(incident_id)
