"""The `makegood` command: each area registers its own sub-commands."""

from __future__ import annotations

import click

from makegood.cli import (
    billing_cmds,
    campaign_cmds,
    data_cmds,
    demo_cmds,
    notify_cmds,
    reverse_cmds,
    telemetry_cmds,
    template_cmds,
    user_cmds,
    web_cmds,
)
from makegood.cli.context import container
from makegood.cli.output import handles_errors, say


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Outage make-good engine: find who an outage hurt, credit them once, prove it."""


@cli.group()
def db() -> None:
    """The database (MAKEGOOD_DATABASE_URL; default a SQLite file makegood.db here)."""


@db.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Create the database or migrate it to the newest schema."""
    from makegood.store.migrate import current_revision, upgrade

    engine = container().engine
    upgrade(engine)
    say(f"database at revision {current_revision(engine)}")


for module in (
    data_cmds,
    telemetry_cmds,
    campaign_cmds,
    reverse_cmds,  # adds `campaign reverse`: after campaign_cmds
    notify_cmds,
    template_cmds,
    web_cmds,
    billing_cmds,
    demo_cmds,
    user_cmds,
):
    module.register(cli)


def main() -> None:
    cli(prog_name="makegood")
