"""`makegood appeals process`: decide queued appeals against the attempt logs (the worker
runs the same function on every pass)."""

from __future__ import annotations

import click

from makegood.cli.context import container
from makegood.cli.output import EXIT_FAILED, handles_errors, print_json, say


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""
    cli.add_command(appeals)


@click.group()
def appeals() -> None:
    """Appeals of subscribers not found affected: check them against the logs."""


@appeals.command("process")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run's counts as one JSON document."
)
@handles_errors
def process(as_json: bool) -> None:
    """Read each queued appeal's attempt logs again for its account and decide: an offer when
    they show failures and the account is eligible, else the console's appeal queue.

    Exits 1 when an appeal's logs could not be read (it stays queued).
    """
    from makegood.services.appeal_processing import process_appeals

    box = container()
    with box.uow() as uow:
        waiting = uow.appeals.count_queued()
    say(f"appeals: {waiting} queued")
    done = 0

    def progress(appeal_id: str, outcome: str) -> None:
        nonlocal done
        done += 1
        say(f"appeals: {done} of {waiting}: {appeal_id} {outcome}")

    report = process_appeals(box, progress)
    for line in report.unreadable:
        say(f"appeals: left queued: {line}")
    if as_json:
        print_json(
            {
                "offered": report.offered,
                "needs_review": report.needs_review,
                "left_queued": len(report.unreadable),
            }
        )
    else:
        click.echo(
            f"appeals: {report.offered} offered, {report.needs_review} for review, "
            f"{len(report.unreadable)} left queued"
        )
    if report.unreadable:
        raise SystemExit(EXIT_FAILED)
