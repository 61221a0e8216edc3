"""GET /api/v1/accounts/{id}/credits: one entry per incident of the last 90 days, read from the
snapshot, the offer, its credit and the statements (SQLite and PostgreSQL)."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.billing_close import close_through
from tests.factories.credit_status import StatusWorld, add_incident, seed_account
from tests.factories.staff import api_key
from tests.harness.clock import FrozenClock

FIELDS = {
    "incident_id",
    "title",
    "status",
    "reason",
    "amount",
    "currency",
    "failed_attempts",
    "first_failure_at",
    "last_failure_at",
    "impact_minutes",
    "statement_date",
}


def _world(container: Container) -> StatusWorld:
    now = container.now()
    with container.engine.begin() as conn:
        world = seed_account(conn, now)
        add_incident(
            conn, world, "open", starts_at=now - timedelta(days=1), now=now, offer_state="open"
        )
        add_incident(
            conn,
            world,
            "lapsed",
            starts_at=now - timedelta(days=20),
            now=now,
            offer_state="open",
            expires_at=now - timedelta(days=10),
        )
        add_incident(
            conn,
            world,
            "claimed",
            starts_at=now - timedelta(days=10),
            now=now,
            offer_state="claimed",
            credited_at=now - timedelta(days=9),
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
        add_incident(
            conn,
            world,
            "withdrawn",
            starts_at=now - timedelta(days=50),
            now=now,
            offer_state="revoked",
        )
        add_incident(
            conn,
            world,
            "old",
            starts_at=now - timedelta(days=120),
            now=now,
            offer_state="claimed",
            credited_at=now - timedelta(days=119),
        )
    return world


def _by_title(body: dict[str, object]) -> dict[str, dict[str, object]]:
    incidents = body["incidents"]
    assert isinstance(incidents, list)
    return {i["title"].removeprefix("Outage "): i for i in incidents}


def test_each_recent_incident_reads_as_the_account_saw_it(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    world = _world(container)
    key = api_key(container, "accounts:read")

    response = client.get(f"/api/v1/accounts/{world.account_id}/credits", headers=key)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account_id"] == world.account_id
    seen = _by_title(body)
    assert set(seen) == {"open", "lapsed", "claimed", "excluded", "missed", "withdrawn"}
    assert all(set(entry) == FIELDS for entry in seen.values())
    assert body["incidents"][0]["title"] == "Outage open"  # newest first
    assert {k: seen["open"][k] for k in ("status", "amount", "currency", "statement_date")} == {
        "status": "offered",
        "amount": "0.24",
        "currency": "USD",
        "statement_date": None,
    }
    assert seen["open"]["failed_attempts"] == 3
    assert seen["open"]["impact_minutes"] == 95
    assert seen["open"]["incident_id"] == world.incidents["open"]
    assert seen["lapsed"]["status"] == "expired"
    # Claimed on 14 March: the claim page's rule puts it on the 1 April statement.
    assert seen["claimed"]["status"] == "claimed"
    assert seen["claimed"]["statement_date"] == "2026-04-01"
    assert seen["excluded"]["status"] == "excluded"
    assert seen["excluded"]["reason"] == "not_active"
    assert seen["excluded"]["amount"] is None
    assert seen["missed"]["status"] == "not_affected"
    assert seen["missed"]["impact_minutes"] is None
    assert seen["missed"]["failed_attempts"] is None
    assert seen["withdrawn"]["status"] == "revoked"

    # The statement of 1 April is closed: the credit is applied, dated by that statement.
    clock.set(clock.now.replace(month=4, day=2))
    close_through(container, date(2026, 4, 1))
    after = _by_title(
        client.get(f"/api/v1/accounts/{world.account_id}/credits", headers=key).json()
    )
    assert after["claimed"]["status"] == "applied"
    assert after["claimed"]["statement_date"] == "2026-04-01"


def test_unknown_account_is_404_and_the_scope_is_required(
    client: TestClient, container: Container
) -> None:
    world = _world(container)
    key = api_key(container, "accounts:read")
    missing = client.get("/api/v1/accounts/acc_nobody/credits", headers=key)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    other = api_key(container, "offers:read")
    assert (
        client.get(f"/api/v1/accounts/{world.account_id}/credits", headers=other).status_code == 403
    )


def test_the_route_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/accounts/{account_id}/credits"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/AccountCreditsPublic")
    fields = document["components"]["schemas"]["IncidentCreditPublic"]["properties"]
    assert set(fields) == FIELDS
