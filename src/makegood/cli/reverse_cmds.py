"""`makegood campaign reverse ID --reason TEXT`: undo a campaign that went wrong."""

from __future__ import annotations

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_json, say


def register(cli: click.Group) -> None:
    """Add `reverse` to the `campaign` group (registered before this module)."""
    group = cli.commands.get("campaign")
    if not isinstance(group, click.Group):
        raise RuntimeError("register campaign_cmds before reverse_cmds")
    group.add_command(reverse)


@click.command("reverse")
@click.argument("campaign_id", metavar="ID")
@click.option("--reason", required=True, help="Why the campaign is reversed (kept in the audit).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
@handles_errors
def reverse(campaign_id: str, reason: str, as_json: bool) -> None:
    """Reverse a launched campaign, once; prints the reversal id.

    Open offers are withdrawn (their links say so), credits not yet billed are cancelled,
    credits already on a statement are charged back on the next statement, and credits a
    billing system acknowledged get a reversal posting (`makegood billing push`). Refused
    (exit 4, nothing changed) while one of its postings may be in flight.
    """
    from makegood.domain.money import format_major
    from makegood.services.reversal import reverse_campaign

    summary = reverse_campaign(container(), campaign_id, reason)
    say(
        f"campaign {campaign_id} reversed: {summary.offers_revoked:,} open offers withdrawn, "
        f"{summary.credits_reversed:,} unbilled credits cancelled, "
        f"{summary.charge_backs + summary.connector_reversals:,} billed credits to charge back"
    )
    for currency, minor in sorted(summary.charge_back_minor.items()):
        say(f"  to charge back: {format_major(minor, currency)} {currency}")
    if summary.untouched:
        say(f"  {summary.untouched:,} credits already forfeited or paid out: left as they are")
    if as_json:
        print_json(summary.document())
    else:
        click.echo(summary.reversal_id)
