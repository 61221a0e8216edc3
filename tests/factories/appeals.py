"""An account the snapshot did not find affected by a launched campaign's incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.appeals import file_appeal, issue_links
from makegood.store import tables as t
from makegood.store.tables_appeals import appeals
from tests.factories.credit_status import StatusWorld, add_incident, seed_account
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv


@dataclass
class AppealWorld:
    status: StatusWorld
    incident_id: str
    campaign_id: str
    starts_at: datetime

    @property
    def account_id(self) -> str:
        return self.status.account_id


def seed_missed(
    container: Container,
    *,
    locale: str = "en-US",
    email: str = "ana.appeal@example.com",
    launched_days_ago: float = 1,
    **campaign: Any,
) -> AppealWorld:
    """The account and one incident (3 hours, starting a day before launch) whose launched
    campaign did not find it; `campaign` sets further campaign columns (appeal_days, mode,
    events_source...)."""
    now = container.now()
    starts_at = now - timedelta(days=launched_days_ago, hours=5)
    with container.engine.begin() as conn:
        world = seed_account(conn, now, email=email, locale=locale)
        add_incident(conn, world, "missed", starts_at=starts_at, now=now, member=False)
        incident_id = world.incidents["missed"]
        c = t.campaigns
        campaign_id = conn.execute(
            sa.select(c.c.id).where(c.c.incident_id == incident_id)
        ).scalar_one()
        if campaign:
            conn.execute(c.update().where(c.c.id == campaign_id).values(**campaign))
    return AppealWorld(world, incident_id, campaign_id, starts_at)


def appeal_link(container: Container, world: AppealWorld) -> str:
    """A fresh appeal link of the account for the incident (as a status e-mail carries)."""
    with container.uow() as uow:
        tokens = issue_links(uow, world.account_id, [world.incident_id], container.now())
        uow.commit()
    return tokens[world.incident_id][0]


def write_attempts(
    container: Container, world: AppealWorld, rows: list[tuple[float, str, str]], name: str = "a"
) -> str:
    """An attempt log (minutes after the incident's start, outcome, region) for the account,
    plus another account's failures; the campaign reads it. Returns its path."""
    path = Path(container.settings.mail_dir).parent / f"attempts-{name}.csv"
    attempts = [
        attempt(
            world.account_id,
            (world.starts_at + timedelta(minutes=m)).isoformat(),
            outcome=outcome,
            region=region,
        )
        for m, outcome, region in rows
    ]
    attempts.append(attempt("someone-else", (world.starts_at + timedelta(minutes=3)).isoformat()))
    write_csv(path, ATTEMPT_COLUMNS, attempts)
    with container.engine.begin() as conn:
        conn.execute(
            t.campaigns.update()
            .where(t.campaigns.c.id == world.campaign_id)
            .values(events_source=str(path))
        )
    return str(path)


def file_appeal_for(container: Container, world: AppealWorld, note: str | None = None) -> str:
    """File the account's appeal through a fresh link; returns the appeal's id."""
    token = appeal_link(container, world)
    with container.uow() as uow:
        file_appeal(uow, token, note, container.now())
        uow.commit()
    with container.engine.connect() as conn:
        return str(
            conn.execute(
                sa.select(appeals.c.id).where(appeals.c.account_id == world.account_id)
            ).scalar_one()
        )
