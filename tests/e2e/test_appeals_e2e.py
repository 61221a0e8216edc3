"""Appeals end to end on PostgreSQL with a real SMTP server: a subscriber not found affected
asks where their credit is, follows the status e-mail's appeal link and files; with failures in
the logs the appeal becomes an e-mailed offer whose link claims the credit; without, the
subscriber is told what the logs hold and an agent declines from the console's queue."""

from __future__ import annotations

import re
import warnings
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.dispatch import dispatch_pending
from makegood.services.users import resolve_session
from makegood.services.worker import decide_appeals
from makegood.store import tables as t
from makegood.store.tables_appeals import appeals
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE, console_csrf_token
from tests.factories.appeals import AppealWorld, seed_missed, write_attempts
from tests.factories.staff import add_staff, session_cookie
from tests.harness.smtp import Inbox

APPEAL = re.compile(r"http://claims\.test/appeal/([A-Za-z0-9_-]{43,})")
CLAIM = re.compile(r"http://claims\.test/claim/([A-Za-z0-9_-]{43,})")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def appeal_through_the_status_email(
    client: TestClient, container: Container, inbox: Inbox, world: AppealWorld, note: str
) -> None:
    """Where is my credit? -> the status e-mail -> its appeal link -> the page -> file."""
    form = client.get("/credits", headers={"Accept-Language": "en"})
    token = CSRF.search(form.text)
    assert token is not None
    asked = client.post(
        "/credits", data={"email": world.status.email, "csrf_token": token.group(1)}
    )
    assert asked.status_code == 200
    assert dispatch_pending(container).sent == 1
    status_mail = text(inbox.messages[-1][1])
    assert "We found no failed playback of yours" in status_mail
    link = APPEAL.search(status_mail)
    assert link is not None
    page = client.get(f"/appeal/{link.group(1)}")
    assert page.status_code == 200
    assert "Outage missed" in page.text
    csrf = CSRF.search(page.text)
    assert csrf is not None
    filed = client.post(
        f"/appeal/{link.group(1)}", data={"csrf_token": csrf.group(1), "note": note}
    )
    assert filed.status_code == 303
    assert 'data-state="queued"' in client.get(f"/appeal/{link.group(1)}").text


@pytest.mark.postgres
def test_an_appeal_with_failures_in_the_window_becomes_a_claimed_credit(
    pg_container: Container, smtp_inbox: tuple[str, Inbox]
) -> None:
    _, inbox = smtp_inbox
    container = pg_container
    world = seed_missed(container, email="ana.appeal@example.com")
    # Failures in a region the incident's scope left out: the appeal reads every region.
    write_attempts(container, world, [(15, "failure", "ap-south"), (16, "failure", "ap-south")])
    with TestClient(create_app(container), follow_redirects=False) as client:
        appeal_through_the_status_email(client, container, inbox, world, "around 20:15")

        assert decide_appeals(container, lambda _line: None) == 1  # the worker's step
        assert dispatch_pending(container).sent == 1
        offer_mail = text(inbox.messages[-1][1])
        claim = CLAIM.search(offer_mail)
        assert claim is not None
        page = client.get(f"/claim/{claim.group(1)}")
        assert page.status_code == 200
        assert "2 failed attempts" in page.text  # the evidence the appeal found
        csrf = CSRF.search(page.text)
        assert csrf is not None
        claimed = client.post(f"/claim/{claim.group(1)}", data={"csrf_token": csrf.group(1)})
        assert claimed.status_code == 303

    with container.engine.connect() as conn:
        appeal = conn.execute(sa.select(appeals)).mappings().one()
        offer = conn.execute(sa.select(t.offers)).mappings().one()
        credits = conn.execute(sa.select(t.credits)).mappings().all()
    assert appeal["state"] == "offered"
    assert appeal["offer_id"] == offer["id"]
    assert (offer["state"], offer["credited_via"]) == ("claimed", "web")
    assert [c["amount_minor"] for c in credits] == [24]


@pytest.mark.postgres
def test_an_appeal_without_failures_is_declined_from_the_queue(
    pg_container: Container, smtp_inbox: tuple[str, Inbox]
) -> None:
    _, inbox = smtp_inbox
    container = pg_container
    world = seed_missed(container, email="bo.appeal@example.com")
    write_attempts(container, world, [(10 + 15 * i, "success", "us-east") for i in range(5)])
    with TestClient(create_app(container), follow_redirects=False) as client:
        appeal_through_the_status_email(client, container, inbox, world, "at nine")
        assert decide_appeals(container, lambda _line: None) == 1
        assert dispatch_pending(container).sent == 1
        told = text(inbox.messages[-1][1])
        assert "Successful plays: 5" in told

        cookie = session_cookie(container, add_staff(container, "agent"))
        client.cookies.set(SESSION_COOKIE, cookie[SESSION_COOKIE], path="/console")
        with container.uow() as uow:
            live = resolve_session(uow, cookie[SESSION_COOKIE], container.now())
        assert live is not None
        queue = client.get("/console/appeals")
        assert 'data-state="needs_review"' in queue.text
        assert "at nine" in queue.text
        with container.engine.connect() as conn:
            appeal_id = conn.execute(sa.select(appeals.c.id)).scalar_one()
        declined = client.post(
            f"/console/appeals/{appeal_id}/decline",
            data={
                "csrf_token": console_csrf_token(container.settings.secret_key, live.csrf_secret),
                "reason": "Our logs show five plays that worked during the outage",
            },
        )
        assert declined.status_code == 303

    assert dispatch_pending(container).sent == 1
    recipients, message = inbox.messages[-1]
    assert recipients == ["bo.appeal@example.com"]
    assert message["Subject"] == "Your request about a credit"
    assert "Our logs show five plays that worked during the outage" in text(message)
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(appeals.c.state)).scalar_one() == "declined"
        assert conn.execute(sa.select(sa.func.count()).select_from(t.offers)).scalar_one() == 0
