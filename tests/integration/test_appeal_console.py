"""The console's appeal queue: what the logs showed and the note, review first; an agent grants
within their limit or declines with a reason; both audited and e-mailed to the subscriber."""

from __future__ import annotations

import warnings

import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.appeal_processing import process_appeals
from makegood.services.dispatch import dispatch_pending
from makegood.services.users import User, authenticate, resolve_session
from makegood.store import tables as t
from makegood.store.tables_appeals import appeals
from makegood.store.tables_web import users
from makegood.web.auth import SESSION_COOKIE, console_csrf_token
from tests.factories.appeals import AppealWorld, file_appeal_for, seed_missed, write_attempts
from tests.factories.staff import PASSWORD, add_staff, email_for, session_cookie
from tests.harness.mailbox import mails, text_of


def sign_in(
    client: TestClient,
    container: Container,
    user: User | None = None,
    limits: dict[str, int] | None = None,
) -> str:
    """Sign an agent in (a new one unless `user`); returns the console forms' CSRF token."""
    client.cookies.clear()
    cookie = session_cookie(container, user or add_staff(container, "agent", limits))
    client.cookies.set(SESSION_COOKIE, cookie[SESSION_COOKIE], path="/console")
    with container.uow() as uow:
        live = resolve_session(uow, cookie[SESSION_COOKIE], container.now())
    assert live is not None
    return console_csrf_token(container.settings.secret_key, live.csrf_secret)


def review_case(container: Container) -> tuple[AppealWorld, str]:
    """An appeal the logs did not confirm (three successful plays), processed."""
    world = seed_missed(container)
    write_attempts(
        container, world, [(20, "success", "us"), (50, "success", "us"), (80, "success", "us")]
    )
    appeal_id = file_appeal_for(container, world, "around 9 pm, on the TV")
    assert process_appeals(container).needs_review == 1
    return world, appeal_id


def state_of(container: Container, appeal_id: str) -> dict[str, object]:
    with container.engine.connect() as conn:
        return dict(
            conn.execute(sa.select(appeals).where(appeals.c.id == appeal_id)).mappings().one()
        )


def test_the_queue_shows_what_the_logs_held_and_the_note(
    client: TestClient, container: Container
) -> None:
    world, appeal_id = review_case(container)
    sign_in(client, container)
    page = client.get("/console/appeals")
    assert page.status_code == 200
    html = page.text
    assert f'id="appeal-{appeal_id}" data-state="needs_review"' in html
    assert "around 9 pm, on the TV" in html
    assert "3 successful play(s)" in html
    assert "0.24" in html  # what a grant would credit
    assert f"/console/appeals/{appeal_id}/decline" in html
    # The account's page lists it too, with the way to the queue.
    account = client.get(f"/console/accounts/{world.account_id}").text
    assert 'class="appeal" data-state="needs_review"' in account
    assert f'href="/console/appeals#appeal-{appeal_id}"' in account


def test_decline_needs_a_reason_and_tells_the_subscriber(
    client: TestClient, container: Container
) -> None:
    _, appeal_id = review_case(container)
    csrf = sign_in(client, container)
    dispatch_pending(container)  # the review e-mail
    before = len(mails(container))
    empty = client.post(
        f"/console/appeals/{appeal_id}/decline", data={"csrf_token": csrf, "reason": " "}
    )
    assert empty.status_code == 400
    forged = client.post(f"/console/appeals/{appeal_id}/decline", data={"reason": "no"})
    assert forged.status_code == 403
    assert state_of(container, appeal_id)["state"] == "needs_review"

    done = client.post(
        f"/console/appeals/{appeal_id}/decline",
        data={"csrf_token": csrf, "reason": "Our logs show you watching throughout"},
    )
    assert done.status_code == 303
    appeal = state_of(container, appeal_id)
    assert (appeal["state"], appeal["decided_by"]) == ("declined", "agent@care.example.com")
    assert dispatch_pending(container).sent == 1
    decline = mails(container)[before]
    assert "Our logs show you watching throughout" in text_of(decline)
    with container.engine.connect() as conn:
        actions = (
            conn.execute(
                sa.select(t.audit_log.c.action).where(t.audit_log.c.subject_id == appeal_id)
            )
            .scalars()
            .all()
        )
    assert actions[-1] == "appeal.declined"
    again = client.post(
        f"/console/appeals/{appeal_id}/decline", data={"csrf_token": csrf, "reason": "x"}
    )
    assert again.status_code == 409  # decided once


def test_grant_within_the_limit_credits_and_e_mails_the_amount(
    client: TestClient, container: Container
) -> None:
    world, appeal_id = review_case(container)
    csrf = sign_in(client, container, limits={"USD": 10})
    over = client.post(f"/console/appeals/{appeal_id}/grant", data={"csrf_token": csrf})
    assert over.status_code == 403  # 0.24 USD is above this agent's 0.10
    assert state_of(container, appeal_id)["state"] == "needs_review"
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.offers)).scalar_one() == 0

    with container.engine.begin() as conn:  # an admin raises the agent's limit
        conn.execute(users.update().values(grant_limits={"USD": 500}))
    csrf = sign_in(client, container, _agent(container))
    granted = client.post(f"/console/appeals/{appeal_id}/grant", data={"csrf_token": csrf})
    assert granted.status_code == 303
    appeal = state_of(container, appeal_id)
    assert appeal["state"] == "granted"
    with container.engine.connect() as conn:
        offer = conn.execute(sa.select(t.offers)).mappings().one()
        credit = conn.execute(sa.select(t.credits)).mappings().one()
    assert (offer["state"], offer["credited_via"], offer["account_id"]) == (
        "granted",
        "agent",
        world.account_id,
    )
    assert credit["amount_minor"] == 24
    dispatch_pending(container)
    assert "$0.24" in text_of(mails(container)[-1])


def _agent(container: Container) -> User:
    with container.uow() as uow:
        user = authenticate(uow, email_for("agent"), PASSWORD)
    assert user is not None
    return user
