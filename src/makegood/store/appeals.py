"""The home of appeal links and appeals: every read and write of both tables goes here.

Links are found by the SHA-256 of their token, never by the token. An appeal is written with
INSERT ... ON CONFLICT DO NOTHING on UNIQUE (account_id, incident_id), so two filings at once
make one appeal; state changes are conditional UPDATEs on the state they leave. Every function
runs in the caller's transaction; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from makegood.store import tables as t
from makegood.store.repository import Repository
from makegood.store.tables_appeals import appeal_links, appeals
from makegood.store.upsert import insert_new

# An appeal's e-mails have ids derived from the appeal's, so each exists at most once (by
# primary key) and the sender finds its appeal: "msg_" + the appeal id's body + a suffix.
EMAIL_SUFFIXES = {"appeal_review": "_r", "appeal_declined": "_d"}


def email_id(appeal_id: str, template: str) -> str:
    return "msg_" + appeal_id.partition("_")[2] + EMAIL_SUFFIXES[template]


def appeal_id_of_email(message_id: str) -> str:
    return "apl_" + message_id.partition("_")[2][:-2]


class Appeals(Repository):
    """The appeal_links and appeals tables (`uow.appeals`)."""

    def for_email(self, appeal_id: str) -> sa.RowMapping | None:
        """An appeal with what its e-mails say: the incident's title and window."""
        a, i = appeals, t.incidents
        query = (
            sa.select(
                a,
                i.c.title.label("incident_title"),
                i.c.starts_at.label("incident_starts_at"),
                i.c.ends_at.label("incident_ends_at"),
            )
            .join(i, i.c.id == a.c.incident_id)
            .where(a.c.id == appeal_id)
        )
        return self.conn.execute(query).mappings().first()

    def add_links(self, links: Sequence[dict[str, Any]]) -> None:
        """New appeal links (token_hash, account_id, incident_id, campaign_id, created_at,
        expires_at)."""
        if links:
            self.conn.execute(appeal_links.insert(), list(links))

    def link(self, token_hash: str) -> sa.RowMapping | None:
        """The link with this hash, with its incident's title and window, or None."""
        al, i = appeal_links, t.incidents
        return (
            self.conn.execute(
                sa.select(
                    al,
                    i.c.title.label("incident_title"),
                    i.c.starts_at.label("incident_starts_at"),
                    i.c.ends_at.label("incident_ends_at"),
                    t.accounts.c.locale,
                )
                .join(i, i.c.id == al.c.incident_id)
                .join(t.accounts, t.accounts.c.account_id == al.c.account_id)
                .where(al.c.token_hash == token_hash)
            )
            .mappings()
            .first()
        )

    def appeal_of(self, account_id: str, incident_id: str) -> sa.RowMapping | None:
        """The account's appeal for the incident, or None."""
        a = appeals
        query = sa.select(a).where(a.c.account_id == account_id, a.c.incident_id == incident_id)
        return self.conn.execute(query).mappings().first()

    def file(self, row: dict[str, Any]) -> bool:
        """Insert the appeal unless the account has one for the incident; True if inserted."""
        return insert_new(self.conn, appeals, row, ("account_id", "incident_id"))

    def get(self, appeal_id: str, lock: bool = False) -> sa.RowMapping | None:
        query = sa.select(appeals).where(appeals.c.id == appeal_id)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).mappings().first()

    def queued_ids(self, limit: int) -> list[str]:
        """Up to `limit` queued appeals, oldest first, locked (SKIP LOCKED on PostgreSQL, so
        several workers share them)."""
        a = appeals
        query = (
            sa.select(a.c.id)
            .where(a.c.state == "queued")
            .order_by(a.c.created_at, a.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [str(i) for i in self.conn.execute(query).scalars()]

    def count_queued(self) -> int:
        query = sa.select(sa.func.count()).select_from(appeals).where(appeals.c.state == "queued")
        return int(self.conn.execute(query).scalar_one())

    def move(self, appeal_id: str, leaving: str, values: dict[str, Any]) -> bool:
        """Move the appeal out of state `leaving` with `values` (its new state among them); False
        when it was no longer in `leaving` (another worker or agent moved it first)."""
        a = appeals
        result = self.conn.execute(
            a.update().where(a.c.id == appeal_id, a.c.state == leaving).values(**values)
        )
        return bool(result.rowcount == 1)

    def queue_page(self, limit: int = 200) -> list[sa.RowMapping]:
        """The console's appeal queue: `needs_review` first (oldest first), then the others
        (newest first), with the account's e-mail and the incident's title."""
        a, acc, i = appeals, t.accounts, t.incidents
        review_first = sa.case((a.c.state == "needs_review", 0), else_=1)
        query = (
            sa.select(
                a,
                acc.c.email,
                acc.c.locale,
                i.c.title.label("incident_title"),
                i.c.starts_at.label("incident_starts_at"),
                i.c.ends_at.label("incident_ends_at"),
            )
            .join(acc, acc.c.account_id == a.c.account_id)
            .join(i, i.c.id == a.c.incident_id)
            .order_by(
                review_first,
                sa.case((a.c.state == "needs_review", a.c.created_at)),
                a.c.created_at.desc(),
                a.c.id,
            )
            .limit(limit)
        )
        return list(self.conn.execute(query).mappings())

    def of_account(self, account_id: str) -> list[sa.RowMapping]:
        """The account's appeals, newest first, with each incident's title (the support page)."""
        a, i = appeals, t.incidents
        query = (
            sa.select(a, i.c.title.label("incident_title"))
            .join(i, i.c.id == a.c.incident_id)
            .where(a.c.account_id == account_id)
            .order_by(a.c.created_at.desc(), a.c.id)
        )
        return list(self.conn.execute(query).mappings())
