"""The REST API end to end on SQLite and PostgreSQL: incident -> campaign -> preview ->
approve (by a second key) -> launch -> report, offers, account look-up and audit."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.build_jobs import run_pending_builds
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.staff import api_key, seed_draft


def test_campaign_lifecycle_over_the_api(
    client: TestClient, container: Container, tmp_path: Path
) -> None:
    creator = api_key(container, "incidents:write", "incidents:read", "campaigns:write")
    approver = api_key(container, "campaigns:write", "campaigns:read", "offers:read")
    reader = api_key(container, "audit:read", "accounts:read")
    draft = seed_draft(container, created_by="seed", accounts=2)  # plan, accounts
    start = container.now() - timedelta(hours=20)

    created = client.post(
        "/api/v1/incidents",
        headers=creator,
        json={
            "title": "Evening outage",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "regions": ["us-east"],
        },
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["regions"] == ["us-east"]
    assert client.get(f"/api/v1/incidents/{incident['id']}", headers=creator).json() == incident

    events = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [attempt(a, (start + timedelta(minutes=10)).isoformat()) for a in draft.account_ids]
        + [attempt("acc-unknown", (start + timedelta(minutes=20)).isoformat())],
    )
    body = {"incident_id": incident["id"], "events": str(events), "fixed": {"USD": "1.50"}}
    zero = client.post("/api/v1/campaigns", headers=creator, json={**body, "pay_within_days": 0})
    assert zero.status_code == 422
    response = client.post(
        "/api/v1/campaigns",
        headers=creator,
        json={**body, "pay_within_days": 30, "appeal_days": 45},
    )
    assert response.status_code == 202, response.text
    campaign = response.json()
    assert campaign["state"] == "building"
    assert campaign["build"]["state"] == "pending"
    assert campaign["affected_count"] == 0
    assert run_pending_builds(container) == 1  # what `makegood worker` does on each pass
    campaign = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=approver).json()
    assert campaign["state"] == "draft"
    assert campaign["pay_within_days"] == 30
    assert campaign["appeal_days"] == 45
    assert campaign["affected_count"] == 3
    assert campaign["build"]["state"] == "done"
    assert campaign["build"]["decided"] == 3

    preview = client.get(f"/api/v1/campaigns/{campaign['id']}/preview", headers=approver).json()
    assert preview["eligible"] == 2
    assert preview["excluded"]["unknown_account"] == 1
    assert preview["liability"] == {"USD": "3.00"}

    # Four eyes: the key that created the draft cannot approve it, and nothing changes.
    refused = client.post(f"/api/v1/campaigns/{campaign['id']}/approve", headers=creator)
    assert refused.status_code == 403
    assert refused.json()["error"] == "self_approval"
    too_early = client.post(f"/api/v1/campaigns/{campaign['id']}/launch", headers=approver)
    assert too_early.status_code == 409
    approved = client.post(f"/api/v1/campaigns/{campaign['id']}/approve", headers=approver)
    assert approved.json()["state"] == "approved"

    launched = client.post(f"/api/v1/campaigns/{campaign['id']}/launch", headers=approver).json()
    assert launched["offers"] == 2
    assert launched["already_launched"] is False
    again = client.post(f"/api/v1/campaigns/{campaign['id']}/launch", headers=approver).json()
    assert again["offers"] == 0
    assert again["already_launched"] is True

    report = client.get(f"/api/v1/campaigns/{campaign['id']}/report", headers=approver).json()
    assert (report["offered"], report["claimed"]) == (2, 0)
    assert report["pay_within_days"] == 30
    assert (report["applied_on_time"], report["applied_late"], report["unapplied_overdue"]) == (
        0,
        0,
        0,
    )
    offers = client.get(
        "/api/v1/offers", params={"campaign_id": campaign["id"]}, headers=approver
    ).json()
    assert {o["amount"] for o in offers} == {"1.50"}
    one = client.get(f"/api/v1/offers/{offers[0]['id']}", headers=approver).json()
    assert one == offers[0]

    account = client.get(f"/api/v1/accounts/{draft.account_ids[0]}", headers=reader).json()
    found = client.get(
        "/api/v1/accounts", params={"email": account["email"].upper()}, headers=reader
    ).json()
    assert [a["account_id"] for a in found] == [draft.account_ids[0]]

    audit = client.get("/api/v1/audit", headers=reader).json()
    actions = [e["action"] for e in audit]
    assert actions[:5] == [
        "campaign.launched",
        "campaign.approved",
        "campaign.created",  # by the worker's build
        "campaign.submitted",  # by the API call
        "incident.created",
    ]
    assert audit[0]["actor"].startswith("apikey:")
    older = client.get("/api/v1/audit", params={"before": audit[1]["id"]}, headers=reader).json()
    assert older[0]["action"] == "campaign.created"


def test_api_errors_are_json_with_a_reason(client: TestClient, container: Container) -> None:
    key = api_key(container)
    missing = client.get("/api/v1/campaigns/cmp_nope", headers=key)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    bad = client.post(
        "/api/v1/incidents",
        headers=key,
        json={"title": "x", "starts_at": "2026-03-22T21:00:00Z", "ends_at": "2026-03-22T20:00Z"},
    )
    assert bad.status_code == 422
    assert "--end must be later" in bad.json()["detail"]
    assert client.get("/api/v1/offers", headers=key).status_code == 422
    assert client.get("/api/v1/accounts/nobody", headers=key).status_code == 404


def test_openapi_document_covers_the_api_only(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    paths = set(document["paths"])
    assert "/accounts/{account_id}/messages" in paths
    assert "/campaigns/{campaign_id}/approve" in paths
    assert not any("claim/" in p and "messages" not in p for p in paths)
    assert not any(p.startswith(("/console", "/genuine")) for p in paths)
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert client.get("/openapi.json").status_code == 404
