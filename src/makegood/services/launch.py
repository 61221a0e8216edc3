"""Launch: one offer per eligible account, its token and its messages, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from makegood.billing import journal
from makegood.bootstrap import Container
from makegood.domain.errors import InvalidState
from makegood.domain.ids import new_ids
from makegood.domain.offers import CampaignState, OfferState, check_transition
from makegood.domain.policy import Mode
from makegood.domain.tokens import new_tokens_with_hashes
from makegood.notify.channels import configured_channels, launch_rows
from makegood.services.audit import record
from makegood.services.bulk_insert import copy_encoded, encode_rows, insert_dicts, insert_rows
from makegood.services.campaigns import get_campaign
from makegood.store import tables as t

BATCH = 5_000
# PostgreSQL takes the rows by COPY: larger batches mean fewer round trips, memory stays bounded.
BATCH_POSTGRESQL = 20_000
Progress = Callable[[int], None]
Member = tuple[str, int, str, str]  # account_id, amount_minor, currency, plan_id
Rows = dict[sa.Table, tuple[tuple[str, ...], list[tuple[Any, ...]]]]


@dataclass(frozen=True)
class LaunchResult:
    campaign_id: str
    offers: int
    already_launched: bool
    expires_at: datetime | None


def launch_campaign(
    container: Container, campaign_id: str, actor: str = "cli", progress: Progress | None = None
) -> LaunchResult:
    """Issue the offers of an approved campaign exactly once; a second launch issues nothing."""
    now = container.now()
    with container.uow() as uow:
        campaign = get_campaign(uow, campaign_id, lock=True)
        if campaign.state == CampaignState.LAUNCHED:
            return LaunchResult(
                campaign_id, 0, True, _expiry(campaign.launched_at, campaign.claim_days)
            )
        check_transition(campaign.state, CampaignState.LAUNCHED)
        # The conditional transition is the guard against two launches running at once.
        changed = uow.conn.execute(
            t.campaigns.update()
            .where(t.campaigns.c.id == campaign_id, t.campaigns.c.state == CampaignState.APPROVED)
            .values(state=CampaignState.LAUNCHED, launched_at=now, launched_by=actor)
        ).rowcount
        if changed != 1:
            return LaunchResult(campaign_id, 0, True, None)
        expires_at = now + timedelta(days=campaign.claim_days)
        issued = 0
        auto = campaign.mode == Mode.AUTO
        postgres = uow.conn.dialect.name == "postgresql"
        size = BATCH_POSTGRESQL if postgres else BATCH
        channels = configured_channels(container.settings)

        def prepare(members: list[Member]) -> tuple[Rows, dict[sa.Table, list[str]]]:
            rows = _offer_rows(members, campaign_id, campaign.incident_id, now, expires_at, auto)
            if not postgres:
                return rows, {}
            return rows, {table: encode_rows(values) for table, (_, values) in rows.items()}

        def next_members(after: str) -> list[Member]:
            return _next_members(uow.conn, campaign_id, campaign.incident_id, after, size)

        try:
            # The next batch's rows are made in a second thread while this one waits for the
            # database (psycopg releases the GIL while COPY is processed): on PostgreSQL the
            # launch then costs little more than the COPY itself. Same transaction throughout.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="launch-rows") as maker:
                members = next_members("")
                pending = maker.submit(prepare, members) if members else None
                while pending is not None:
                    following = next_members(members[-1][0])
                    upcoming = maker.submit(prepare, following) if following else None
                    rows, texts = pending.result()
                    for table, (columns, values) in rows.items():
                        if postgres:
                            copy_encoded(uow.conn, table, columns, texts[table])
                        else:
                            insert_rows(uow.conn, table, columns, values)
                    extra_tokens, extra_messages = _channel_rows(rows, channels, now, auto)
                    insert_dicts(uow.conn, t.claim_tokens, extra_tokens)
                    insert_dicts(uow.conn, t.messages, extra_messages)
                    if auto:  # auto mode's ledger: a granted entry per credit
                        columns, values = rows[t.credits]
                        credits = [dict(zip(columns, v, strict=True)) for v in values]
                        journal.add_grants(uow.conn, credits, now, actor)
                    issued += len(members)
                    if progress:
                        progress(issued)
                    members, pending = following, upcoming
        except sa.exc.IntegrityError:
            raise InvalidState(
                "another campaign of this incident offered some of these accounts at the same "
                "time; nothing was launched: run launch again"
            ) from None
        record(
            uow,
            now,
            actor,
            "campaign.launched",
            "campaign",
            campaign_id,
            {"offers": issued, "expires_at": expires_at.isoformat(), "mode": campaign.mode},
        )
        uow.commit()
    return LaunchResult(campaign_id, issued, False, expires_at)


def _expiry(launched_at: datetime | None, days: int) -> datetime | None:
    return launched_at + timedelta(days=days) if launched_at else None


def _next_members(
    conn: sa.Connection, campaign_id: str, incident_id: str, after: str, limit: int
) -> list[Member]:
    """The next eligible members by account id, skipping accounts offered for this incident."""
    cm, o = t.cohort_members, t.offers
    offered = sa.select(o.c.id).where(
        o.c.incident_id == incident_id, o.c.account_id == cm.c.account_id
    )
    query = (
        sa.select(cm.c.account_id, cm.c.amount_minor, cm.c.currency, cm.c.plan_id)
        .where(
            cm.c.campaign_id == campaign_id,
            cm.c.excluded_reason.is_(None),
            cm.c.account_id > after,
            ~offered.exists(),
        )
        .order_by(cm.c.account_id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]


def _channel_rows(
    rows: Rows, channels: tuple[str, ...], now: datetime, auto: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SMS / push rows (issue 5), only for the channels the operator configured."""
    tokens: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    if not channels:
        return tokens, messages
    for offer in rows[t.offers][1]:
        more_tokens, more_messages = launch_rows(
            channels,
            offer_id=offer[0],
            account_id=offer[3],
            template="offer_granted" if auto else "offer_claim",
            needs_link=not auto,
            now=now,
        )
        tokens += more_tokens
        messages += more_messages
    return tokens, messages


OFFER_COLUMNS = (
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
)
TOKEN_COLUMNS = ("token_hash", "offer_id", "created_at")
CREDIT_COLUMNS = (
    "id",
    "offer_id",
    "account_id",
    "campaign_id",
    "amount_minor",
    "currency",
    "granted_at",
    "applied_minor",
)
MESSAGE_COLUMNS = (
    "id",
    "offer_id",
    "account_id",
    "channel",
    "template",
    "state",
    "attempts",
    "next_attempt_at",
    "claim_token",
    "created_at",
)


def _offer_rows(
    members: list[Member],
    campaign_id: str,
    incident_id: str,
    now: datetime,
    expires_at: datetime,
    auto: bool,
) -> Rows:
    """Offers, then tokens or credits, then messages (the order foreign keys need)."""
    count = len(members)
    offer_ids = new_ids("ofr", count)
    message_ids = new_ids("msg", 2 * count)
    template = "offer_granted" if auto else "offer_claim"
    state = OfferState.GRANTED if auto else OfferState.OPEN
    credited_at, credited_via = (now, "auto") if auto else (None, None)
    offers = [
        (
            offer_id,
            campaign_id,
            incident_id,
            account_id,
            state,
            amount,
            currency,
            plan_id,
            now,
            expires_at,
            credited_at,
            credited_via,
        )
        for offer_id, (account_id, amount, currency, plan_id) in zip(
            offer_ids, members, strict=True
        )
    ]
    tokens: list[tuple[Any, ...]] = []
    credits: list[tuple[Any, ...]] = []
    raw_tokens: list[str | None]
    if auto:
        credit_ids = new_ids("crd", count)
        credits = [
            (credit_id, offer_id, m[0], campaign_id, m[1], m[2], now, 0)
            for credit_id, offer_id, m in zip(credit_ids, offer_ids, members, strict=True)
        ]
        raw_tokens = [None] * count
    else:
        pairs = new_tokens_with_hashes(count)
        tokens = [(h, offer_id, now) for (_, h), offer_id in zip(pairs, offer_ids, strict=True)]
        raw_tokens = [token for token, _ in pairs]
    messages: list[tuple[Any, ...]] = []
    for i, (offer_id, member, token) in enumerate(zip(offer_ids, members, raw_tokens, strict=True)):
        account_id = member[0]
        # Only the e-mail carries the raw token, and only until it is accepted.
        email = message_ids[2 * i]
        inapp = message_ids[2 * i + 1]
        messages.append(
            (email, offer_id, account_id, "email", template, "pending", 0, now, token, now)
        )
        messages.append(
            (inapp, offer_id, account_id, "inapp", template, "unread", 0, now, None, now)
        )
    return {
        t.offers: (OFFER_COLUMNS, offers),
        t.claim_tokens: (TOKEN_COLUMNS, tokens),
        t.credits: (CREDIT_COLUMNS, credits),
        t.messages: (MESSAGE_COLUMNS, messages),
    }
