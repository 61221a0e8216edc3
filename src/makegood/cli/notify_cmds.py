"""`makegood dispatch`: send queued e-mails (SMTP, or .eml files when no server is set)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click

from makegood.cli.context import container
from makegood.cli.output import EXIT_FAILED, handles_errors, print_json, say
from makegood.notify.dispatch import DispatchReport, dispatch_pending

PROGRESS_EVERY = 1000  # messages between two progress lines on stderr


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""
    cli.add_command(dispatch)


@click.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run's counts as one JSON document."
)
@handles_errors
def dispatch(as_json: bool) -> None:
    """Send queued e-mails; failed ones are retried, up to a limit, then marked dead.

    Uses SMTP when MAKEGOOD_SMTP_URL (smtp://host:port) is set, otherwise writes .eml files
    into MAKEGOOD_MAIL_DIR. Exits 1 when any message failed or was given up in this run.
    """
    box = container()
    settings = box.settings
    target = (
        f"SMTP server {_server_label(settings.smtp_url)}"
        if settings.smtp_url
        else f"folder {settings.mail_dir}"
    )
    last_shown = 0

    def show(report: DispatchReport) -> None:
        nonlocal last_shown
        if report.processed - last_shown >= PROGRESS_EVERY:
            last_shown = report.processed
            say(
                f"  {report.processed}/{report.due} processed: {report.sent} sent, "
                f"{report.failed} failed, {report.dead} dead"
            )

    say(f"dispatching e-mails to {target}")
    report = dispatch_pending(box, progress=show)
    summary = (
        f"dispatch: {report.sent} sent, {report.failed} failed (will retry), "
        f"{report.dead} dead, {report.skipped} skipped, of {report.due} due"
    )
    say(summary)
    if report.stopped:
        say(f"dispatch stopped early: {report.stopped}")
    if report.failed or report.stopped:
        say("run `makegood dispatch` again later: failed and queued messages are retried")
    if report.dead:
        say("dead messages are not retried; their reason is kept on the message")
    if as_json:
        print_json(
            {
                "due": report.due,
                "sent": report.sent,
                "failed": report.failed,
                "dead": report.dead,
                "skipped": report.skipped,
                "stopped": report.stopped,
            }
        )
    if not report.ok:
        sys.exit(EXIT_FAILED)


def _server_label(url: str | None) -> str:
    # host:port only: the URL may carry a user name and password.
    parts = urlsplit(url or "")
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")
