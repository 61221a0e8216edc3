"""Users, sessions and API keys (through the user service), in-app messages and draft campaigns
for the web tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from makegood.services.users import (
    SCOPES,
    User,
    add_user,
    authenticate,
    create_api_key,
    start_session,
)
from makegood.store import tables as t
from makegood.store.outbox import Outbox
from makegood.web.auth import SESSION_COOKIE
from tests.factories.catalog import account, plan, save_accounts, save_plans
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.offers import add_member, grant

ROLES = ("viewer", "agent", "approver", "admin")
PASSWORD = "correct horse battery staple"


def email_for(role: str) -> str:
    return f"{role}@care.example.com"


def add_staff(container: Container, role: str, limits: dict[str, int] | None = None) -> User:
    with container.uow() as uow:
        add_user(uow, email_for(role), role, PASSWORD, container.now(), limits or {"USD": 500})
        uow.commit()
        user = authenticate(uow, email_for(role), PASSWORD)
    assert user is not None
    return user


def session_cookie(container: Container, user: User) -> dict[str, str]:
    """A live session for `user`, as the cookie a browser would send."""
    with container.uow() as uow:
        raw = start_session(uow, user, container.now())
        uow.commit()
    return {SESSION_COOKIE: raw}


def api_key(container: Container, *scopes: str) -> dict[str, str]:
    """Authorization header for a fresh key with `scopes` (all scopes when none are given)."""
    with container.uow() as uow:
        _, raw = create_api_key(uow, scopes or SCOPES, "test", container.now())
        uow.commit()
    return {"Authorization": f"Bearer {raw}"}


def add_inapp_message(
    container: Container, offer_id: str, account_id: str, template: str = "offer_claim"
) -> str:
    """Give the open offer of `account_id` its in-app message (as a launch does);
    "offer_granted" grants it as a launch in automatic mode does. Returns the message's id."""
    now = container.now()
    with container.engine.begin() as conn:
        owner = conn.execute(
            sa.select(t.offers.c.account_id).where(t.offers.c.id == offer_id)
        ).scalar_one()
        assert owner == account_id, f"offer {offer_id} is not {account_id}'s"
        Outbox(conn).set_inapp_state(offer_id, "unread")
        if template == "offer_granted":
            grant(conn, offer_id, now, via="auto")
    return "app_" + offer_id.partition("_")[2]


@dataclass(frozen=True)
class Draft:
    campaign_id: str
    incident_id: str
    account_ids: list[str]


def seed_draft(
    container: Container,
    created_by: str,
    accounts: int = 3,
    locales: tuple[str, ...] = ("en-US",),
    emails: tuple[str, ...] = (),
) -> Draft:
    """An incident and a draft campaign whose snapshot makes `accounts` accounts eligible;
    account i has locale `locales[i % len(locales)]` and e-mail `emails[i]` when given."""
    now = container.now()
    plan_id = new_id("pln")
    account_ids = [new_id("acc") for _ in range(accounts)]
    start = now - timedelta(days=1)
    next_bill = (now + timedelta(days=10)).date()
    with container.engine.begin() as conn:
        save_plans(conn, [plan(plan_id, name="Standard", price_minor=999)], now)
        save_accounts(
            conn,
            [
                account(
                    account_id,
                    plan_id=plan_id,
                    email=emails[i] if i < len(emails) else f"sub{i}-{account_id[-6:]}@example.com",
                    locale=locales[i % len(locales)],
                    next_bill_date=next_bill,
                )
                for i, account_id in enumerate(account_ids)
            ],
            now,
        )
        incident_id, campaign_id = insert_incident_and_campaign(
            conn,
            title="Evening outage",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            at=now,
            affected_count=accounts,
            state="draft",
            created_by=created_by,
            incident_created_by="ops@care.example.com",
        )
        for account_id in account_ids:
            add_member(
                conn,
                campaign_id,
                account_id,
                plan_id=plan_id,
                currency="USD",
                amount_minor=30,
                failed_attempts=2,
                first_failure_at=start + timedelta(minutes=5),
                last_failure_at=start + timedelta(minutes=50),
            )
    return Draft(campaign_id, incident_id, account_ids)


def count(container: Container, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        )
