"""`makegood dispatch` (one pass) and `makegood worker` (continuous): send queued e-mails
by SMTP, or as .eml files when no server is set."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import click

from makegood.cli.context import container
from makegood.cli.output import EXIT_FAILED, handles_errors, print_json, refuse_old_schema, say
from makegood.domain.errors import InvalidInput
from makegood.notify.preview import check_templates
from makegood.services.delivery_feedback import import_bounces
from makegood.services.dispatch import DispatchReport, dispatch_pending
from makegood.services.reminders import grant_expiring, queue_reminders
from makegood.services.worker import run_worker

PROGRESS_EVERY = 1000  # messages between two progress lines on stderr


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""
    cli.add_command(dispatch)
    cli.add_command(worker)
    cli.add_command(bounces)
    cli.add_command(remind)
    cli.add_command(offers)


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
    check_templates(settings, box.now())  # an override mistake stops us before any send
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


@click.command()
@click.option(
    "--once", is_flag=True, help="Run pending campaign builds, send what is due now, then exit."
)
@handles_errors
def worker(once: bool) -> None:
    """Build the campaigns submitted from the console or the API, and drain the outbox,
    continuously until SIGTERM or Ctrl-C (or, with --once, until nothing is pending or due).
    Temporary failures are retried with back-off; several workers may run at once against
    PostgreSQL. On a signal the batch in hand is finished and committed first.
    """
    from makegood.observability.structured_logs import process_logging
    from makegood.rate_limits import require_storage

    box = container()
    settings = box.settings
    # Before the first batch: a schema one migration behind may fail only hours later, at the
    # first campaign build or appeal that reads what it lacks.
    refuse_old_schema(box)
    # As `makegood serve`: a failed build's traceback, a store that stops answering... as text
    # or JSON lines, addresses and tokens masked (not Python's bare last-resort handler).
    click.get_current_context().with_resource(process_logging(settings))
    check_templates(settings, box.now())  # an override mistake stops us before any send

    require_storage(box.rate_limit_storage, settings.rate_limit_storage)  # the pacing's store
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        say(f"worker: {signal.Signals(signum).name} received; finishing the current batch")
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    target = (
        f"SMTP server {_server_label(settings.smtp_url)}"
        if settings.smtp_url
        else f"folder {settings.mail_dir}"
    )
    say(f"worker: sending to {target}{' (until drained)' if once else ''}")
    try:
        totals = run_worker(box, stop, once=once, status=say)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say(
        f"worker stopped ({totals.stopped_by}): {totals.sent} sent, {totals.failed} deferred, "
        f"{totals.dead} dead, {totals.skipped} skipped"
    )


@click.group()
def bounces() -> None:
    """Bounce and complaint reports that came back to the bounce address."""


@bounces.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON document.")
@handles_errors
def bounces_import(path: Path, as_json: bool) -> None:
    """Record delivery reports (RFC 3464 DSN, ARF complaints) from a message file, a Maildir
    or a folder of .eml files. Bounced and complaining addresses are suppressed."""
    report = import_bounces(
        container(),
        path,
        progress=lambda r: say(f"  {r.read} read, {r.recorded} recorded, {r.ignored} ignored"),
    )
    say(
        f"bounces: {report.read} reports read, {report.recorded} recorded, "
        f"{report.ignored} not about our messages"
    )
    if as_json:
        print_json({"read": report.read, "recorded": report.recorded, "ignored": report.ignored})


@bounces.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=2525, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@handles_errors
def bounces_serve(port: int, host: str) -> None:
    """Receive bounce and complaint reports by SMTP until SIGTERM or Ctrl-C: each DSN or ARF
    report about one of our messages is recorded as it arrives (answered 250 once committed,
    451 when it cannot be, so the sender retries)."""
    from makegood.notify.bounce_server import serve_bounces
    from makegood.observability.structured_logs import process_logging
    from makegood.services.delivery_feedback import record_report

    box = container()
    # As `makegood serve`: text or JSON lines, addresses masked (the SMTP sessions name them).
    click.get_current_context().with_resource(process_logging(box.settings))
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        say(f"bounces: {signal.Signals(signum).name} received; stopping")
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        record = partial(record_report, box)
        serve_bounces(record, stop, host=host, port=port, status=say)
    except OSError as exc:
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command()
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Remind offers expiring within this many days "
    "(default MAKEGOOD_REMINDER_DAYS_BEFORE_EXPIRY).",
)
@handles_errors
def remind(days: float | None) -> None:
    """Queue one reminder e-mail per unclaimed offer that expires soon (once per offer);
    `makegood worker` or `makegood dispatch` sends them. Prints how many were queued."""
    box = container()
    window = days if days is not None else box.settings.reminder_days_before_expiry
    if window <= 0:
        raise InvalidInput(
            "say how many days before expiry to remind: --days N "
            "(or set MAKEGOOD_REMINDER_DAYS_BEFORE_EXPIRY)"
        )
    queued = queue_reminders(box, days=window)
    say(f"remind: {queued} reminders queued for offers expiring within {window:g} days")
    click.echo(queued)


@click.group()
def offers() -> None:
    """Offers as a whole (the policies that apply to every campaign)."""


@offers.command("expire")
@click.option(
    "--lead-minutes",
    type=click.IntRange(min=1),
    default=None,
    help="Grant offers expiring within this many minutes "
    "(default MAKEGOOD_GRANT_AT_EXPIRY_LEAD_MINUTES).",
)
@handles_errors
def offers_expire(lead_minutes: int | None) -> None:
    """Policy "grant anyway at expiry": credit every unclaimed offer about to expire (the
    accounts were verified as affected), and queue a "credit applied" e-mail for each."""
    box = container()
    minutes = lead_minutes or box.settings.grant_at_expiry_lead_minutes
    report = grant_expiring(box, lead=timedelta(minutes=minutes))
    say(
        f"offers expire: {report.granted} granted before expiry, "
        f"{report.already_closed} were claimed meanwhile"
    )
    click.echo(report.granted)


def _server_label(url: str | None) -> str:
    # host:port only: the URL may carry a user name and password.
    parts = urlsplit(url or "")
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")
