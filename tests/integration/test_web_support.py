"""Console support actions: resend (new link, old revoked, new expiry, e-mail queued), extend,
goodwill grant within the agent's limit; each audited and shown on the account page."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.store import tables as t
from tests.factories.offers import credit_rows, seed_offer
from tests.factories.staff import count
from tests.harness.clock import FrozenClock
from tests.harness.console import form_token, sign_in


def offer_row(container: Container, offer_id: str) -> sa.RowMapping:
    with container.engine.connect() as conn:
        return conn.execute(t.offers.select().where(t.offers.c.id == offer_id)).mappings().one()


def test_search_finds_by_email_and_resend_replaces_the_link(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now(), email="Jane.Doe@Example.com")
    sign_in(client, container, "agent")
    found = client.get("/console/support", params={"q": "jane.doe@example.com"})
    assert found.status_code == 303
    assert found.headers["location"] == f"/console/accounts/{seeded.account_id}"
    assert "No account" in client.get("/console/support", params={"q": "nobody"}).text

    clock.advance(days=6)
    client.cookies.clear()  # sessions last hours, not days: sign in again
    sign_in(client, container, "admin")
    token = form_token(client, f"/console/accounts/{seeded.account_id}")
    response = client.post(f"/console/offers/{seeded.offer_id}/resend", data={"csrf_token": token})
    assert response.status_code == 303

    assert client.get(f"/claim/{seeded.token}").status_code == 404  # the old link is dead
    with container.engine.connect() as conn:
        mail = (
            conn.execute(
                t.messages.select().where(
                    t.messages.c.offer_id == seeded.offer_id, t.messages.c.channel == "email"
                )
            )
            .mappings()
            .one()
        )
    assert mail["state"] == "pending"
    assert client.get(f"/claim/{mail['claim_token']}").status_code == 200
    assert (offer_row(container, seeded.offer_id)["expires_at"] - container.now()).days == 7
    page = client.get(response.headers["location"]).text
    assert "offer.resent" in page
    assert "A new link was queued" in page


def test_extend_and_goodwill_grant_within_the_limit(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now(), claim_days=1)
    sign_in(client, container, "agent", USD=20)  # 0.20 USD < the 0.24 offer
    page = f"/console/accounts/{seeded.account_id}"

    before = offer_row(container, seeded.offer_id)["expires_at"]
    data = {"csrf_token": form_token(client, page), "days": "3"}
    assert client.post(f"/console/offers/{seeded.offer_id}/extend", data=data).status_code == 303
    assert (offer_row(container, seeded.offer_id)["expires_at"] - before).days == 3
    bad = client.post(f"/console/offers/{seeded.offer_id}/extend", data={**data, "days": "0"})
    assert bad.status_code == 400

    clock.advance(days=10)  # the window has closed: goodwill can still credit it
    client.cookies.clear()
    sign_in(client, container, "agent", USD=20)
    grant = {"csrf_token": form_token(client, page), "reason": "never_received"}
    over = client.post(f"/console/offers/{seeded.offer_id}/grant", data=grant)
    assert over.status_code == 403
    assert "your limit is 0.20" in over.text
    assert credit_rows(container.engine, seeded.offer_id) == []

    client.cookies.clear()
    sign_in(client, container, "admin")  # admins have no limit
    grant["csrf_token"] = form_token(client, page)
    bad_reason = client.post(
        f"/console/offers/{seeded.offer_id}/grant", data={**grant, "reason": "because"}
    )
    assert bad_reason.status_code == 400
    assert client.post(f"/console/offers/{seeded.offer_id}/grant", data=grant).status_code == 303
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1
    assert offer_row(container, seeded.offer_id)["state"] == "granted"
    again = client.post(f"/console/offers/{seeded.offer_id}/grant", data=grant)
    assert again.status_code == 409
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1

    audit = client.get("/console/audit").text
    for action in ("offer.extended", "offer.goodwill", "offer.granted"):
        assert action in audit
    assert count(container, t.audit_log, t.audit_log.c.action == "offer.goodwill") == 1


def test_console_campaign_needs_a_second_approver(
    client: TestClient, container: Container, tmp_path: Path
) -> None:
    from makegood.services.build_jobs import run_pending_builds
    from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
    from tests.factories.staff import seed_draft

    draft = seed_draft(container, created_by="seed", accounts=2)
    start = container.now() - timedelta(hours=23, minutes=30)
    events = write_csv(
        tmp_path / "a.csv",
        ATTEMPT_COLUMNS,
        [attempt(a, start.isoformat()) for a in draft.account_ids],
    )
    sign_in(client, container, "approver")
    page = f"/console/incidents/{draft.incident_id}"
    created = client.post(
        f"{page}/campaigns",
        data={
            "csrf_token": form_token(client, page),
            "events": str(events),
            "fixed": "USD=2",
            "claim_days": "5",
            "pay_within_days": "14",
            "mode": "claim",
        },
    )
    assert created.status_code == 303, created.text
    campaign_page = created.headers["location"]
    html = client.get(campaign_page).text
    assert 'id="state">building<' in html
    assert 'http-equiv="refresh"' in html
    assert "waiting for a worker" in html
    assert run_pending_builds(container) == 1
    html = client.get(campaign_page).text
    assert 'id="state">draft<' in html
    assert 'http-equiv="refresh"' not in html
    assert 'id="eligible">2<' in html
    assert "<td>USD</td><td>4.00</td>" in html
    refused = client.post(
        f"{campaign_page}/approve", data={"csrf_token": form_token(client, campaign_page)}
    )
    assert refused.status_code == 403
    assert "another approver must approve it" in refused.text

    client.cookies.clear()
    sign_in(client, container, "admin")
    token = form_token(client, campaign_page)
    assert client.post(f"{campaign_page}/approve", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{campaign_page}/launch", data={"csrf_token": token}).status_code == 303
    launched = client.get(campaign_page).text
    assert 'id="state">launched<' in launched
    assert "14 days of each claim or grant" in launched
    assert "Every credit is applied." in launched
    # Two credits; one claimed 14 days and a second ago, not applied: overdue, listed first.
    from makegood.services.claims import claim_offer_by_id

    with container.uow() as uow:
        offer_ids = uow.conn.execute(sa.select(t.offers.c.id).order_by(t.offers.c.id)).scalars()
        first, second = list(offer_ids)
        claim_offer_by_id(uow, first, container.now())
        uow.commit()
    with container.uow() as uow:
        claim_offer_by_id(uow, second, container.now())
        uow.commit()
        long_ago = container.now() - timedelta(days=14, seconds=1)
        uow.conn.execute(  # the later offer's credit is the overdue one
            t.credits.update().where(t.credits.c.offer_id == second).values(granted_at=long_ago)
        )
        uow.commit()
    overdue = client.get(campaign_page).text
    assert 'id="unapplied-overdue">1<' in overdue
    rows = overdue.split('<table id="unpaid">', 1)[1].split("</table>", 1)[0].split("<tr")
    assert ['class="overdue"' in row for row in rows[2:]] == [True, False]  # overdue first
    bad = client.post(
        f"{page}/campaigns", data={"csrf_token": token, "events": str(events), "percent": "x"}
    )
    assert bad.status_code == 400
    assert "is not a number" in bad.text
