"""The campaigns table: a campaign's terms, state and launch progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from makegood.domain.offers import CampaignState
from makegood.store.repository import Repository
from makegood.store.tables_campaigns import campaigns


class Campaigns(Repository):
    """The campaigns table: a campaign's terms, state and launch progress (`uow.campaigns`)."""

    def add(self, row: Mapping[str, Any]) -> None:
        """Insert a campaign (its columns as the build writes them)."""
        self.conn.execute(campaigns.insert().values(**row))

    def get(self, campaign_id: str, lock: bool = False) -> sa.RowMapping | None:
        """The campaign's row, or None; `lock` takes a row lock until commit (PostgreSQL)."""
        query = sa.select(campaigns).where(campaigns.c.id == campaign_id)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).mappings().first()

    def newest(self, incident_id: str | None, limit: int) -> list[sa.RowMapping]:
        """Up to `limit` campaigns (of one incident, or all), newest first: their id, incident,
        state, mode, accounts affected, who created, approved and launched them, and when."""
        c = campaigns
        query = sa.select(
            c.c.id,
            c.c.incident_id,
            c.c.state,
            c.c.mode,
            c.c.affected_count,
            c.c.created_at,
            c.c.created_by,
            c.c.approved_by,
            c.c.launched_at,
        )
        if incident_id is not None:
            query = query.where(c.c.incident_id == incident_id)
        query = query.order_by(c.c.created_at.desc(), c.c.id.desc()).limit(limit)
        return list(self.conn.execute(query).mappings())

    def newest_launched(self, incident_ids: Sequence[str]) -> dict[str, Any]:
        """incident id -> its newest launched campaign (id, incident_id, launched_at,
        appeal_days)."""
        if not incident_ids:
            return {}
        c = campaigns
        rows = self.conn.execute(
            sa.select(c.c.id, c.c.incident_id, c.c.launched_at, c.c.appeal_days)
            .where(
                c.c.incident_id.in_(list(incident_ids)),
                c.c.state == CampaignState.LAUNCHED,
                c.c.launched_at.is_not(None),
            )
            .order_by(c.c.launched_at.desc(), c.c.id.desc())
        ).mappings()
        chosen: dict[str, Any] = {}
        for r in rows:
            chosen.setdefault(r["incident_id"], r)
        return chosen

    def hold(self, campaign_id: str) -> bool:
        """Whether the campaign exists; if so it cannot be deleted (nor its id changed) before
        this transaction ends (PostgreSQL: FOR KEY SHARE; SQLite: the writer's lock)."""
        c = campaigns
        query = sa.select(c.c.id).where(c.c.id == campaign_id)
        return (
            self.conn.execute(query.with_for_update(read=True, key_share=True)).first() is not None
        )

    def approve(self, campaign_id: str, now: datetime, actor: str) -> bool:
        """draft -> approved by `actor` at `now`; False when it was not a draft."""
        c = campaigns
        changed = self.conn.execute(
            c.update()
            .where(c.c.id == campaign_id, c.c.state == CampaignState.DRAFT)
            .values(state=CampaignState.APPROVED, approved_at=now, approved_by=actor)
        ).rowcount
        return changed == 1

    def set_affected(self, campaign_id: str, affected: int) -> None:
        """The number of accounts its snapshot found affected."""
        c = campaigns
        self.conn.execute(c.update().where(c.c.id == campaign_id).values(affected_count=affected))

    def end_building(self, campaign_id: str, to: str) -> None:
        """building -> `to` (draft or failed); a campaign in another state is left as it is."""
        c = campaigns
        self.conn.execute(
            c.update()
            .where(c.c.id == campaign_id, c.c.state == CampaignState.BUILDING)
            .values(state=to)
        )

    # A launch's progress (services/launch.py): approved -> launching -> launched, with how
    # many offers it will issue, has issued, and the last cohort account it looked at.

    def start_launch(self, campaign_id: str, now: datetime, actor: str, total: int) -> None:
        """approved -> launching, with the number of offers to issue."""
        c = campaigns
        self.conn.execute(
            c.update()
            .where(c.c.id == campaign_id, c.c.state == CampaignState.APPROVED)
            .values(
                state=CampaignState.LAUNCHING,
                launched_at=now,
                launched_by=actor,
                launch_issued=0,
                launch_total=total,
                launch_cursor="",
            )
        )

    def lock_launch(self, campaign_id: str) -> sa.RowMapping:
        """The campaign's state, offers issued and cursor, its row locked until commit."""
        c = campaigns
        query = (
            sa.select(c.c.state, c.c.launch_issued, c.c.launch_cursor)
            .where(c.c.id == campaign_id)
            .with_for_update()
        )
        return self.conn.execute(query).mappings().one()

    def advance_launch(self, campaign_id: str, offered: int, cursor: str) -> int:
        """Count `offered` more offers and move the cursor; the offers issued so far."""
        c = campaigns
        query = (
            c.update()
            .where(c.c.id == campaign_id)
            .values(launch_issued=c.c.launch_issued + offered, launch_cursor=cursor)
            .returning(c.c.launch_issued)
        )
        return int(self.conn.execute(query).scalar_one())

    def finish_launch(self, campaign_id: str) -> sa.RowMapping | None:
        """launching -> launched: its issued count, launch instant and actor, claim days and
        mode; None when it was not launching (a concurrent launch finished it first)."""
        c = campaigns
        query = (
            c.update()
            .where(c.c.id == campaign_id, c.c.state == CampaignState.LAUNCHING)
            .values(state=CampaignState.LAUNCHED)
            .returning(
                c.c.launch_issued, c.c.launched_at, c.c.launched_by, c.c.claim_days, c.c.mode
            )
        )
        return self.conn.execute(query).mappings().one_or_none()

    def launch_issued(self, campaign_id: str) -> int:
        query = sa.select(campaigns.c.launch_issued).where(campaigns.c.id == campaign_id)
        return int(self.conn.execute(query).scalar_one() or 0)
