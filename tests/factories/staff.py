"""Users, sessions, API keys, in-app messages and draft campaigns for the web tests."""

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
from makegood.web.auth import SESSION_COOKIE
from tests.factories.incidents import insert_incident_and_campaign

ROLES = ("viewer", "agent", "approver", "admin")
PASSWORD = "correct horse battery staple"


def email_for(role: str) -> str:
    return f"{role}@care.example.com"


def add_staff(container: Container, role: str, limits: dict[str, int] | None = None) -> User:
    with container.uow() as uow:
        add_user(uow, email_for(role), role, PASSWORD, container.now(), limits or {"USD": 500})
        user = authenticate(uow, email_for(role), PASSWORD)
    assert user is not None
    return user


def session_cookie(container: Container, user: User) -> dict[str, str]:
    """A live session for `user`, as the cookie a browser would send."""
    with container.uow() as uow:
        raw = start_session(uow, user, container.now())
    return {SESSION_COOKIE: raw}


def api_key(container: Container, *scopes: str) -> dict[str, str]:
    """Authorization header for a fresh key with `scopes` (all scopes when none are given)."""
    with container.uow() as uow:
        _, raw = create_api_key(uow, scopes or SCOPES, "test", container.now())
    return {"Authorization": f"Bearer {raw}"}


def add_inapp_message(
    container: Container, offer_id: str, account_id: str, template: str = "offer_claim"
) -> str:
    """Give the offer its in-app message (as a launch does); "offer_granted" makes the offer
    one granted at launch (automatic mode). Returns the message's id."""
    now = container.now()
    o = t.offers
    values: dict[str, object] = {"inapp_state": "unread"}
    if template == "offer_granted":
        values |= {"state": "granted", "credited_at": now, "credited_via": "auto"}
    with container.engine.begin() as conn:
        conn.execute(
            o.update().where(o.c.id == offer_id, o.c.account_id == account_id).values(**values)
        )
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
    incident_id, campaign_id, plan_id = new_id("inc"), new_id("cmp"), new_id("pln")
    account_ids = [new_id("acc") for _ in range(accounts)]
    start = now - timedelta(days=1)
    with container.engine.begin() as conn:
        conn.execute(
            t.plans.insert().values(
                plan_id=plan_id,
                name="Standard",
                monthly_price_minor=999,
                currency="USD",
                updated_at=now,
            )
        )
        for i, account_id in enumerate(account_ids):
            conn.execute(
                t.accounts.insert().values(
                    account_id=account_id,
                    email=emails[i] if i < len(emails) else f"sub{i}-{account_id[-6:]}@example.com",
                    plan_id=plan_id,
                    status="active",
                    country="US",
                    locale=locales[i % len(locales)],
                    next_bill_date=(now + timedelta(days=10)).date(),
                    billing_day=(now + timedelta(days=10)).day,
                    updated_at=now,
                )
            )
        insert_incident_and_campaign(
            conn,
            incident_id=incident_id,
            campaign_id=campaign_id,
            title="Evening outage",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            at=now,
            affected_count=accounts,
            state="draft",
            created_by=created_by,
            incident_created_by="ops@care.example.com",
        )
        conn.execute(
            t.cohort_members.insert(),
            [
                {
                    "campaign_id": campaign_id,
                    "account_id": account_id,
                    "failed_attempts": 2,
                    "first_failure_at": start + timedelta(minutes=5),
                    "last_failure_at": start + timedelta(minutes=50),
                    "excluded_reason": None,
                    "plan_id": plan_id,
                    "currency": "USD",
                    "amount_minor": 30,
                }
                for account_id in account_ids
            ],
        )
    return Draft(campaign_id, incident_id, account_ids)


def count(container: Container, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        )
