"""SMTP at volume with aiosmtplib: a few reused connections sending concurrently.

`AsyncSmtpTransport` keeps the synchronous `MailTransport` contract (the dispatcher and the
`dispatch` command stay synchronous) by owning a private event loop; its connections live on
that loop, so they are reused from one batch to the next. `send_many` hands a whole batch to
up to `connections` concurrent sessions, which is where the throughput comes from: a single
session spends most of its time waiting for the server's replies.

Where and how to connect (MAKEGOOD_SMTP_URL, TLS) is smtp_endpoint.py's part.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import aiosmtplib

from makegood.domain.addresses import is_envelope_address
from makegood.notify.delivery import (
    ComposeFailed,
    DeliveryError,
    TemporaryFailure,
    Unsendable,
    reply_failure,
    sender_refused,
    session_refused,
)
from makegood.notify.dsn import xtext
from makegood.notify.mime import ComposedEmail
from makegood.notify.smtp_endpoint import parse_smtp_url

# Connection failures in one batch after which its remaining messages are not tried.
FAIL_FAST_AFTER = 3
SMTP_OK, SMTP_WILL_FORWARD = 250, 251
MAX_ENVID = 100  # characters of xtext, RFC 3461 section 4.4


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for `send_many`: the bytes, or how to make them, and the envelope.

    A callable `message` is called on the sending thread when a connection is free for it
    (why: batch.py, `_prepare`); it raises Unsendable when the message cannot be made, which
    becomes that message's outcome.
    """

    message: ComposedEmail | Callable[[], ComposedEmail]
    sender: str
    recipient: str

    def composed(self) -> ComposedEmail | DeliveryError:
        """The bytes (made now if they were not yet), or why they cannot be: Unsendable for
        a fault of the message's own, ComposeFailed for any other error. Never raises: one
        message's failure must not abandon the outcomes of the others in its batch."""
        message = self.message
        if isinstance(message, ComposedEmail):
            return message
        try:
            return message()
        except Unsendable as exc:
            return exc
        except Exception as exc:  # reported as this message's outcome, see ComposeFailed
            return ComposeFailed(exc)


def envelope_address(address: str) -> bytes:
    """`address` for MAIL FROM or RCPT TO, without its angle brackets; ValueError when it
    could not be written on a command line (see domain.addresses)."""
    if not is_envelope_address(address):
        raise ValueError("an envelope address must be plain ASCII without spaces or brackets")
    return address.encode("ascii")


class AsyncSmtpTransport:
    """SMTP over up to `connections` concurrent, reused aiosmtplib sessions.

    Every reply is mapped to the transport contract (delivery.py, shared with the smtplib
    transport): 2xx accepted, 4xx or a lost or silent connection TemporaryFailure, 5xx
    PermanentFailure (with ``recipient_refused`` when the server refused the address itself,
    which is what a suppression list needs to know); a refusal before any recipient (the
    session, the sender) a connection failure, whatever its class.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        connections: int = 4,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoint = parse_smtp_url(url)
        self.timeout = timeout
        self.connections = max(1, connections)
        self._tls_context = tls_context
        self._failing = 0  # connection failures in a row (timeouts, refusals to connect)
        # At most `connections` sessions, shared by every batch in flight; None = not open yet.
        self._slots: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()
        for _ in range(self.connections):
            self._slots.put_nowait(None)
        # The connections live on a private event loop in a thread of its own, so a batch can
        # be on the wire while the caller prepares the next one (see dispatch.py).
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="makegood-smtp", daemon=True
        )
        self._thread.start()

    # -- the synchronous contract -------------------------------------------------------------

    def send(self, message: ComposedEmail, *, sender: str, recipient: str) -> None:
        [outcome] = self.send_many([Outgoing(message, sender, recipient)])
        if outcome is not None:
            raise outcome

    def send_many(self, batch: Sequence[Outgoing]) -> list[DeliveryError | None]:
        """Send a batch concurrently; one outcome per message, in order (None = accepted)."""
        return self.submit_many(batch).result()

    def submit_many(self, batch: Sequence[Outgoing]) -> Future[list[DeliveryError | None]]:
        """Start sending a batch in the background; the future gives `send_many`'s result."""
        return asyncio.run_coroutine_threadsafe(self._send_all(list(batch)), self._loop)

    def flush(self) -> None:
        return None  # a 250 reply to DATA already means the server took responsibility

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._quit_all(), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    # -- the asynchronous work ----------------------------------------------------------------

    async def _send_all(self, batch: Sequence[Outgoing]) -> list[DeliveryError | None]:
        self._failing = 0  # each batch gives the server a fresh chance
        return list(await asyncio.gather(*(self._send_one(item) for item in batch)))

    async def _send_one(self, item: Outgoing) -> DeliveryError | None:
        client = await self._slots.get()  # first come, first served across batches
        try:
            if self._failing >= FAIL_FAST_AFTER:
                # The server hangs or is gone: do not spend a timeout on every message of the
                # batch while its rows stay locked. These stay queued for a later pass.
                return TemporaryFailure(
                    f"not tried: mail server {self.endpoint.label} unreachable", connection=True
                )
            message = item.composed()
            if isinstance(message, DeliveryError):
                return message
            client, outcome = await self._deliver(client, item, message)
            if outcome is not None and outcome.connection:
                self._failing += 1
            elif outcome is None:
                self._failing = 0
        finally:
            self._slots.put_nowait(client)
        return outcome

    async def _deliver(
        self, client: aiosmtplib.SMTP | None, item: Outgoing, message: ComposedEmail
    ) -> tuple[aiosmtplib.SMTP | None, DeliveryError | None]:
        """Send one message on `client` (opened if needed); returns the client to keep."""
        reused = client is not None
        for attempt in (1, 2):
            if client is None:
                try:
                    client = await self._open()
                except DeliveryError as exc:
                    return None, exc
            refusal: DeliveryError | None = None
            try:
                refusal = await _transmit(
                    client, item.sender, item.recipient, message, self.endpoint.label
                )
                if refusal is None:
                    return client, None
            except aiosmtplib.SMTPResponseException as exc:  # the data refused
                refusal = reply_failure(exc.code, exc.message)
            except (TimeoutError, aiosmtplib.SMTPException, OSError):
                pass
            if refusal is not None and not refusal.connection:
                return await self._reset(client), refusal
            # The connection died under this message, or the server closed it (421). A kept
            # connection may simply have been closed by the server while idle: one fresh try
            # tells that apart from an outage.
            await _discard(client)
            client = None
            if not (reused and attempt == 1):
                return None, refusal or TemporaryFailure(
                    f"connection to mail server {self.endpoint.label} lost or timed out",
                    connection=True,
                )
        raise AssertionError("unreachable: the second attempt always returns")

    async def _open(self) -> aiosmtplib.SMTP:
        ep = self.endpoint
        tls = self._tls_context or ssl.create_default_context()
        client = aiosmtplib.SMTP(
            hostname=ep.host,
            port=ep.port,
            timeout=self.timeout,
            use_tls=ep.implicit_tls,
            start_tls=ep.starttls,
            tls_context=tls if (ep.implicit_tls or ep.starttls) else None,
        )
        try:
            await client.connect()
            if ep.username is not None:
                await client.login(ep.username, ep.password or "")
            if client.is_ehlo_or_helo_needed:  # _transmit needs the server's extensions
                await _greet(client)
        except aiosmtplib.SMTPResponseException as exc:
            # A refusal while opening the session (greeting, STARTTLS, login) is about the
            # server or our settings, never about one message: a wrong password keeps the
            # outbox queued instead of killing messages one by one.
            await _discard(client)
            raise session_refused(ep.label, exc.code, exc.message) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await _discard(client)
            raise TemporaryFailure(
                f"cannot reach mail server {ep.label}: {type(exc).__name__}", connection=True
            ) from None
        return client

    async def _reset(self, client: aiosmtplib.SMTP) -> aiosmtplib.SMTP | None:
        """The client ready for the next message after a refusal, or None if it is gone."""
        try:
            await client.rset()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            await _discard(client)
            return None
        return client

    async def _quit_all(self) -> None:
        for _ in range(self.connections):
            client = await self._slots.get()
            if client is None:
                continue
            transport = client.transport  # quit() forgets it
            with contextlib.suppress(TimeoutError, aiosmtplib.SMTPException, OSError):
                await client.quit()
            _abort(client, transport)
        # One turn of the loop: the aborted sockets close before close() stops it.
        await asyncio.sleep(0)


async def _greet(client: aiosmtplib.SMTP) -> None:
    """EHLO, or HELO for a server that does not speak ESMTP."""
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()


async def _transmit(
    client: aiosmtplib.SMTP,
    sender_address: str,
    recipient_address: str,
    message: ComposedEmail,
    server: str,
) -> DeliveryError | None:
    """One envelope (MAIL, RCPT, DATA) on an open session; the refusal, or None if accepted.

    This is aiosmtplib's command API rather than its `sendmail()`, which on every message
    parses both addresses twice and rewrites the line ends of the whole message once more to
    measure it for SIZE. The recipient was checked when the message was prepared
    (`mime.checked_recipient`) and a composed message has CRLF line ends already, so its
    length is its size (docs/performance.md#dispatch has what this saves). DATA still goes
    through aiosmtplib, which dot-stuffs the lines.
    A server that offers DSN (RFC 3461) is asked for reports of failures and delays, with
    the message's headers only and its Message-ID as the envelope id, so every report names
    the message (dsn.py reads it back).
    Raises SMTPResponseException when the data is refused, and SMTPException, OSError or
    TimeoutError when the connection fails.
    """
    try:
        sender = envelope_address(sender_address)
        recipient = envelope_address(recipient_address)
    except ValueError as exc:
        return Unsendable(f"not sent: {exc}")
    data = message.data
    mail_options: list[bytes] = []
    rcpt_options: list[bytes] = []
    if client.supports_extension("size"):
        mail_options.append(b"SIZE=%d" % len(data))
    if client.supports_extension("dsn"):
        mail_options.append(b"RET=HDRS")
        envid = xtext(message.message_id.strip("<>"))
        if len(envid) <= MAX_ENVID:  # a longer one is refused; the headers still name it
            mail_options.append(b"ENVID=" + envid)
        rcpt_options.append(b"NOTIFY=FAILURE,DELAY")
    reply = await client.execute_command(b"MAIL", b"FROM:<" + sender + b">", *mail_options)
    if reply.code != SMTP_OK:
        return sender_refused(server, reply.code, reply.message)
    reply = await client.execute_command(b"RCPT", b"TO:<" + recipient + b">", *rcpt_options)
    if reply.code not in (SMTP_OK, SMTP_WILL_FORWARD):
        return reply_failure(reply.code, reply.message, recipient=True)
    await client.data(data)
    return None


async def _discard(client: aiosmtplib.SMTP) -> None:
    _abort(client, client.transport)


def _abort(client: aiosmtplib.SMTP, transport: asyncio.BaseTransport | None) -> None:
    """Drop a connection now. A TLS transport's close() only starts the TLS shutdown, which
    waits for the server's close_notify (30 s at most): a silent server, or close() stopping
    the loop first, would leave the socket open until the garbage collector finds it."""
    with contextlib.suppress(OSError, RuntimeError):
        if isinstance(transport, asyncio.Transport):
            transport.abort()
        client.close()
