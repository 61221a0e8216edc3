"""`makegood worker`: build submitted campaigns and drain the outbox, until told to stop.

Each pass first runs the pending campaign builds (services.build_jobs: claimed in the
database, so two workers never run the same one; `--once` runs them too), then sends.

Each pass is a `dispatch_pending` run that honours back-off (failed messages wait for their
next_attempt_at). Between passes an idle worker waits on a `threading.Event` for at most
settings.worker_poll_seconds, so SIGTERM or SIGINT (which set the event) end the wait at once;
a signal during a pass lets the batch in hand finish and commit first. Several workers may run
against one PostgreSQL database: batches are locked with SKIP LOCKED and never overlap.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from makegood.bootstrap import Container
from makegood.notify.delivery import MailTransport
from makegood.rate_limits import Pacer
from makegood.services.appeal_processing import process_appeals
from makegood.services.build_jobs import run_pending_builds
from makegood.services.channels import configured_channels, dispatch_channel
from makegood.services.dispatch import DispatchReport, dispatch_pending
from makegood.services.reminders import grant_expiring, queue_reminders

UNREACHABLE = "mail server unreachable"
# The SMTP sessions run on a thread of their own (see smtp.py) and need the GIL for a moment
# after every server reply, while this thread renders the next batch. With CPython's default
# 5 ms switch interval each reply can wait that long; a shorter one keeps the sessions busy,
# but too short a one spends the CPU on switching: bench/dispatch.py measured 1 ms best
# (about 7% more messages/s than 0.2 ms or 5 ms, docs/performance.md).
SWITCH_INTERVAL_SECONDS = 0.001


@dataclass
class WorkerTotals:
    """What a worker did since it started."""

    passes: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    stopped_by: str | None = None  # "signal" or "drained" (with --once)

    def add(self, report: DispatchReport) -> None:
        self.sent += report.sent
        self.failed += report.failed
        self.dead += report.dead
        self.skipped += report.skipped


Status = Callable[[str], None]


def reach_everyone(container: Container, say: Status) -> None:
    """The optional policies the settings turn on: reminders, and grants at expiry."""
    settings = container.settings
    if settings.reminder_days_before_expiry > 0:
        queued = queue_reminders(container, days=settings.reminder_days_before_expiry)
        if queued:
            say(f"worker: {queued} reminders queued")
    if settings.grant_at_expiry:
        lead = timedelta(minutes=settings.grant_at_expiry_lead_minutes)
        granted = grant_expiring(container, lead=lead).granted
        if granted:
            say(f"worker: {granted} unclaimed offers granted before expiry")


def decide_appeals(container: Container, say: Status) -> int:
    """Queued appeals decided against the logs (what `makegood appeals process` does)."""
    report = process_appeals(container)
    if report.processed or report.unreadable:
        say(
            f"worker: appeals {report.offered} offered, {report.needs_review} for review, "
            f"{len(report.unreadable)} left queued"
        )
    return report.processed


def run_worker(
    container: Container,
    stop: threading.Event,
    *,
    once: bool = False,
    status: Status | None = None,
    transport: MailTransport | None = None,
) -> WorkerTotals:
    """Send due e-mails until `stop` is set (or, with `once`, until nothing is due now).

    One transport (and so its SMTP connections) is kept for the worker's whole life.
    """
    settings = container.settings
    say = status or (lambda _line: None)
    own_transport = transport is None
    mailer = transport if transport is not None else container.open_mail_transport()
    # Paced in the rate-limit store: with Redis, every worker of the fleet shares one rate.
    storage = container.rate_limit_storage
    limiter = Pacer(storage, "email", settings.email_rate_per_second)
    channels = configured_channels(settings)
    rates = {"sms": settings.sms_rate_per_second, "push": settings.push_rate_per_second}
    buckets = {c: Pacer(storage, c, rates[c]) for c in channels}
    http = container.open_channel_client() if channels else None
    totals = WorkerTotals()
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, SWITCH_INTERVAL_SECONDS))

    def progress(report: DispatchReport) -> None:
        say(
            f"worker: {totals.sent + report.sent} sent, {totals.failed + report.failed} "
            f"deferred, {totals.dead + report.dead} dead, "
            f"{totals.skipped + report.skipped} skipped"
        )

    try:
        while not stop.is_set():
            built = run_pending_builds(container, stop, say)
            built += decide_appeals(container, say)
            reach_everyone(container, say)
            report = dispatch_pending(
                container,
                progress,
                transport=mailer,
                retry_failed_now=False,
                stop=stop,
                limiter=limiter if limiter.limited else None,
            )
            totals.passes += 1
            totals.add(report)
            worked = report.processed + built
            for channel in channels:
                other = dispatch_channel(
                    container, channel, stop=stop, limiter=buckets[channel], client=http
                )
                totals.add(other)
                if other.stopped is None:
                    worked += other.processed
                else:  # the provider does not answer: its tries are no reason to go on
                    say(f"worker: {other.stopped}")
            if stop.is_set():
                break
            if report.stopped is not None and report.stopped.startswith(UNREACHABLE):
                say(f"worker: {report.stopped}; waiting {settings.worker_poll_seconds:g}s")
            elif worked > 0:
                continue  # more may have become due while this pass ran
            if once:
                totals.stopped_by = "drained"
                return totals
            stop.wait(settings.worker_poll_seconds)
        totals.stopped_by = "signal"
        return totals
    finally:
        sys.setswitchinterval(switch_interval)
        if own_transport:
            mailer.close()
        if http is not None:
            http.close()
