"""Delivery reports as mail servers write them: RFC 3464 bounces, RFC 5965 complaints."""

from __future__ import annotations

from tests.factories.outbox import SeededOffer


def report(kind: str, parts: str, message_id: str) -> bytes:
    """A multipart/report as mail servers write it (written out, as it travels)."""
    text = (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "Subject: report\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={kind}; boundary="XX"\r\n'
        "\r\n--XX\r\nContent-Type: text/plain\r\n\r\nA report about your message.\r\n"
        f"--XX\r\n{parts}"
        "--XX\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nSubject: credit\r\n\r\n--XX--\r\n"
    )
    return text.encode()


def dsn(message_id: str, action: str, status: str, diagnostic: str) -> bytes:
    """An RFC 3464 bounce: per-message fields, a blank line, per-recipient fields."""
    return report(
        "delivery-status",
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; acc-1@example.com\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n",
        message_id,
    )


def arf(message_id: str) -> bytes:
    """An RFC 5965 complaint (someone pressed "this is spam")."""
    return report(
        "feedback-report",
        "Content-Type: message/feedback-report\r\n\r\n"
        "Feedback-Type: abuse\r\nUser-Agent: test/1.0\r\nVersion: 1\r\n\r\n",
        message_id,
    )


def mid(offer: SeededOffer) -> str:
    return f"<{offer.email_message_id}@claims.test>"
