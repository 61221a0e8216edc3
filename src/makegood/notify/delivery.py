"""What every mail module shares, at the bottom of notify/ so none of them imports another
in a circle: the delivery errors a transport raises, the transport interface, the delivery
event a reply, bounce or webhook becomes, and the masking of addresses in stored reasons.

A transport either returns (the message was accepted) or raises a DeliveryError that says
whether trying again later can help (4xx replies, connection problems) or not (5xx replies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from makegood.notify.mime import ComposedEmail

_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")


class DeliveryError(Exception):
    """A message was not accepted; `reason` is safe to store (no addresses)."""

    temporary: bool = True
    # A permanent refusal of the recipient address itself (RCPT TO): grounds for suppression.
    recipient_refused: bool = False

    def __init__(self, reason: str, *, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = mask_addresses(reason)
        self.connection = connection  # the server could not be reached or dropped us

    def __str__(self) -> str:
        return self.reason


class TemporaryFailure(DeliveryError):
    """A 4xx reply or a connection problem: the same message may succeed later."""

    temporary = True


class PermanentFailure(DeliveryError):
    """A 5xx reply: the server refused this message."""

    temporary = False


class Unsendable(PermanentFailure):
    """The message could not be made (its template fails for this notice, or the address
    cannot be written in a header): nothing reached a server, so it is no bounce."""


class ComposeFailed(DeliveryError):
    """Making the message failed for a reason outside it (an operator's template that fails,
    a signing error): nothing was sent and the message is not to blame, so it stays queued as
    it was; the dispatcher records the rest of the batch, then stops with `error`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"could not compose a message: {type(error).__name__}: {error}")
        self.error = error


# The reply by which a server says it is closing the session (RFC 5321 section 3.8).
CLOSING_CHANNEL = 421
# MAIL FROM's reply when the message is larger than the server takes (RFC 1870): about the
# message, unlike the other refusals of the sender, which are about our settings.
SIZE_EXCEEDED = 552


def reply_failure(code: int, text: bytes | str, *, recipient: bool = False) -> DeliveryError:
    """The failure a reply to one message stands for: 5xx permanent, else temporary. 421
    (service not available, closing the channel) is about the server, never the message: a
    connection failure, so a server answering it to everything stops the run as an unreachable
    one does, instead of spending an attempt of every message in the outbox. `recipient`: the
    reply refused RCPT TO, so a 5xx is grounds for suppressing the address."""
    reason = _reason(code, text)
    connection = code == CLOSING_CHANNEL
    if 500 <= code <= 599:  # SMTP reply class 5: permanent
        failure: DeliveryError = PermanentFailure(reason, connection=connection)
    else:
        failure = TemporaryFailure(reason, connection=connection)
    failure.recipient_refused = recipient and 500 <= code <= 599
    return failure


def session_refused(server: str, code: int, text: bytes | str) -> TemporaryFailure:
    """A refusal before any recipient was named (the greeting, EHLO, STARTTLS, AUTH): about the
    server or our settings, never about one message or its recipient, whatever its class. A
    connection failure, so the outbox stays queued (no attempt used, no bounce, nothing
    suppressed) and the run stops as for a server that does not answer."""
    return TemporaryFailure(
        f"mail server {server} refused the session: {_reason(code, text)}", connection=True
    )


def sender_refused(server: str, code: int, text: bytes | str) -> DeliveryError:
    """A refusal of MAIL FROM: our envelope sender (MAKEGOOD_BOUNCE_ADDRESS) or its options,
    the same for every message, so a 5xx is a refused session (see `session_refused`); except
    552, the message too large, which is about the message. 4xx as for any reply."""
    if 500 <= code <= 599 and code != SIZE_EXCEEDED:
        return TemporaryFailure(
            f"mail server {server} refused the sender: {_reason(code, text)}", connection=True
        )
    return reply_failure(code, text)


def _reason(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


class MailTransport(Protocol):
    """Hands one message to the mail system; returns only once it was accepted."""

    def send(self, message: ComposedEmail, *, sender: str, recipient: str) -> None: ...

    def flush(self) -> None:
        """Make every message accepted so far durable; called before marking them sent."""

    def close(self) -> None: ...


def mask_addresses(text: str) -> str:
    """`text` with anything that looks like an e-mail address replaced by `<address>`."""
    return _ADDRESS.sub("<address>", text)


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """Something that happened to one outbox message."""

    message_id: str
    kind: str  # accepted | deferred | bounced | complained | delivered | suppressed
    source: str  # smtp | dsn | webhook | worker
    at: datetime
    detail: str | None = None  # stored, so addresses in it are masked when it is made

    def __post_init__(self) -> None:
        if self.detail:
            object.__setattr__(self, "detail", mask_addresses(self.detail))
