"""`makegood billing close` and `makegood statement`: statements with the credits on them."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from makegood.billing.statements import StatementView, statements_document, statements_for
from makegood.cli.context import container
from makegood.cli.output import EXIT_FAILED, handles_errors, print_json, say
from makegood.domain.money import format_major
from makegood.services.billing_close import (
    CloseProgress,
    CloseSummary,
    close_through,
    summary_document,
)

PROGRESS_EVERY = 10_000  # accounts between two progress lines on stderr
PUSH_PROGRESS_EVERY = 1_000  # postings between two progress lines

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


@billing.command("push")
@click.option("--campaign", "campaign_id", default=None, help="Only this campaign's credits.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout.")
@handles_errors
def billing_push(campaign_id: str | None, as_json: bool) -> None:
    """Post credits and reversals to the billing system (MAKEGOOD_BILLING_CONNECTOR).

    stripe: one customer balance transaction per credit; webhook: one signed POST per credit.
    Each posting keeps one idempotency key (makegood-CAMPAIGN-ACCOUNT) for every resend, so
    running push again after a failure or a crash posts each credit once. Exit 1 when some
    posting failed or was skipped (the reasons are listed), 0 when everything is acknowledged.
    """
    from makegood.services.billing_push import push

    last = 0

    def report(handled: int, acked: int) -> None:
        nonlocal last
        if handled - last >= PUSH_PROGRESS_EVERY:
            last = handled
            say(f"... {handled:,} postings sent, {acked:,} acknowledged")

    summary = push(container(), campaign_id, progress=report)
    say(
        f"{summary.connector}: {summary.acked:,} acknowledged, {summary.failed:,} failed, "
        f"{summary.skipped:,} skipped ({summary.requests:,} requests)"
    )
    for error in summary.errors[:20]:
        say(f"  {error}")
    if len(summary.errors) > 20:
        say(f"  ... and {len(summary.errors) - 20:,} more")
    if as_json:
        print_json(summary.document())
    if summary.failed or summary.skipped:
        sys.exit(EXIT_FAILED)


@billing.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write: .csv or .parquet.",
)
@click.option("--campaign", "campaign_id", default=None, help="Only this campaign's credits.")
@handles_errors
def billing_export(out: Path, campaign_id: str | None) -> None:
    """Write the credits (and reversals) the billing system has not acknowledged yet.

    Needs MAKEGOOD_BILLING_CONNECTOR=export. Columns: idempotency_key, credit_id, campaign_id,
    account_id, purpose (credit|reversal), amount_minor (signed: a credit is negative), amount,
    currency, description. Exporting again repeats unacknowledged rows with the same keys.
    """
    from makegood.services.billing_export import export_credits

    rows = export_credits(container(), out, campaign_id)
    say(f"{rows:,} postings written to {out}; load the answer with `makegood billing ack FILE`")


@billing.command("ack")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout.")
@handles_errors
def billing_ack(file: Path, as_json: bool) -> None:
    """Import the billing system's acknowledgement file (CSV or Parquet).

    Columns: status (applied | rejected), idempotency_key (or credit_id), optional external_id
    and message. The whole file is checked first: one bad row refuses it all with
    FILE:LINE: column COL: problem, and nothing changes. Loading it again changes nothing.
    """
    from makegood.services.billing_export import ack_file

    summary = ack_file(container(), file)
    say(
        f"{summary.applied:,} applied, {summary.rejected:,} rejected, "
        f"{summary.already:,} acknowledged before"
    )
    if as_json:
        print_json(summary.__dict__)


@billing.command("reconcile")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@handles_errors
def billing_reconcile(campaign_id: str, as_json: bool) -> None:
    """Compare a campaign's offers, credits, ledger, statements and connector acknowledgements.

    Lists every difference (kinds in docs/billing.md); exit 1 when there is any, 0 when all
    agree. Changes nothing.
    """
    from makegood.billing.reconcile import reconcile

    with container().uow() as uow:
        result = reconcile(uow, campaign_id)
    say(
        f"campaign {campaign_id}: {result.offers:,} offers, {result.credits:,} credits, "
        f"{result.postings:,} postings checked; {len(result.differences):,} differences"
    )
    if as_json:
        print_json(result.document())
    else:
        for difference in result.differences:
            click.echo(
                f"{difference.kind}\t{difference.credit_id or difference.offer_id}\t"
                f"{difference.detail}"
            )
    if result.differences:
        sys.exit(EXIT_FAILED)


@billing.command("credits")
@click.option("--account", "account_id", default=None, help="The credits of this account.")
@click.option("--campaign", "campaign_id", default=None, help="The credits of this campaign.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list on stdout.")
@handles_errors
def billing_credits(account_id: str | None, campaign_id: str | None, as_json: bool) -> None:
    """Where each credit stands (open, applied, posted, held, forfeited, reversed...) and why."""
    from makegood.billing.credit_view import credit_statuses

    with container().uow() as uow:
        found = credit_statuses(uow, account_id, campaign_id)
    if as_json:
        print_json([status.document() for status in found])
        return
    if not found:
        say("no credits")
    for status in found:
        doc = status.document()
        click.echo(
            f"{status.credit_id}  {status.account_id}  {doc['amount']} {status.currency}  "
            f"{status.state}: {status.reason}"
        )


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
