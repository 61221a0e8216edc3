"""Bounce messages (RFC 3464 DSN) and complaint reports (RFC 5965 ARF) -> delivery events.

Both come back to the bounce address as ``multipart/report`` messages. A DSN's
``message/delivery-status`` part says, per recipient, what happened (Action: failed /
delayed / delivered, Status 5.1.1, Diagnostic-Code); an ARF report says someone marked the
message as spam. The original message's headers travel along (``text/rfc822-headers`` or
``message/rfc822``), and its Message-ID, ``<outbox id@Settings.message_domain>``, names the outbox
row. When a report carries no copy of the headers, the envelope id does: a server that
offers DSN (RFC 3461) is asked, on MAIL FROM, for ``ENVID=<the Message-ID>`` and ``RET=HDRS``,
and a DSN returns the first as ``Original-Envelope-Id``. Reports that name no message of ours
are counted and otherwise ignored.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

from makegood.notify.delivery import DeliveryEvent

ACTIONS = {"failed": "bounced", "delayed": "deferred", "delivered": "delivered"}
# The status part, and the returned headers or message: RFC 3464 and their UTF-8 forms
# (RFC 6533), which servers use for mail sent with SMTPUTF8 or to UTF-8 addresses.
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
HEADERS_TYPES = ("text/rfc822-headers", "message/global-headers")
MESSAGE_TYPES = ("message/rfc822", "message/global")
_XTEXT_ESCAPE = re.compile(rb"\+([0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class Report:
    """What one report message says: the Message-ID it is about and what happened."""

    original_message_id: str | None
    kind: str | None  # bounced | deferred | delivered | complained; None when not a report
    detail: str | None


def read_report(raw: bytes) -> Report:
    """Parse one report message; never raises on malformed input (kind None instead)."""
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    if msg.get_content_type() != "multipart/report":
        return Report(_original_id(msg), None, None)
    report_type = (msg.get_param("report-type") or "").__str__().lower()
    original = _original_id(msg)
    if report_type == "feedback-report":
        return Report(original, "complained", "abuse report (ARF)")
    for part in msg.walk():
        if part.get_content_type() in STATUS_TYPES:
            kind, detail = _delivery_status(part)
            return Report(original or _envelope_id(part), kind, detail)
    return Report(original, None, None)


def xtext(value: str) -> bytes:
    """`value` as RFC 3461 xtext (for ENVID): "+", "=" and anything outside "!".."~" as
    "+HH" (upper-case hex of each UTF-8 byte)."""
    out = bytearray()
    for byte in value.encode("utf-8"):
        if 33 <= byte <= 126 and byte not in (0x2B, 0x3D):  # "+" and "="
            out.append(byte)
        else:
            out += b"+%02X" % byte
    return bytes(out)


def unxtext(text: str) -> str:
    """The value an RFC 3461 xtext stands for; a malformed "+" escape is kept as written."""
    raw = _XTEXT_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def _envelope_id(part: Message) -> str | None:
    """The Message-ID a DSN's Original-Envelope-Id stands for (see the module docstring)."""
    blocks = _status_blocks(part)
    value = (blocks[0].get("Original-Envelope-Id") or "").strip() if blocks else ""
    return f"<{unxtext(value)}>" if value else None


def outbox_id(message_id: str | None, domain: str) -> str | None:
    """The outbox id inside one of our Message-IDs (``<msg_x@domain>`` -> ``msg_x``)."""
    if not message_id:
        return None
    local, at, host = message_id.strip().strip("<>").rpartition("@")
    if not at or host.lower() != domain.lower() or not local:
        return None
    return local


def report_events(raw: bytes, *, domain: str, now: datetime) -> DeliveryEvent | None:
    """The delivery event a report message carries, or None when it names none of ours."""
    report = read_report(raw)
    message = outbox_id(report.original_message_id, domain)
    if message is None or report.kind is None:
        return None
    return DeliveryEvent(message, report.kind, "dsn", now, report.detail)


def report_files(path: Path) -> Iterator[Path]:
    """The message files at `path`: one file, a Maildir (cur/ and new/), or a folder."""
    if path.is_file():
        yield path
        return
    folders = [path / "new", path / "cur"] if (path / "cur").is_dir() else [path]
    for folder in folders:
        for item in sorted(folder.iterdir()):
            if item.is_file() and not item.name.startswith("."):
                yield item


def _delivery_status(part: Message) -> tuple[str | None, str | None]:
    """(kind, detail) from a message/delivery-status part: the first recipient that failed,
    else the first that was delayed, else delivered."""
    blocks = _status_blocks(part)
    recipients = blocks[1:] if len(blocks) > 1 else blocks
    found: dict[str, Message] = {}
    for block in recipients:
        action = (block.get("Action") or "").strip().lower()
        if action in ACTIONS and action not in found:
            found[action] = block
    for action in ("failed", "delayed", "delivered"):
        if action in found:
            block = found[action]
            status = (block.get("Status") or "").strip()
            diagnostic = " ".join((block.get("Diagnostic-Code") or "").split())
            detail = " ".join(x for x in (status, diagnostic) if x) or None
            return ACTIONS[action], detail
    return None, None


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list) and part.get_content_type() == "message/delivery-status":
        return [p for p in payload if isinstance(p, Message)]  # split by the parser already
    if isinstance(payload, list):  # another message/* type: read as one message, undo that
        text = "".join(p.as_string() for p in payload if isinstance(p, Message))
    else:
        text = payload if isinstance(payload, str) else ""
    text = text.replace("\r\n", "\n")
    return [HeaderParser().parsestr(block) for block in text.split("\n\n") if block.strip()]


def _original_id(msg: Message) -> str | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype not in HEADERS_TYPES and ctype not in MESSAGE_TYPES:
            continue
        inner = part.get_payload()
        if isinstance(inner, list):  # the parser read it as a message: its headers are ours
            value = inner[0].get("Message-ID") if inner and isinstance(inner[0], Message) else None
        else:
            value = _header_in(part.get_payload(decode=True))
        if value:
            return str(value)
    return None


def _header_in(payload: object) -> str | None:
    """The Message-ID among headers returned as a part's (decoded) payload."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    value = HeaderParser().parsestr(text).get("Message-ID")
    return str(value) if value else None
