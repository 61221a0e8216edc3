"""`makegood billing close` and `makegood statement`: statements with the credits on them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import click

from makegood.billing.close import CloseProgress, CloseSummary, close_through, summary_document
from makegood.billing.statements import StatementView, statements_document, statements_for
from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_json, say
from makegood.domain.money import format_major

PROGRESS_EVERY = 10_000  # accounts between two progress lines on stderr

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class IsoDate(click.ParamType[date, Any]):
    """A calendar date written YYYY-MM-DD; anything else is a usage error (exit 2)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        return self.fail(
            f"{value!r} is not a date: write it as YYYY-MM-DD (e.g. 2026-04-01)", param, ctx
        )


def register(cli: click.Group) -> None:
    """Add `billing close` and `statement` to the root group."""
    cli.add_command(billing)
    cli.add_command(statement)


@click.group()
def billing() -> None:
    """Billing: close cycles into statements that carry the credits."""


@billing.command("close")
@click.option(
    "--through",
    "through",
    type=IsoDate(),
    required=True,
    help="Bill every cycle whose date is on or before DATE (YYYY-MM-DD).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Accounts per transaction.",
)
@handles_errors
def billing_close(through: date, as_json: bool, batch_size: int) -> None:
    """Create statements for every ACTIVE account whose next bill date is <= DATE.

    Each statement holds the plan charge and the account's credits in the plan's currency
    granted before the statement date (00:00 UTC), oldest first, never below zero; what is
    left of a credit carries to the next statement. The next bill date then moves one month
    from the account's billing day (Jan 31, Feb 28, Mar 31). Paused and cancelled accounts
    are not billed and keep their next bill date. Running it again with the same DATE
    changes nothing.
    """
    last_reported = 0

    def report(progress: CloseProgress) -> None:
        nonlocal last_reported
        if progress.accounts_seen - last_reported >= PROGRESS_EVERY:
            last_reported = progress.accounts_seen
            say(
                f"... {progress.accounts_seen:,} accounts read, "
                f"{progress.statements_created:,} statements created"
            )

    summary = close_through(container(), through, progress=report, batch_size=batch_size)
    _say_summary(summary)
    if as_json:
        print_json(summary_document(summary))


def _say_summary(summary: CloseSummary) -> None:
    say(
        f"billing closed through {summary.through.isoformat()}: "
        f"{summary.statements_created:,} statements for {summary.accounts_billed:,} accounts"
    )
    for currency, minor in sorted(summary.credits_applied_minor.items()):
        say(f"  credits applied: {format_major(minor, currency)} {currency}")
    if summary.accounts_skipped:
        say(f"  {summary.accounts_skipped:,} accounts were being closed by another run: skipped")
    if not summary.statements_created:
        say("  nothing was due")


@click.command("statement")
@click.argument("account_id", metavar="ACCOUNT")
@click.option("--json", "as_json", is_flag=True, help="Print the statements as one JSON list.")
@handles_errors
def statement(account_id: str, as_json: bool) -> None:
    """Show an account's statements, oldest first, with their charge and credit lines."""
    with container().uow() as uow:
        found = statements_for(uow, account_id)
    if as_json:
        print_json(statements_document(found))
        return
    if not found:
        say(f"account {account_id} has no statements yet (run `makegood billing close`)")
        return
    for index, view in enumerate(found):
        if index:
            click.echo("")
        click.echo(_statement_table(view))


def _statement_table(view: StatementView) -> str:
    amounts = [format_major(line.amount_minor, view.currency) for line in view.lines]
    total = format_major(view.total_minor, view.currency)
    width = max(len(a) for a in [*amounts, total])
    rows = [f"Statement {view.id}  {view.statement_date.isoformat()}  {view.currency}"]
    for line, amount in zip(view.lines, amounts, strict=True):
        source = f"  [{line.campaign_id}]" if line.campaign_id else ""
        rows.append(f"  {line.kind:<6}  {amount:>{width}}  {line.description}{source}")
    rows.append(f"  {'total':<6}  {total:>{width}}")
    return "\n".join(rows)
