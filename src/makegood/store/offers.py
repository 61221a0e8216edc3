"""The offers table's home: issuing offers in bulk, finding one by its claim link, its links.

An offer carries the hash of its launch e-mail's claim link (`offers.token_hash`, UNIQUE); its
other links (SMS, push, reminders, and links replaced by a resend, revoked) are rows of
`claim_tokens`. A link is looked up by hash in both, so the raw token never reaches a query.
Every function runs in the caller's transaction; none commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from makegood.domain.offers import OfferState
from makegood.store import tables as t
from makegood.store.bulk_insert import Row, copy_encoded
from makegood.store.repository import Repository

# The columns a launch writes, in COPY order (the in-app message starts `unread`).
LAUNCH_COLUMNS = (
    "id",
    "campaign_id",
    "incident_id",
    "account_id",
    "state",
    "amount_minor",
    "currency",
    "plan_id",
    "created_at",
    "expires_at",
    "credited_at",
    "credited_via",
    "token_hash",
    "inapp_state",
)
Member = tuple[str, int, str, str]  # account_id, amount_minor, currency, plan_id

# The offer a live link leads to, in SQL (PostgreSQL's one-statement claim uses it as is).
LIVE_LINK_OFFER_SQL = (
    "(SELECT id FROM offers WHERE token_hash = :token_hash "
    "UNION ALL SELECT offer_id FROM claim_tokens "
    "WHERE token_hash = :token_hash AND revoked_at IS NULL LIMIT 1)"
)

# The claimable rule (`domain.offers.claimable`) as SQL text, for PostgreSQL's one-statement
# claim, whose `:now` parameter is the claim's instant.
CLAIMABLE_SQL = "state = 'open' AND expires_at > :now"


def claimable_clause(
    offers_table: sa.Table | sa.Alias, now: datetime | None, *, even_after_expiry: bool = False
) -> sa.ColumnElement[bool]:
    """`domain.offers.claimable` as a WHERE clause on `offers_table`: open, and (unless
    `even_after_expiry`, when `now` may be None) its window still open at `now`."""
    is_open = offers_table.c.state == OfferState.OPEN
    if even_after_expiry:
        return is_open
    if now is None:
        raise ValueError("now is needed unless even_after_expiry")
    return sa.and_(is_open, offers_table.c.expires_at > now)


def open_of_campaign(campaign_id: str) -> sa.Select[Any]:
    """The ids of the campaign's open offers, whether or not their window has closed (what a
    reversal withdraws)."""
    o = t.offers
    return sa.select(o.c.id).where(
        o.c.campaign_id == campaign_id, claimable_clause(o, None, even_after_expiry=True)
    )


def insert(
    conn: sa.Connection, columns: Sequence[str], rows: Sequence[Row], copy_text: Sequence[str]
) -> None:
    """Write new offers: by COPY on PostgreSQL (`copy_text` from `bulk_insert.encode_rows`),
    else by executemany. UNIQUE (account_id, incident_id) refuses a second offer."""
    if conn.dialect.name == "postgresql":
        copy_encoded(conn, t.offers, columns, copy_text)
    elif rows:
        conn.execute(t.offers.insert(), [dict(zip(columns, r, strict=True)) for r in rows])


def next_unoffered_members(
    conn: sa.Connection, campaign_id: str, incident_id: str, after: str, limit: int
) -> tuple[list[Member], str | None]:
    """The campaign's next eligible members by account id after `after`, skipping accounts
    that already have an offer for this incident (from this launch or another campaign), and
    the last account id looked at (None: no member is left after `after`).

    Two plain steps rather than one query with NOT EXISTS: the members come in primary-key
    order and the offered ones are probed by the unique index, whatever the planner's
    statistics say (a fresh table's could otherwise make each chunk scan every offer).
    """
    cm, o = t.cohort_members, t.offers
    members: list[Member] = []
    last: str | None = None
    while not members:
        rows = conn.execute(
            sa.select(
                cm.c.account_id,
                cm.c.amount_minor,
                cm.c.currency,
                cm.c.plan_id,
                cm.c.excluded_reason,
            )
            .where(cm.c.campaign_id == campaign_id, cm.c.account_id > after)
            .order_by(cm.c.account_id)
            .limit(limit)
        ).all()
        if not rows:
            break
        last = after = rows[-1][0]
        eligible = [r for r in rows if r.excluded_reason is None]
        offered: set[str] = set()
        if eligible:
            ids = [r.account_id for r in eligible]
            # PostgreSQL: one array parameter instead of a chunk's worth of bind parameters.
            among = (
                o.c.account_id == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(sa.String)))
                if conn.dialect.name == "postgresql"
                else o.c.account_id.in_(ids)
            )
            offered = set(
                conn.execute(
                    sa.select(o.c.account_id).where(o.c.incident_id == incident_id, among)
                ).scalars()
            )
        members = [(r[0], r[1], r[2], r[3]) for r in eligible if r[0] not in offered]
    return members, last


def count_unoffered_members(conn: sa.Connection, campaign_id: str, incident_id: str) -> int:
    """How many eligible members of the campaign have no offer for the incident yet."""
    cm, o = t.cohort_members, t.offers
    offered = sa.select(o.c.id).where(
        o.c.incident_id == incident_id, o.c.account_id == cm.c.account_id
    )
    query = sa.select(sa.func.count()).where(
        cm.c.campaign_id == campaign_id, cm.c.excluded_reason.is_(None), ~offered.exists()
    )
    return int(conn.execute(query).scalar_one())


def count_for_campaign(conn: sa.Connection, campaign_id: str) -> int:
    query = sa.select(sa.func.count()).where(t.offers.c.campaign_id == campaign_id)
    return int(conn.execute(query).scalar_one())


def offer_for_link(conn: sa.Connection, token_hash: str) -> tuple[str, bool] | None:
    """(offer id, revoked?) of the link with this hash, or None for an unknown link."""
    o, ct = t.offers, t.claim_tokens
    query = sa.union_all(
        sa.select(o.c.id, sa.literal(False).label("revoked")).where(o.c.token_hash == token_hash),
        sa.select(ct.c.offer_id, ct.c.revoked_at.is_not(None).label("revoked")).where(
            ct.c.token_hash == token_hash
        ),
    )
    row = conn.execute(query).first()
    return None if row is None else (str(row[0]), bool(row[1]))


def add_links(conn: sa.Connection, links: Sequence[dict[str, Any]]) -> None:
    """Extra claim links of existing offers (keys token_hash, offer_id, created_at)."""
    if links:
        conn.execute(t.claim_tokens.insert(), list(links))


def replace_links(conn: sa.Connection, offer_id: str, token_hash: str, now: datetime) -> None:
    """Revoke every link of the offer and give it `token_hash` as its one live link.

    The replaced launch link is kept as a revoked row of `claim_tokens`: a revoked link reads
    as unknown, unless its offer was withdrawn (then the page says so), as before.
    """
    o, ct = t.offers, t.claim_tokens
    conn.execute(
        ct.update()
        .where(ct.c.offer_id == offer_id, ct.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    old = conn.execute(sa.select(o.c.token_hash).where(o.c.id == offer_id)).scalar_one_or_none()
    if old is not None:
        conn.execute(
            ct.insert().values(token_hash=old, offer_id=offer_id, created_at=now, revoked_at=now)
        )
    conn.execute(o.update().where(o.c.id == offer_id).values(token_hash=token_hash))


def live_link_hashes(conn: sa.Connection) -> set[str]:
    """Every link hash that leads to an offer (tests and the hostile-token checks read it)."""
    o, ct = t.offers, t.claim_tokens
    launch = conn.execute(sa.select(o.c.token_hash).where(o.c.token_hash.is_not(None)))
    extra = conn.execute(sa.select(ct.c.token_hash).where(ct.c.revoked_at.is_(None)))
    return {str(h) for h in launch.scalars()} | {str(h) for h in extra.scalars()}


class Offers(Repository):
    """The offers and claim_tokens tables (`uow.offers`)."""

    def of_campaign(self, campaign_id: str) -> dict[str, sa.Row[Any]]:
        """offer id -> the offer row, for every offer of `campaign_id`."""
        query = sa.select(t.offers).where(t.offers.c.campaign_id == campaign_id)
        return {row.id: row for row in self.conn.execute(query)}

    def revoke_open(self, campaign_id: str) -> int:
        """Revoke the campaign's open offers, whether or not their window has closed (a
        reversal); returns how many."""
        o = t.offers
        query = (
            o.update()
            .where(
                o.c.campaign_id == campaign_id, claimable_clause(o, None, even_after_expiry=True)
            )
            .values(state=OfferState.REVOKED)
        )
        return int(self.conn.execute(query).rowcount)
