"""Authentication: `makegood user add` / `apikey create`, console login, sessions, CSRF, keys."""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import sqlalchemy as sa
from click.testing import Result

from tests.harness.cli import invoke

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.users import SESSION_LIFETIME
from makegood.store.engine import make_engine
from makegood.store.tables_web import api_keys, users, web_sessions
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE
from tests.factories.staff import PASSWORD, add_staff, count, email_for
from tests.harness.clock import FrozenClock
from tests.harness.console import CSRF_FIELD
from tests.harness.settings import make_settings


def run(*args: str, stdin: str | None = None) -> Result:
    return invoke(cli, *args, stdin=stdin)


def test_user_add_stores_an_argon2_hash_and_refuses_bad_input(
    db: str, container: Container
) -> None:
    result = run(
        "user",
        "add",
        "Ann@Care.Example.com",
        "--role",
        "agent",
        "--password-stdin",
        "--grant-limit",
        "USD=20",
        "--grant-limit",
        "JPY=3000",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user_id = result.stdout.strip().splitlines()[-1]
    with container.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().one()
    assert row["email"] == "ann@care.example.com"
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert row["grant_limits"] == {"USD": 2000, "JPY": 3000}

    again = run(
        "user",
        "add",
        "ann@care.example.com",
        "--role",
        "agent",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert again.exit_code == 2
    assert "exists already" in again.stderr
    short = run("user", "add", "bob@x.com", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.exit_code == 2
    bad_role = run("user", "add", "bob@x.com", "--role", "root", "--password-stdin", stdin=PASSWORD)
    assert bad_role.exit_code == 2
    assert count(container, users) == 1


def test_apikey_is_printed_once_and_only_its_hash_is_kept(db: str, container: Container) -> None:
    result = run(
        "apikey",
        "create",
        "--scope",
        "campaigns:write",
        "--scope",
        "offers:read",
        "--name",
        "ops bot",
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("mgk_")
    assert len(key) > 40
    with container.engine.connect() as conn:
        row = conn.execute(sa.select(api_keys)).mappings().one()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert sorted(row["scopes"]) == ["campaigns:write", "offers:read"]
    assert key not in str(dict(row))
    assert run("apikey", "create", "--scope", "everything").exit_code == 2


def login(client: TestClient, email: str, password: str, nxt: str = "") -> tuple[int, str]:
    page = client.get("/console/login", params={"next": nxt} if nxt else None)
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    response = client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": match.group(1), "next": nxt},
    )
    return response.status_code, response.headers.get("location", "")


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(
    client: TestClient, container: Container
) -> None:
    add_staff(container, "viewer")
    assert client.get("/console/incidents").headers["location"].startswith("/console/login")

    status, _ = login(client, email_for("viewer"), "wrong password!!")
    assert status == 401
    assert count(container, web_sessions) == 0

    page = client.get("/console/login", params={"next": "/console/audit"})
    token = CSRF_FIELD.search(page.text)
    assert token
    response = client.post(
        "/console/login",
        data={
            "email": email_for("viewer"),
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "/console/audit",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/audit"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # http public_url; see the https test
    raw = cookie.split(";")[0].split("=", 1)[1]
    with container.engine.connect() as conn:
        stored = conn.execute(sa.select(web_sessions.c.id_hash)).scalar_one()
    assert stored == hashlib.sha256(raw.encode()).hexdigest() != raw

    assert client.get("/console/incidents").status_code == 200
    html = client.get("/console/incidents").text
    csrf = CSRF_FIELD.search(html)
    assert csrf
    assert client.post("/console/logout", data={"csrf_token": csrf.group(1)}).status_code == 303
    assert count(container, web_sessions) == 0
    client.cookies.set(SESSION_COOKIE, raw, path="/console")
    assert client.get("/console/incidents").status_code == 303


def test_login_refuses_a_form_without_its_csrf_token_and_foreign_next(
    client: TestClient, container: Container
) -> None:
    add_staff(container, "viewer")
    response = client.post(
        "/console/login", data={"email": email_for("viewer"), "password": PASSWORD}
    )
    assert response.status_code == 403
    status, location = login(client, email_for("viewer"), PASSWORD, nxt="https://evil.example/")
    assert status == 303
    assert location == "/console/incidents"


def test_sessions_expire(client: TestClient, container: Container, clock: FrozenClock) -> None:
    add_staff(container, "viewer")
    assert login(client, email_for("viewer"), PASSWORD)[0] == 303
    assert client.get("/console/incidents").status_code == 200
    clock.advance(seconds=SESSION_LIFETIME.total_seconds() + 1)
    assert client.get("/console/incidents").status_code == 303


def test_console_forms_need_the_sessions_csrf_token(
    client: TestClient, container: Container
) -> None:
    from tests.factories.offers import seed_offer

    seeded = seed_offer(container.engine, container.now())
    add_staff(container, "agent")
    assert login(client, email_for("agent"), PASSWORD)[0] == 303
    url = f"/console/offers/{seeded.offer_id}/extend"
    assert client.post(url, data={"days": "3"}).status_code == 403
    assert client.post(url, data={"days": "3", "csrf_token": "0" * 64}).status_code == 403
    html = client.get(f"/console/accounts/{seeded.account_id}").text
    token = CSRF_FIELD.search(html)
    assert token
    assert client.post(url, data={"days": "3", "csrf_token": token.group(1)}).status_code == 303


def test_cookie_is_secure_when_the_public_url_is_https(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(database_url, tmp_path, public_url="https://claims.example.com")
    container = Container(settings=settings, engine=make_engine(database_url), clock=clock)
    try:
        add_staff(container, "viewer")
        with TestClient(
            create_app(container), base_url="https://testserver", follow_redirects=False
        ) as client:
            page = client.get("/console/login")
            token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
            assert token
            response = client.post(
                "/console/login",
                data={
                    "email": email_for("viewer"),
                    "password": PASSWORD,
                    "csrf_token": token.group(1),
                },
            )
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
        )
        assert "Secure" in cookie
    finally:
        container.engine.dispose()


def test_api_needs_a_live_key_with_the_scope(client: TestClient, container: Container) -> None:
    from tests.factories.staff import api_key

    assert client.get("/api/v1/incidents").status_code == 401
    assert client.get("/api/v1/incidents").headers["www-authenticate"] == "Bearer"
    wrong = api_key(container, "offers:read")
    assert client.get("/api/v1/incidents", headers=wrong).status_code == 403
    right = api_key(container, "incidents:read")
    assert client.get("/api/v1/incidents", headers=right).json() == []
    with container.engine.begin() as conn:
        conn.execute(api_keys.update().values(revoked_at=container.now()))
    assert client.get("/api/v1/incidents", headers=right).status_code == 401
