"""The e-mails the file transport wrote (MAKEGOOD_MAIL_DIR), read back."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from makegood.bootstrap import Container


def mails(container: Container) -> list[EmailMessage]:
    """The e-mails the file transport wrote (MAKEGOOD_MAIL_DIR), oldest name first."""
    folder = Path(container.settings.mail_dir)
    if not folder.exists():
        return []
    return [
        message_from_bytes(p.read_bytes(), policy=default)
        for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
