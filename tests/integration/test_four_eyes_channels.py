"""Four eyes across channels (issue 12, item 13): every API key names the console user who
stands behind it (`makegood apikey create --owner EMAIL`), and creator and approver of a
campaign are compared as people, whichever channel each used. Also: single-line fields that end
up in e-mails (incident titles) refuse CR, LF and NUL on the API and the CLI."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import Result

from tests.harness.cli import invoke

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.users import create_api_key
from makegood.store import tables as t
from makegood.store.tables_web import api_keys
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE
from tests.factories.staff import add_staff, seed_draft, session_cookie
from tests.harness.console import CSRF_FIELD


def run(*args: str) -> Result:
    return invoke(cli, *args)


def key_of(container: Container, owner: str | None, name: str = "k") -> dict[str, str]:
    with container.uow() as uow:
        _, raw = create_api_key(
            uow, ["campaigns:write", "campaigns:read"], name, container.now(), owner=owner
        )
        uow.commit()
    return {"Authorization": f"Bearer {raw}"}


def key_actor(container: Container, headers: dict[str, str]) -> str:
    """The actor string the API records for this key (`apikey:<id>`)."""
    import hashlib

    raw = headers["Authorization"].removeprefix("Bearer ")
    with container.engine.connect() as conn:
        key_id = conn.execute(
            sa.select(api_keys.c.id).where(
                api_keys.c.key_hash == hashlib.sha256(raw.encode()).hexdigest()
            )
        ).scalar_one()
    return f"apikey:{key_id}"


def approve(client: TestClient, campaign_id: str, headers: dict[str, str]) -> tuple[int, str]:
    response = client.post(f"/api/v1/campaigns/{campaign_id}/approve", headers=headers)
    return response.status_code, response.json().get("error", "")


def test_a_console_users_own_key_cannot_approve_their_campaign(
    container: Container, client: TestClient
) -> None:
    ann = add_staff(container, "approver")
    draft = seed_draft(container, created_by=ann.email)  # created in the console by Ann
    anns_key = key_of(container, owner=ann.email)

    assert approve(client, draft.campaign_id, anns_key) == (403, "self_approval")

    bob = add_staff(container, "admin")
    assert approve(client, draft.campaign_id, key_of(container, owner=bob.email))[0] == 200


def test_two_keys_of_one_owner_are_one_person(container: Container, client: TestClient) -> None:
    ann = add_staff(container, "approver")
    first, second = key_of(container, ann.email, "one"), key_of(container, ann.email, "two")
    draft = seed_draft(container, created_by=key_actor(container, first))

    assert approve(client, draft.campaign_id, second) == (403, "self_approval")
    with container.engine.connect() as conn:
        state = conn.execute(
            sa.select(t.campaigns.c.state).where(t.campaigns.c.id == draft.campaign_id)
        ).scalar_one()
    assert state == "draft"


def test_in_the_console_the_owner_cannot_approve_what_their_key_created(
    container: Container, client: TestClient
) -> None:
    ann = add_staff(container, "approver")
    draft = seed_draft(container, created_by=key_actor(container, key_of(container, ann.email)))
    client.cookies.set(
        SESSION_COOKIE, session_cookie(container, ann)[SESSION_COOKIE], path="/console"
    )
    match = CSRF_FIELD.search(client.get(f"/console/campaigns/{draft.campaign_id}").text)
    assert match
    response = client.post(
        f"/console/campaigns/{draft.campaign_id}/approve", data={"csrf_token": match.group(1)}
    )
    assert response.status_code == 403


def test_keys_without_an_owner_are_their_own_person(
    container: Container, client: TestClient
) -> None:
    creator, other = key_of(container, None, "a"), key_of(container, None, "b")
    draft = seed_draft(container, created_by=key_actor(container, creator))
    assert approve(client, draft.campaign_id, creator) == (403, "self_approval")
    assert approve(client, draft.campaign_id, other)[0] == 200


def test_apikey_create_records_the_owner(db: str, container: Container) -> None:
    ann = add_staff(container, "approver")
    made = run("apikey", "create", "--scope", "campaigns:write", "--owner", "ANN@x.org")
    assert made.exit_code == 3  # no such user
    assert "makegood user list" in made.stderr
    made = run("apikey", "create", "--scope", "campaigns:write", "--owner", ann.email.upper())
    assert made.exit_code == 0, made.output
    listed = run("apikey", "list", "--json")
    [row] = json.loads(listed.stdout)
    assert row["owner"] == ann.email
    assert ann.email in run("apikey", "list").stdout


def test_a_disabled_owners_keys_open_nothing(db: str, container: Container) -> None:
    ann = add_staff(container, "approver")
    headers = key_of(container, ann.email)
    with TestClient(create_app(container)) as client:
        assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
        assert run("user", "disable", ann.email).exit_code == 0
        assert client.get("/api/v1/campaigns", headers=headers).status_code == 401


@pytest.mark.parametrize("title", ["Outage\r\nBcc: all@example.com", "Outage\nsecond", "A\x00B"])
def test_titles_with_line_breaks_or_nul_are_refused(
    container: Container, client: TestClient, title: str
) -> None:
    with container.uow() as uow:
        _, raw = create_api_key(uow, ["incidents:write"], "ops", container.now())
        uow.commit()
    start = container.now() - timedelta(hours=3)
    response = client.post(
        "/api/v1/incidents",
        headers={"Authorization": f"Bearer {raw}"},
        json={
            "title": title,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 422, response.text
    assert "title" in response.json()["detail"]
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.incidents)).scalar_one() == 0


def test_the_cli_refuses_a_title_with_a_line_break(db: str) -> None:
    result = run(
        "incident",
        "create",
        "--title",
        "Outage\r\nX-Evil: 1",
        "--start",
        "2026-03-22T12:00:00Z",
        "--end",
        "2026-03-22T13:00:00Z",
    )
    assert result.exit_code == 2
    assert "title" in result.stderr
