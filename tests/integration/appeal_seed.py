"""An account the snapshot did not find affected by a launched campaign's incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.appeals import issue_links
from makegood.store import tables as t
from tests.integration.credit_status_seed import StatusWorld, add_incident, seed_account


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
    with container.engine.begin() as conn:
        tokens = issue_links(conn, world.account_id, [world.incident_id], container.now())
    return tokens[world.incident_id][0]


def mails(container: Container) -> list[EmailMessage]:
    """The e-mails the file transport wrote (MAKEGOOD_MAIL_DIR), oldest name first."""
    folder = Path(container.settings.mail_dir)
    if not folder.exists():
        return []
    return [
        message_from_bytes(p.read_bytes(), policy=default)  # type: ignore[misc]
        for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def write_attempts(
    container: Container, world: AppealWorld, rows: list[tuple[float, str, str]], name: str = "a"
) -> str:
    """An attempt log (minutes after the incident's start, outcome, region) for the account,
    plus another account's failures; the campaign reads it. Returns its path."""
    from tests.factories import ATTEMPT_COLUMNS, attempt, write_csv

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
    from makegood.services.appeals import file_appeal
    from makegood.store.tables_appeals import appeals

    token = appeal_link(container, world)
    with container.uow() as uow:
        file_appeal(uow, token, note, container.now())
    with container.engine.connect() as conn:
        return str(
            conn.execute(
                sa.select(appeals.c.id).where(appeals.c.account_id == world.account_id)
            ).scalar_one()
        )
