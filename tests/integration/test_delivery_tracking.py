"""Delivery tracking after sending: DSN bounces, ARF complaints, the signed provider webhook,
suppression, urgent in-app messages, and the offer's history for support."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.notify.feedback import signature
from makegood.notify.history import offer_messages
from makegood.notify.tracking import address_hash
from makegood.web.app import create_app
from tests.factories.mail_reports import arf, dsn, mid
from tests.factories.outbox import message_row, sent_campaign
from tests.harness.settings import with_settings

SECRET = "whsec-test-0123456789"


def test_bounce_import_from_a_maildir_records_suppresses_and_marks_urgent(
    container: Container, tmp_path: Path
) -> None:
    offers = sent_campaign(container)
    maildir = tmp_path / "bounces"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(
        dsn(mid(offers[1]), "failed", "5.1.1", "550 5.1.1 <acc-1@example.com> unknown user")
    )
    (maildir / "new" / "2.eml").write_bytes(
        dsn(mid(offers[2]), "delayed", "4.4.1", "451 no answer")
    )
    (maildir / "cur" / "3.eml").write_bytes(arf(mid(offers[0])))
    stranger = EmailMessage()
    stranger["Subject"] = "hello"
    stranger.set_content("not a report")
    (maildir / "cur" / "4.eml").write_bytes(stranger.as_bytes())
    (maildir / "cur" / "5.eml").write_bytes(dsn("<other@elsewhere.test>", "failed", "5.0.0", "x"))

    result = CliRunner().invoke(
        cli, ["bounces", "import", str(maildir), "--json"], obj=container, catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 5, "recorded": 3, "ignored": 2}
    with container.uow() as uow:
        assert uow.deliveries.is_suppressed(address_hash(offers[1].address))  # bounced
        assert uow.deliveries.is_suppressed(address_hash(offers[0].address))  # complained
        assert not uow.deliveries.is_suppressed(address_hash(offers[2].address))  # only delayed
        history = offer_messages(uow, offers[1].offer_id)
    assert message_row(container.engine, offers[1].inapp_message_id).urgent is True
    assert message_row(container.engine, offers[2].inapp_message_id).urgent is False
    email = next(m for m in history if m.channel == "email")
    assert [(e.kind, e.source) for e in email.events] == [("accepted", "smtp"), ("bounced", "dsn")]
    assert email.events[1].detail == "5.1.1 smtp; 550 5.1.1 <<address>> unknown user"
    inapp = next(m for m in history if m.channel == "inapp")
    assert (inapp.urgent, inapp.events) == (True, ())


def test_bounce_import_of_a_missing_path_is_bad_input(container: Container, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bounces", "import", str(tmp_path / "nope")], obj=container)
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


@pytest.fixture
def webhook(container: Container) -> tuple[Container, TestClient]:
    box = with_settings(container, email_webhook_secret=SECRET, webhook_tolerance_seconds=300)
    return box, TestClient(create_app(box))


def post(client: TestClient, body: bytes, *, at: int, secret: str = SECRET) -> httpx.Response:
    ts = str(at)
    answer: httpx.Response = client.post(
        "/webhooks/email",
        content=body,
        headers={
            "X-Makegood-Timestamp": ts,
            "X-Makegood-Signature": signature(secret, ts, body),
            "Content-Type": "application/json",
        },
    )
    return answer


def test_signed_webhook_records_a_bounce_and_suppresses(
    webhook: tuple[Container, TestClient],
) -> None:
    box, client = webhook
    offers = sent_campaign(box)
    body = json.dumps(
        {
            "events": [
                {"message_id": mid(offers[0]), "event": "bounced", "detail": "550 no mailbox"},
                {"message_id": offers[1].email_message_id, "event": "delivered"},
                {"message_id": "<msg_x@elsewhere.test>", "event": "bounced"},
            ]
        }
    ).encode()

    response = post(client, body, at=int(box.now().timestamp()))

    assert response.status_code == 200
    assert response.json() == {"read": 3, "recorded": 2, "ignored": 1}
    with box.uow() as uow:
        assert uow.deliveries.is_suppressed(address_hash(offers[0].address))
        assert not uow.deliveries.is_suppressed(address_hash(offers[1].address))
        kinds = [e.kind for m in offer_messages(uow, offers[1].offer_id) for e in m.events]
    assert kinds == ["accepted", "delivered"]
    assert message_row(box.engine, offers[0].inapp_message_id).urgent is True


@pytest.mark.parametrize(
    ("secret", "shift", "tamper"),
    [
        ("wrong-secret", 0, False),  # not signed by the provider we share the secret with
        (SECRET, -301, False),  # a replay from before the window
        (SECRET, 301, False),  # a clock far ahead
        (SECRET, 0, True),  # signature of another body
    ],
)
def test_webhook_refuses_bad_signatures_with_401_and_changes_nothing(
    webhook: tuple[Container, TestClient], secret: str, shift: int, tamper: bool
) -> None:
    box, client = webhook
    offers = sent_campaign(box, 1)
    body = json.dumps({"events": [{"message_id": mid(offers[0]), "event": "bounced"}]}).encode()
    at = int(box.now().timestamp()) + shift
    ts = str(at)
    sig = signature(secret, ts, body)
    sent = body.replace(b"bounced", b"complained") if tamper else body

    response = client.post(
        "/webhooks/email",
        content=sent,
        headers={"X-Makegood-Timestamp": ts, "X-Makegood-Signature": sig},
    )

    assert response.status_code == 401
    with box.uow() as uow:
        assert not uow.deliveries.is_suppressed(address_hash(offers[0].address))
        events = [e.kind for m in offer_messages(uow, offers[0].offer_id) for e in m.events]
    assert events == ["accepted"]


def test_webhook_without_headers_is_401_and_without_secret_503(container: Container) -> None:
    unsigned = TestClient(create_app(with_settings(container, email_webhook_secret=SECRET)))
    assert unsigned.post("/webhooks/email", content=b"{}").status_code == 401
    off = TestClient(create_app(container))
    assert off.post("/webhooks/email", content=b"{}").status_code == 503


def test_signed_but_malformed_body_is_400(webhook: tuple[Container, TestClient]) -> None:
    box, client = webhook
    response = post(client, b'{"events": [{"event": "exploded"}]}', at=int(box.now().timestamp()))
    assert response.status_code == 400
    assert "events[0].event" in response.json()["error"]
