"""SMTP servers the tests listen with: an aiosmtpd handler that keeps what it accepts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from makegood.notify.mime import ComposedEmail
from makegood.notify.smtp import Outgoing


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class RecordingHandler:
    """Accepts mail like a real server, except for recipients told to answer otherwise."""

    replies: dict[str, str] = field(default_factory=dict)  # recipient -> "451 ..." / "550 ..."
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 accepted"

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [
                message_from_bytes(raw, policy=policy.default)
                for rcpts, raw in self.received
                if address in rcpts
            ]


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body((kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def one_message(recipient: str) -> Outgoing:
    return Outgoing(ComposedEmail("<x@t>", b"Subject: x\r\n\r\nhi\r\n"), "s@t", recipient)
