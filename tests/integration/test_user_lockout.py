"""Locking console users out (issue 12, item 5): `makegood user disable|enable|role|password`
and the same on /console/admin. Each change ends the user's sessions at once (sessions are
checked against the user's current version on every request), is audited, and a disabled user
cannot sign in."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from click.testing import Result

from tests.harness.cli import invoke

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.users import authenticate, resolve_session, start_session
from makegood.store import tables as t
from makegood.store.tables_web import users
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE
from tests.factories.staff import PASSWORD, add_staff, email_for, session_cookie
from tests.harness.console import CSRF_FIELD

NEW_PASSWORD = "a much longer new passphrase"


def run(*args: str, stdin: str | None = None) -> Result:
    return invoke(cli, *args, stdin=stdin)


def signed_in(client: TestClient, container: Container, role: str) -> str:
    """Sign `role` in on `client`; returns the user id."""
    user = add_staff(container, role)
    client.cookies.set(
        SESSION_COOKIE, session_cookie(container, user)[SESSION_COOKIE], path="/console"
    )
    assert client.get("/console/incidents").status_code == 200
    return user.id


def locked_out(client: TestClient) -> bool:
    response = client.get("/console/incidents")
    return response.status_code == 303 and "/console/login" in response.headers["location"]


def audit_actions(container: Container, user_id: str) -> list[tuple[str, str, dict[str, object]]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.audit_log.c.actor, t.audit_log.c.action, t.audit_log.c.detail)
            .where(t.audit_log.c.subject_id == user_id, t.audit_log.c.action != "user.login")
            .order_by(t.audit_log.c.id)
        ).all()
    return [(r.actor, r.action, r.detail) for r in rows]


def test_cli_disable_ends_the_session_at_once_and_refuses_sign_in_until_enabled(
    db: str, container: Container, client: TestClient
) -> None:
    user_id = signed_in(client, container, "approver")

    result = run("user", "disable", "Approver@Care.Example.com")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == user_id
    assert locked_out(client)
    with container.uow() as uow:
        assert authenticate(uow, email_for("approver"), PASSWORD) is None
    assert run("user", "disable", email_for("approver")).exit_code == 0  # twice: no change

    assert run("user", "enable", email_for("approver")).exit_code == 0
    with container.uow() as uow:
        assert authenticate(uow, email_for("approver"), PASSWORD) is not None
    assert [(a, b) for a, b, _ in audit_actions(container, user_id)] == [
        ("cli", "user.created"),
        ("cli", "user.disabled"),
        ("cli", "user.enabled"),
    ]


def test_cli_role_and_password_changes_end_sessions_and_are_audited(
    db: str, container: Container, client: TestClient
) -> None:
    user_id = signed_in(client, container, "agent")

    assert run("user", "role", email_for("agent"), "--role", "viewer").exit_code == 0
    assert locked_out(client)
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(users.c.role)).scalar_one() == "viewer"

    signed_in_again = session_cookie(container, _user(container))[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, signed_in_again, path="/console")
    assert client.get("/console/incidents").status_code == 200
    password = run(
        "user", "password", email_for("agent"), "--password-stdin", stdin=NEW_PASSWORD + "\n"
    )
    assert password.exit_code == 0, password.output
    assert locked_out(client)
    with container.uow() as uow:
        assert authenticate(uow, email_for("agent"), PASSWORD) is None
        assert authenticate(uow, email_for("agent"), NEW_PASSWORD) is not None

    entries = audit_actions(container, user_id)
    assert [a for _, a, _ in entries] == ["user.created", "user.role_changed", "user.password_set"]
    assert entries[1][2] == {"email": email_for("agent"), "from": "agent", "to": "viewer"}
    assert NEW_PASSWORD not in str(entries)


def _user(container: Container):  # type: ignore[no-untyped-def]
    with container.uow() as uow:
        return authenticate(uow, email_for("agent"), PASSWORD)


def test_cli_exit_codes_not_found_and_bad_input_change_nothing(
    db: str, container: Container
) -> None:
    add_staff(container, "viewer")
    assert run("user", "disable", "nobody@care.example.com").exit_code == 3
    assert run("user", "enable", "nobody@care.example.com").exit_code == 3
    assert run("user", "role", "nobody@care.example.com", "--role", "agent").exit_code == 3
    missing = run("user", "password", "nobody@x.com", "--password-stdin", stdin=NEW_PASSWORD)
    assert missing.exit_code == 3
    assert "makegood user list" in missing.stderr
    assert run("user", "role", email_for("viewer"), "--role", "root").exit_code == 2
    short = run("user", "password", email_for("viewer"), "--password-stdin", stdin="short\n")
    assert short.exit_code == 2
    assert "12 characters" in short.stderr
    with container.uow() as uow:
        assert authenticate(uow, email_for("viewer"), PASSWORD) is not None


def test_a_session_opened_with_a_stale_version_is_dead(db: str, container: Container) -> None:
    """A sign-in that checked the old password but stored its session after the change: the
    session carries the version it was opened under, so it opens nothing."""
    stale = add_staff(container, "viewer")
    assert run("user", "password", email_for("viewer"), "--password-stdin", stdin=NEW_PASSWORD)
    with container.uow() as uow:
        raw = start_session(uow, stale, container.now())
        uow.commit()
    with container.uow() as uow:
        assert resolve_session(uow, raw, container.now()) is None


def admin_form(client: TestClient) -> str:
    match = CSRF_FIELD.search(client.get("/console/admin").text)
    assert match
    return match.group(1)


def test_console_admin_disables_changes_role_and_password_with_csrf(
    container: Container, client: TestClient
) -> None:
    target = add_staff(container, "agent")
    victim = TestClient(create_app(container), follow_redirects=False)
    cookie = session_cookie(container, target)[SESSION_COOKIE]
    victim.cookies.set(SESSION_COOKIE, cookie, path="/console")
    admin_id = signed_in(client, container, "admin")
    page = client.get("/console/admin").text
    assert f"/console/admin/users/{target.id}/disable" in page

    refused = client.post(f"/console/admin/users/{target.id}/disable", data={})
    assert refused.status_code == 403  # no CSRF token: nothing changes
    assert not locked_out(victim)

    token = admin_form(client)
    done = client.post(f"/console/admin/users/{target.id}/disable", data={"csrf_token": token})
    assert done.status_code == 303
    assert locked_out(victim)
    assert "disabled" in client.get(done.headers["location"]).text
    ok = client.post(f"/console/admin/users/{target.id}/enable", data={"csrf_token": token})
    assert ok.status_code == 303
    role = client.post(
        f"/console/admin/users/{target.id}/role", data={"csrf_token": token, "role": "approver"}
    )
    assert role.status_code == 303
    bad_role = client.post(
        f"/console/admin/users/{target.id}/role", data={"csrf_token": token, "role": "root"}
    )
    assert bad_role.status_code == 400
    short = client.post(
        f"/console/admin/users/{target.id}/password", data={"csrf_token": token, "password": "x"}
    )
    assert short.status_code == 400
    password = client.post(
        f"/console/admin/users/{target.id}/password",
        data={"csrf_token": token, "password": NEW_PASSWORD},
    )
    assert password.status_code == 303
    with container.uow() as uow:
        user = authenticate(uow, email_for("agent"), NEW_PASSWORD)
    assert user is not None
    assert user.role == "approver"
    assert (
        client.post(
            "/console/admin/users/usr_unknown/disable", data={"csrf_token": token}
        ).status_code
        == 404
    )
    # An admin does not lock themselves out by a click: another admin or the CLI must.
    own = client.post(f"/console/admin/users/{admin_id}/disable", data={"csrf_token": token})
    assert own.status_code == 400
    assert not locked_out(client)

    actors = {(a, b) for a, b, _ in audit_actions(container, target.id)}
    admin = email_for("admin")
    assert {
        (admin, "user.disabled"),
        (admin, "user.enabled"),
        (admin, "user.role_changed"),
        (admin, "user.password_set"),
    } <= actors


def test_a_non_admin_cannot_use_the_user_forms(container: Container, client: TestClient) -> None:
    target = add_staff(container, "viewer")
    signed_in(client, container, "approver")
    page = client.get("/console/incidents")
    match = CSRF_FIELD.search(page.text)
    token = match.group(1) if match else ""
    response = client.post(f"/console/admin/users/{target.id}/disable", data={"csrf_token": token})
    assert response.status_code == 403
