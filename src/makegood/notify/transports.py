"""Mail transports behind one small interface: SMTP, or .eml files in a folder for the demo.

A transport either returns (the message was accepted) or raises a DeliveryError that says
whether trying again later can help (4xx replies, connection problems) or not (5xx replies).
Failure reasons carry the server's code and text with e-mail addresses masked.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
from pathlib import Path

from makegood.notify.delivery import (
    DeliveryError,
    PermanentFailure,
    TemporaryFailure,
    reply_failure,
    sender_refused,
    session_refused,
)
from makegood.notify.mime import ComposedEmail

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class SmtpTransport:
    """Synchronous SMTP (smtplib) through one connection reused for the whole run, reopened
    after it drops. Kept as the simple reference; the container (bootstrap.py) opens the concurrent
    aiosmtplib transport in ``smtp.py``.

    URL forms: ``smtp://host:port`` (plain), ``smtp://host:port?starttls=1``, ``smtps://host``
    (TLS from the start); ``user:password@`` before the host logs in.
    """

    def __init__(self, url: str, *, timeout: float) -> None:
        from makegood.notify.smtp_endpoint import parse_smtp_url

        endpoint = parse_smtp_url(url)
        self.label = endpoint.label
        self.implicit_tls = endpoint.implicit_tls
        self.host = endpoint.host
        self.port = endpoint.port
        self.username = endpoint.username
        self.password = endpoint.password
        self.starttls = endpoint.starttls
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def send(self, message: ComposedEmail, *, sender: str, recipient: str) -> None:
        reused = self._conn is not None
        try:
            self._send(message, sender, recipient)
        except TemporaryFailure as exc:
            # A connection kept from the previous message may have been closed by the server
            # while idle; one fresh connection tells that apart from a real outage.
            if not (reused and exc.connection):
                raise
            self._send(message, sender, recipient)

    def flush(self) -> None:
        return None  # the server's 250 reply already means it took responsibility

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def _send(self, message: ComposedEmail, sender: str, recipient: str) -> None:
        conn = self._connection()
        try:
            conn.sendmail(sender, [recipient], message.data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise self._after(reply_failure(code, text, recipient=True)) from None
        except smtplib.SMTPSenderRefused as exc:  # our envelope sender: smtplib sent RSET
            raise self._after(sender_refused(self.label, exc.smtp_code, exc.smtp_error)) from None
        except smtplib.SMTPResponseException as exc:  # the data refused, ...
            self._reset_after_refusal()
            raise self._after(reply_failure(exc.smtp_code, exc.smtp_error)) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"server cannot take this message: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryFailure(
                f"connection to mail server lost: {type(exc).__name__}", connection=True
            ) from None

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        conn: smtplib.SMTP | None = None
        try:
            if self.implicit_tls:
                conn = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.username is not None:
                conn.login(self.username, self.password or "")
        except smtplib.SMTPResponseException as exc:
            # The greeting, EHLO, STARTTLS or AUTH refused: about the server or our settings,
            # never one message (as the aiosmtplib transport, docs/notifications.md "SMTP").
            _close_quietly(conn)
            raise session_refused(self.label, exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(conn)
            raise TemporaryFailure(
                f"cannot reach mail server {self.host}:{self.port}: {type(exc).__name__}",
                connection=True,
            ) from None
        self._conn = conn
        return conn

    def _after(self, failure: DeliveryError) -> DeliveryError:
        """A refusal that is a connection failure (421, after which smtplib has closed the
        socket; a refused session) leaves no connection worth keeping: the next message, or
        `send`'s one retry, opens a fresh one."""
        if failure.connection:
            self._drop()
        return failure

    def _reset_after_refusal(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        _close_quietly(conn)


def _close_quietly(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()


class FileTransport:
    """Writes each message as ``<message-id>.eml`` into a folder, atomically (temp + rename).

    The name comes from the deterministic Message-ID, so sending a message again replaces
    its file instead of adding a second one. Files are synced to disk in one go by `flush()`,
    which the dispatcher calls before it commits their 'sent' marks.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._unsynced: list[Path] = []

    def path_for(self, message: ComposedEmail) -> Path:
        mid = message.message_id.strip().strip("<>")
        local = mid.split("@", 1)[0]
        name = _UNSAFE_FILE_CHARS.sub("_", local)
        if not name:
            raise PermanentFailure("message has no Message-ID to name its file after")
        return self.directory / f"{name}.eml"

    def send(self, message: ComposedEmail, *, sender: str, recipient: str) -> None:
        target = self.path_for(message)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(message.data)
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TemporaryFailure(f"cannot write mail file: {exc.strerror or exc}") from None
        self._unsynced.append(target)

    def flush(self) -> None:
        try:
            for path in self._unsynced:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            if self._unsynced and hasattr(os, "O_DIRECTORY"):  # the renames themselves
                fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise TemporaryFailure(f"cannot sync mail files: {exc.strerror or exc}") from None
        self._unsynced.clear()

    def close(self) -> None:
        self._unsynced.clear()
