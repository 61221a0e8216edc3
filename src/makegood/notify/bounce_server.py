"""`makegood bounces serve`: an SMTP server (aiosmtpd) for the bounce address.

Point the MX (or a forwarding rule) of MAKEGOOD_BOUNCE_ADDRESS's domain at it. Every message
it receives is read like `bounces import` reads a file: an RFC 3464 delivery status
notification or an RFC 5965 complaint about one of our messages is recorded as an event
(bounced and complaining addresses suppressed, the in-app message marked urgent); anything
else is accepted and counted as ignored, because refusing mail sent to a bounce address would
only make more bounces.

A message is answered 250 only after its events are committed. When recording fails (the
database is down) the answer is 451, so the sending server keeps the report and tries again
later: nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller

from makegood.notify.feedback import FeedbackReport

MAX_REPORT_BYTES = 10 * 1024 * 1024  # a DSN returns at most the original message
PROGRESS_EVERY = 100  # reports between two status lines

log = logging.getLogger(__name__)
Status = Callable[[str], None]
# Records one received message in its own transaction (services.delivery_feedback.record_report
# bound to a container); raises when it cannot, and the sender is then answered 451.
Record = Callable[[bytes], FeedbackReport]


class BounceHandler:
    """aiosmtpd handler: record each message, answer 250 once committed or 451 on failure."""

    def __init__(self, record: Record, status: Status | None = None) -> None:
        self.record = record
        self.totals = FeedbackReport()
        self._status = status or (lambda _line: None)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or b"")
        try:
            # The database calls block: off the event loop, so other sessions keep going.
            report = await asyncio.to_thread(self.record, raw)
        except Exception:
            # Counts and the exception type only: a report quotes addresses.
            log.exception("bounce receiver: could not record a report; answered 451")
            return "451 4.3.0 cannot record the report now; try again later"
        with self._lock:
            self.totals.add(report)
            totals = FeedbackReport(self.totals.read, self.totals.recorded, self.totals.ignored)
        if totals.read % PROGRESS_EVERY == 0:
            self._status(_summary(totals))
        return "250 2.0.0 report recorded" if report.recorded else "250 2.0.0 accepted"


def serve_bounces(
    record: Record,
    stop: threading.Event,
    *,
    host: str = "127.0.0.1",
    port: int = 2525,
    status: Status | None = None,
    ready: Callable[[int], None] | None = None,
) -> FeedbackReport:
    """Receive bounce reports on host:port until `stop` is set, each handed to `record`;
    returns the totals.

    `ready` is called with the port once the server accepts connections; OSError when the
    address cannot be listened on.
    """
    say = status or (lambda _line: None)
    # A port in use is found here: aiosmtpd, when it fails to start, leaves its event loop
    # and sockets open behind it.
    socket.create_server((host, port)).close()
    handler = BounceHandler(record, say)
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=MAX_REPORT_BYTES,
        server_hostname="makegood-bounces",
    )
    controller.start()
    try:
        say(f"bounces: receiving reports on {host}:{port}")
        if ready is not None:
            ready(port)
        stop.wait()
    finally:
        controller.stop()
    say(_summary(handler.totals))
    return handler.totals


def _summary(totals: FeedbackReport) -> str:
    return (
        f"bounces: {totals.read} reports received, {totals.recorded} recorded, "
        f"{totals.ignored} not about our messages"
    )
