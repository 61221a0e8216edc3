"""Launch: one offer per eligible account, its link and its e-mail, committed chunk by chunk.

A launch moves the campaign from `approved` to `launching` (recording how many accounts it
will offer), then writes chunks of offers, each in a transaction of its own that also moves
the campaign's progress (`launch_issued`, `launch_cursor`); when no eligible account is left
without an offer, the campaign becomes `launched`. Killed at any instant, the campaign reads
`launching` with its progress, and launching it again finishes the work.

Exactly once is held by the database, not by this loop: each chunk takes the campaign's row
lock (on SQLite, BEGIN IMMEDIATE) and offers the next eligible accounts that have no offer for
the incident yet; UNIQUE (account_id, incident_id) refuses a second offer and the launch
e-mail's id is derived from its offer's (one per offer, by primary key), so a chunk that
raced another launch fails whole and is chosen again. Two launches of one campaign at once
take turns chunk by chunk and issue nothing twice. E-mails of committed chunks may be sent
while later chunks are written.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidState, LaunchInterrupted
from makegood.domain.offers import CampaignState, check_launchable
from makegood.domain.policy import Mode
from makegood.services.channels import configured_channels, launch_rows
from makegood.services.launch_rows import (
    CREDIT_COLUMNS,
    ChunkRows,
    LaunchTerms,
    chunk_rows,
    credit_dicts,
)
from makegood.store.uow import UnitOfWork

BATCH = 5_000
# PostgreSQL takes the rows by COPY: larger chunks mean fewer round trips and commits.
BATCH_POSTGRESQL = 20_000
# A freshly chosen chunk refused this many times in a row means something else offers the
# same accounts (another campaign of the incident launching now): stop and say so.
MAX_REFUSALS = 3
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LaunchResult:
    campaign_id: str
    offers: int  # the campaign's offers in all (for a resumed launch, not only this run's)
    already_launched: bool
    expires_at: datetime | None
    resumed: bool = False


@dataclass(frozen=True)
class _Started:
    terms: LaunchTerms
    resumed: bool


def launch_campaign(
    container: Container, campaign_id: str, actor: str = "cli", progress: Progress | None = None
) -> LaunchResult:
    """Issue the offers of an approved campaign exactly once, or finish an interrupted launch;
    launching a launched campaign issues nothing."""
    started = _start(container, campaign_id, actor)
    if isinstance(started, LaunchResult):
        return started
    try:
        issued = _issue(container, started.terms, actor, progress)
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise LaunchInterrupted(
            f"the launch of {campaign_id} lost the database ({type(exc.orig).__name__}); the "
            f"offers committed so far stand: run `makegood campaign launch {campaign_id}` again "
            "to finish it"
        ) from exc
    return LaunchResult(
        campaign_id, issued, False, started.terms.expires_at, resumed=started.resumed
    )


def _start(container: Container, campaign_id: str, actor: str) -> _Started | LaunchResult:
    """approved -> launching (with the total to issue), or the state of a launch under way."""
    from makegood.services.campaigns import get_campaign

    now = container.now()
    with container.uow() as uow:
        campaign = get_campaign(uow, campaign_id, lock=True)
        raw = campaign.raw
        if campaign.state == CampaignState.LAUNCHED:
            expiry = _expiry(campaign.launched_at, campaign.claim_days)
            return LaunchResult(campaign_id, 0, True, expiry)
        check_launchable(campaign.state)
        resumed = campaign.state == CampaignState.LAUNCHING
        if not resumed:
            total = uow.offers.count_unoffered_members(campaign_id, campaign.incident_id)
            uow.campaigns.start_launch(campaign_id, now, actor, total)
            uow.commit()
        launched_at = now if not resumed else raw["launched_at"]
        terms = LaunchTerms(
            campaign_id=campaign_id,
            incident_id=campaign.incident_id,
            expires_at=launched_at + timedelta(days=campaign.claim_days),
            auto=campaign.mode == Mode.AUTO,
        )
        return _Started(terms, resumed)


def _expiry(launched_at: datetime | None, days: int) -> datetime | None:
    return launched_at + timedelta(days=days) if launched_at else None


@dataclass
class _Ahead:
    """The chunk after `after`, chosen and prepared while the previous one was written."""

    after: str
    rows: Future[ChunkRows | None]  # None: no eligible account was left


def _issue(container: Container, terms: LaunchTerms, actor: str, progress: Progress | None) -> int:
    """Write chunks until none is left; then `launched`. Returns the campaign's offers."""
    postgres = container.engine.dialect.name == "postgresql"
    size = container.settings.launch_chunk_size or (BATCH_POSTGRESQL if postgres else BATCH)
    channels = configured_channels(container.settings)
    ahead: _Ahead | None = None
    refusals = 0
    # The next chunk's rows are made in a second thread while this one waits for the database
    # (psycopg releases the GIL while COPY is processed).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="launch-rows") as maker:
        while True:
            now = container.now()
            try:
                with container.uow() as uow:
                    state = uow.campaigns.lock_launch(terms.campaign_id)
                    if state["state"] != CampaignState.LAUNCHING:
                        return int(state["launch_issued"] or 0)  # another launch finished it
                    cursor = str(state["launch_cursor"] or "")
                    if ahead is not None and ahead.after == cursor:
                        rows = ahead.rows.result()
                    else:  # first chunk, or another launch moved on meanwhile
                        rows = _next_chunk(uow, terms, cursor, size, now, postgres)
                    if rows is None:
                        issued = _finish(uow, terms.campaign_id, now)
                        uow.commit()
                        return issued
                    if postgres:
                        # Read the next chunk on a second connection while this one is
                        # written: it lies past this chunk's accounts, so this transaction's
                        # offers do not concern it; an account another launch offers meanwhile
                        # makes that chunk fail whole and be chosen again (below).
                        following = maker.submit(
                            _read_ahead, container, terms, rows.scanned_to, size, now
                        )
                    else:  # SQLite: one writer, and every transaction takes the write lock
                        following = _done(
                            _next_chunk(uow, terms, rows.scanned_to, size, now, postgres)
                        )
                    ahead = _Ahead(rows.scanned_to, following)
                    issued = _write(uow, rows, channels, now, actor)
                    uow.commit()
            except sa.exc.IntegrityError:
                # A concurrent launch offered some of these accounts first: choose again.
                ahead = None
                refusals += 1
                if refusals >= MAX_REFUSALS:
                    raise InvalidState(
                        "another campaign of this incident is offering the same accounts right "
                        "now; run launch again when it is done"
                    ) from None
                continue
            refusals = 0
            if progress:
                progress(issued)


def _next_chunk(
    uow: UnitOfWork, terms: LaunchTerms, after: str, size: int, now: datetime, postgres: bool
) -> ChunkRows | None:
    """The rows of the next eligible accounts after `after` (None: none is left)."""
    members, scanned_to = uow.offers.next_unoffered_members(
        terms.campaign_id, terms.incident_id, after, size
    )
    if not members or scanned_to is None:
        return None
    return chunk_rows(members, scanned_to, terms, now, postgres)


def _read_ahead(
    container: Container, terms: LaunchTerms, after: str, size: int, now: datetime
) -> ChunkRows | None:
    """`_next_chunk` in a read-only transaction of its own (PostgreSQL)."""
    with container.uow() as uow:
        return _next_chunk(uow, terms, after, size, now, postgres=True)


def _done(rows: ChunkRows | None) -> Future[ChunkRows | None]:
    future: Future[ChunkRows | None] = Future()
    future.set_result(rows)
    return future


def _write(
    uow: UnitOfWork, rows: ChunkRows, channels: tuple[str, ...], now: datetime, actor: str
) -> int:
    """Write one chunk and move the campaign's progress; returns its offers issued so far."""
    # On PostgreSQL the chunk comes as a COPY stream; its rows as tuples are made only for SQLite.
    # One row per offer: its launch e-mail is pending on it until the outbox takes it.
    if rows.offers_binary:
        uow.offers.insert((), rows.offers_binary, rows.email_ranges)
    else:
        uow.offers.insert(rows.offers)
    if channels:  # SMS / push (issue 5): a row and a link of its own per offer and channel
        for offer_id, member in zip(rows.offer_ids, rows.members, strict=True):
            links, messages = launch_rows(
                channels,
                offer_id=offer_id,
                account_id=member[0],
                template=rows.template,
                needs_link=rows.digests is not None,
                now=now,
            )
            uow.offers.add_links(links)
            uow.outbox.queue(messages)
    if rows.credits:  # automatic mode: the credit and its `granted` ledger entry
        uow.credits.add_rows(CREDIT_COLUMNS, rows.credits)
        uow.ledger.add_grants(credit_dicts(rows), now, actor)
    return uow.campaigns.advance_launch(rows.terms.campaign_id, len(rows.members), rows.scanned_to)


def _finish(uow: UnitOfWork, campaign_id: str, now: datetime) -> int:
    """launching -> launched, once (a concurrent launch that got here first already did)."""
    row = uow.campaigns.finish_launch(campaign_id)
    if row is None:
        return uow.campaigns.launch_issued(campaign_id)
    issued = int(row["launch_issued"])
    expires_at = row["launched_at"] + timedelta(days=row["claim_days"])
    uow.audit.record(
        now,
        row["launched_by"],
        "campaign.launched",
        "campaign",
        campaign_id,
        {"offers": issued, "expires_at": expires_at.isoformat(), "mode": row["mode"]},
    )
    return issued
