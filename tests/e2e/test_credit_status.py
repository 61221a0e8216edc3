"""Where is my credit? `/credits` on PostgreSQL with a real SMTP server: a known address gets a
status e-mail whose fresh link claims the credit; an unknown one gets the same page, and
nothing."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.dispatch import dispatch_pending
from makegood.store import tables as t
from makegood.web.app import create_app
from tests.factories.credit_status import StatusWorld, add_incident, seed_account
from tests.factories.staff import api_key
from tests.harness.smtp import Inbox, body

LINK = re.compile(r"http://claims\.test/claim/([A-Za-z0-9_-]{43,})")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def _world(container: Container) -> StatusWorld:
    now = container.now()
    with container.engine.begin() as conn:
        world = seed_account(conn, now, email="Sam.Status@example.com")
        add_incident(
            conn, world, "open", starts_at=now - timedelta(days=1), now=now, offer_state="open"
        )
        add_incident(
            conn,
            world,
            "excluded",
            starts_at=now - timedelta(days=30),
            now=now,
            excluded_reason="not_active",
        )
        add_incident(
            conn, world, "missed", starts_at=now - timedelta(days=40), now=now, member=False
        )
    return world


def _ask(client: TestClient, email: str) -> str:
    form = client.get("/credits", headers={"Accept-Language": "en"})
    assert form.status_code == 200
    token = CSRF.search(form.text)
    assert token is not None
    answer: httpx.Response = client.post(
        "/credits",
        data={"email": email, "csrf_token": token.group(1)},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.postgres
def test_known_address_gets_a_fresh_link_that_claims_and_unknown_gets_nothing(
    pg_container: Container, smtp_inbox: tuple[str, Inbox]
) -> None:
    _, inbox = smtp_inbox
    container = pg_container
    world = _world(container)
    with TestClient(create_app(container), follow_redirects=False) as client:
        unknown_page = _ask(client, "nobody@example.com")
        dispatch_pending(container)
        assert inbox.messages == []
        with container.engine.connect() as conn:  # the request (and address) is gone
            left = conn.execute(sa.select(sa.func.count()).select_from(t.credit_status_requests))
            assert left.scalar_one() == 0

        known_page = _ask(client, "sam.status@EXAMPLE.com")  # any case finds the account
        assert known_page == unknown_page  # same nonce cookie: even the CSRF token is equal
        assert "if this address belongs to a subscriber" in known_page.lower()
        report = dispatch_pending(container)
        assert report.sent == 1
        [(recipients, message)] = inbox.messages
        assert recipients == ["Sam.Status@example.com"]
        text = body(message, "plain")
        html = body(message, "html")
        assert "Outage open" in text
        assert "$0.24" in text
        assert "paused or cancelled" in text  # the exclusion reason in plain words
        assert "We found no failed playback of yours in" in text
        fresh = LINK.search(text)
        assert fresh is not None
        assert fresh.group(1) in html
        assert fresh.group(1) != world.tokens["open"]

        # The earlier link still works; the fresh one claims.
        assert client.get(f"/claim/{world.tokens['open']}").status_code == 200
        page = client.get(f"/claim/{fresh.group(1)}")
        csrf = CSRF.search(page.text)
        assert csrf is not None
        claimed = client.post(f"/claim/{fresh.group(1)}", data={"csrf_token": csrf.group(1)})
        assert claimed.status_code == 303
        key = api_key(container, "accounts:read")
        status = client.get(f"/api/v1/accounts/{world.account_id}/credits", headers=key).json()
        assert {i["title"]: i["status"] for i in status["incidents"]}["Outage open"] == "claimed"

        # At most one status e-mail per account per hour.
        _ask(client, "sam.status@example.com")
        assert dispatch_pending(container).sent == 0
        assert len(inbox.messages) == 1
        with container.engine.connect() as conn:  # no raw link left in the database
            links = conn.execute(sa.select(t.messages.c.status_links)).scalars().all()
        assert all(link is None for link in links)
