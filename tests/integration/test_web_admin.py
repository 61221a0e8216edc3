"""Administration: users and API keys listed without secrets (console and CLI), revoking a key
(console POST with CSRF, audited; CLI), and the account page's message delivery history."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta

import click
import sqlalchemy as sa
from click.testing import CliRunner

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.cli import user_cmds
from makegood.services.users import create_api_key, resolve_api_key
from makegood.store import tables as t
from makegood.store.outbox import Outbox
from makegood.store.tables_notify import message_events
from makegood.store.tables_web import api_keys, users
from makegood.web.auth import SESSION_COOKIE
from tests.factories.offers import seed_offer
from tests.factories.staff import add_inapp_message, add_staff, session_cookie
from tests.harness.console import CSRF_FIELD


@click.group()
def cli() -> None:
    """The commands under test."""


user_cmds.register(cli)


def sign_in(client: TestClient, container: Container, role: str) -> None:
    raw = session_cookie(container, add_staff(container, role))[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, raw, path="/console")


def new_key(container: Container, name: str) -> tuple[str, str]:
    with container.uow() as uow:
        made = create_api_key(uow, ["offers:read"], name, container.now())
        uow.commit()
        return made


def live(container: Container, raw: str) -> bool:
    with container.uow() as uow:
        return resolve_api_key(uow, raw) is not None


def test_admin_page_lists_users_and_keys_without_secrets_and_revokes(
    client: TestClient, container: Container
) -> None:
    key_id, raw = new_key(container, "billing backend")
    sign_in(client, container, "admin")
    page = client.get("/console/admin")
    assert page.status_code == 200
    assert "admin@care.example.com" in page.text
    assert "billing backend" in page.text
    with container.engine.connect() as conn:
        key_hash = conn.execute(sa.select(api_keys.c.key_hash)).scalar_one()
        password_hash = conn.execute(sa.select(users.c.password_hash)).scalar()
    for secret in (raw, key_hash, str(password_hash)):
        assert secret not in page.text
    assert f"/console/admin/apikeys/{key_id}/revoke" in page.text

    # Without the form's token nothing changes.
    refused = client.post(f"/console/admin/apikeys/{key_id}/revoke", data={})
    assert refused.status_code == 403
    assert live(container, raw)

    match = CSRF_FIELD.search(page.text)
    assert match
    done = client.post(
        f"/console/admin/apikeys/{key_id}/revoke", data={"csrf_token": match.group(1)}
    )
    assert done.status_code == 303
    assert not live(container, raw)
    assert (
        client.get(
            "/api/v1/offers?account_id=x", headers={"Authorization": f"Bearer {raw}"}
        ).status_code
        == 401
    )
    after = client.get(done.headers["location"]).text
    assert "was revoked" in after
    assert f"/console/admin/apikeys/{key_id}/revoke" not in after
    with container.engine.connect() as conn:
        entry = conn.execute(
            sa.select(t.audit_log).where(t.audit_log.c.action == "apikey.revoked")
        ).one()
    assert (entry.actor, entry.subject_id) == ("admin@care.example.com", key_id)


def test_only_admins_see_the_link_and_the_page(client: TestClient, container: Container) -> None:
    sign_in(client, container, "approver")
    assert "/console/admin" not in client.get("/console/incidents").text
    assert client.get("/console/admin").status_code == 403


def test_cli_lists_and_revokes_keys_and_lists_users(container: Container) -> None:
    add_staff(container, "agent", {"USD": 2000})
    key_id, raw = new_key(container, "ops")

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), obj=container)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("apikey", "list", "--json")
    assert code == 0
    [listed] = json.loads(out)
    assert listed["id"] == key_id
    assert listed["scopes"] == ["offers:read"]
    assert listed["revoked_at"] is None
    assert "key_hash" not in listed
    assert raw not in out
    code, out, _ = run("user", "list")
    assert code == 0
    assert "agent@care.example.com\tagent\tactive\tUSD=20.00" in out
    assert "argon2" not in out

    code, out, err = run("apikey", "revoke", key_id)
    assert (code, out.strip()) == (0, key_id)
    assert not live(container, raw)
    code, _, err = run("apikey", "revoke", key_id)
    assert code == 0
    assert "already" in err
    assert run("apikey", "revoke", "key_nope")[0] == 3
    code, out, _ = run("apikey", "list")
    assert f"{key_id}\tops\toffers:read" in out
    assert "revoked" in out


def test_account_page_shows_every_message_with_its_delivery_history(
    client: TestClient, container: Container
) -> None:
    now = container.now()
    seeded = seed_offer(container.engine, now)
    inapp = add_inapp_message(container, seeded.offer_id, seeded.account_id)
    with container.engine.begin() as conn:
        conn.execute(
            t.offers.update().where(t.offers.c.id == seeded.offer_id).values(inapp_urgent=True)
        )
        Outbox(conn).queue(
            [
                {
                    "id": "msg_mail",
                    "offer_id": seeded.offer_id,
                    "account_id": seeded.account_id,
                    "channel": "email",
                    "template": "offer_claim",
                    "state": "sent",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "created_at": now - timedelta(hours=2),
                    "sent_at": now - timedelta(hours=2),
                }
            ],
        )
        for minutes, kind, source in ((110, "accepted", "smtp"), (90, "bounced", "dsn")):
            conn.execute(
                message_events.insert().values(
                    message_id="msg_mail",
                    kind=kind,
                    source=source,
                    at=now - timedelta(minutes=minutes),
                    detail="550 5.1.1 user unknown" if kind == "bounced" else None,
                )
            )
    sign_in(client, container, "viewer")
    html = client.get(f"/console/accounts/{seeded.account_id}").text
    mail = html.split('id="message-msg_mail"', 1)[1].split("</tr>", 1)[0]
    assert mail.index("accepted") < mail.index("bounced")
    assert "(dsn): 550 5.1.1 user unknown" in mail
    assert "urgent" not in mail
    urgent_row = html.split(f'id="message-{inapp}"', 1)[1].split("</tr>", 1)[0]
    assert "urgent" in urgent_row
    assert "no delivery event yet" in urgent_row
    assert html.index(f'id="message-{inapp}"') < html.index('id="message-msg_mail"')  # newest first
