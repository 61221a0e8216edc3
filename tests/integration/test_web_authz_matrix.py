"""The authorisation matrix: every console route x every role (and no login), every API route x
no key / a key without the scope / a key with it. Routes are read from the app itself, so a new
route without a row here fails the test."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.users import SCOPES, resolve_session
from makegood.web.auth import SESSION_COOKIE, console_csrf_token
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.offers import seed_offer
from tests.factories.staff import ROLES, add_staff, api_key, seed_draft, session_cookie

PUBLIC = "public"
# (method, path) -> the roles allowed; PUBLIC needs no login.
EVERY = set(ROLES)
CONSOLE: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): EVERY,
    ("GET", "/incidents"): EVERY,
    ("GET", "/incidents/{incident_id}"): EVERY,
    ("POST", "/incidents/{incident_id}/campaigns"): {"approver", "admin"},
    ("GET", "/campaigns/{campaign_id}"): EVERY,
    ("POST", "/campaigns/{campaign_id}/approve"): {"approver", "admin"},
    ("POST", "/campaigns/{campaign_id}/launch"): {"approver", "admin"},
    ("GET", "/support"): EVERY,
    ("GET", "/accounts/{account_id}"): EVERY,
    ("POST", "/offers/{offer_id}/resend"): {"agent", "admin"},
    ("POST", "/offers/{offer_id}/extend"): {"agent", "admin"},
    ("POST", "/offers/{offer_id}/grant"): {"agent", "admin"},
    ("GET", "/appeals"): {"agent", "admin"},
    ("POST", "/appeals/{appeal_id}/grant"): {"agent", "admin"},
    ("POST", "/appeals/{appeal_id}/decline"): {"agent", "admin"},
    ("GET", "/audit"): EVERY,
    ("GET", "/admin"): {"admin"},
    ("POST", "/admin/apikeys/{key_id}/revoke"): {"admin"},
    ("POST", "/admin/users/{user_id}/disable"): {"admin"},
    ("POST", "/admin/users/{user_id}/enable"): {"admin"},
    ("POST", "/admin/users/{user_id}/role"): {"admin"},
    ("POST", "/admin/users/{user_id}/password"): {"admin"},
}
API: dict[tuple[str, str], str] = {
    ("GET", "/incidents"): "incidents:read",
    ("POST", "/incidents"): "incidents:write",
    ("GET", "/incidents/{incident_id}"): "incidents:read",
    ("GET", "/campaigns"): "campaigns:read",
    ("POST", "/campaigns"): "campaigns:write",
    ("GET", "/campaigns/{campaign_id}"): "campaigns:read",
    ("GET", "/campaigns/{campaign_id}/preview"): "campaigns:read",
    ("POST", "/campaigns/{campaign_id}/approve"): "campaigns:write",
    ("POST", "/campaigns/{campaign_id}/launch"): "campaigns:write",
    ("GET", "/campaigns/{campaign_id}/report"): "campaigns:read",
    ("GET", "/offers/{offer_id}"): "offers:read",
    ("GET", "/offers"): "offers:read",
    ("GET", "/accounts"): "accounts:read",
    ("GET", "/accounts/{account_id}"): "accounts:read",
    ("GET", "/audit"): "audit:read",
    ("GET", "/accounts/{account_id}/messages"): "messages:read",
    ("POST", "/accounts/{account_id}/messages/{message_id}/claim"): "messages:write",
    ("POST", "/accounts/{account_id}/messages/{message_id}/dismiss"): "messages:write",
    ("GET", "/accounts/{account_id}/credits"): "accounts:read",
}
QUERY = {"/offers": "?account_id={account_id}", "/accounts": "?email=nobody@example.com"}
JSON_BODY = {
    "/incidents": {
        "title": "t",
        "starts_at": "2026-03-22T20:00:00Z",
        "ends_at": "2026-03-22T21:00:00Z",
    },
    "/campaigns": {"incident_id": "{incident_id}", "events": "{events}"},
}


def mounted_routes(client: TestClient, prefix: str) -> set[tuple[str, str]]:
    mount = next(r for r in client.app.routes if isinstance(r, Mount) and r.path == prefix)  # type: ignore[attr-defined]
    found = set()
    for route in mount.routes:
        if isinstance(route, APIRoute) and route.include_in_schema is not False:
            assert route.methods is not None  # every API route is declared with its methods
            for method in route.methods:
                # `{account_id:path}` is `{account_id}` to a caller (the id may hold a `/`)
                found.add((method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)))
    return found


@pytest.fixture
def ids(container: Container, tmp_path: Path) -> dict[str, str]:
    seeded = seed_offer(container.engine, container.now())
    draft = seed_draft(container, created_by="someone-else@care.example.com")
    events = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [attempt(draft.account_ids[0], (container.now() - timedelta(hours=23)).isoformat())],
    )
    return {
        "events": str(events),
        "incident_id": draft.incident_id,
        "campaign_id": draft.campaign_id,
        "offer_id": seeded.offer_id,
        "account_id": seeded.account_id,
        "message_id": "msg_unknown",
        "key_id": "key_unknown",
        "user_id": "usr_unknown",
        "appeal_id": "apl_unknown",
    }


def test_every_route_has_a_row(client: TestClient) -> None:
    assert mounted_routes(client, "/console") == set(CONSOLE)
    assert mounted_routes(client, "/api/v1") == set(API)


def test_console_matrix(client: TestClient, container: Container, ids: dict[str, str]) -> None:
    users = {role: add_staff(container, role) for role in ROLES}
    failures = []
    for (method, path), allowed in CONSOLE.items():
        url = "/console" + path.format(**ids)
        for role in (None, *ROLES):
            client.cookies.clear()
            data = {"days": "3", "reason": "never_received", "events": ids["events"]}
            if role is not None:
                cookie = session_cookie(container, users[role])
                client.cookies.set(SESSION_COOKIE, cookie[SESSION_COOKIE], path="/console")
                with container.uow() as uow:
                    live = resolve_session(uow, cookie[SESSION_COOKIE], container.now())
                assert live is not None
                data["csrf_token"] = console_csrf_token(
                    container.settings.secret_key, live.csrf_secret
                )
            response = client.request(method, url, data=data if method == "POST" else None)
            status = response.status_code
            to_login = status == 303 and "/console/login" in response.headers["location"]
            if allowed == PUBLIC:
                ok = status < 500 and status != 401  # POST /login without its token: 403
            elif role is None:
                ok = to_login
            elif role in allowed:
                # Allowed: whatever the action's own answer is, but never a refusal (and a
                # logout's way back to the login page is its success).
                ok = status < 500 and status not in (403, 422)
                ok = ok and (not to_login or path == "/logout")
            else:
                ok = status == 403
            if not ok:
                failures.append(f"{method} {path} as {role or 'anonymous'}: {status}")
    assert failures == [], "\n".join(failures)


def test_console_hides_buttons_a_role_cannot_use(
    client: TestClient, container: Container, ids: dict[str, str]
) -> None:
    for role, sees_approve in (("viewer", False), ("agent", False), ("approver", True)):
        client.cookies.clear()
        raw = session_cookie(container, add_staff(container, role))[SESSION_COOKIE]
        client.cookies.set(SESSION_COOKIE, raw, path="/console")
        html = client.get(f"/console/campaigns/{ids['campaign_id']}").text
        assert ("/approve" in html) is sees_approve, role
        account = client.get(f"/console/accounts/{ids['account_id']}").text
        assert ("/resend" in account) is (role == "agent"), role


def test_api_matrix(client: TestClient, container: Container, ids: dict[str, str]) -> None:
    failures = []
    for (method, path), scope in API.items():
        url = "/api/v1" + path.format(**ids) + QUERY.get(path, "").format(**ids)
        body = JSON_BODY.get(path) if method == "POST" else None
        if body is not None:
            body = {k: v.format(**ids) for k, v in body.items()}
        others = sorted(SCOPES - {scope})
        for label, headers in (
            ("no key", {}),
            ("bad key", {"Authorization": "Bearer mgk_not-a-key"}),
            ("other scopes", api_key(container, *others)),
            ("its scope", api_key(container, scope)),
        ):
            status = client.request(method, url, headers=headers, json=body).status_code
            expected_ok = {
                "no key": status == 401,
                "bad key": status == 401,
                "other scopes": status == 403,
                "its scope": status < 500 and status not in (401, 403, 422),
            }[label]
            if not expected_ok:
                failures.append(f"{method} {path} with {label}: {status}")
    assert failures == [], "\n".join(failures)
