"""The rows one chunk of a launch writes, made from its members (pure: any thread may do it).

Per offer: the offer (carrying its link's hash and its in-app message) and its launch e-mail
(carrying the raw link until the server accepts it); in automatic mode a credit instead of a
link. Nothing else: see docs/architecture.md for the rows, index entries and foreign keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from makegood.domain.ids import new_ids
from makegood.domain.offers import OfferState
from makegood.domain.tokens import new_tokens_with_hashes
from makegood.store import offers, outbox
from makegood.store.bulk_insert import Row, copy_text

NULL = "\\N"
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


@dataclass(frozen=True)
class LaunchTerms:
    """What every offer of one launch shares."""

    campaign_id: str
    incident_id: str
    expires_at: datetime
    auto: bool


@dataclass
class ChunkRows:
    members: list[offers.Member]
    scanned_to: str  # the last cohort account looked at (the launch resumes after it)
    offers: list[Row] = field(default_factory=list)
    emails: list[Row] = field(default_factory=list)
    credits: list[Row] = field(default_factory=list)
    # COPY text per table, made only for PostgreSQL.
    offers_copy: list[str] = field(default_factory=list)
    emails_copy: list[str] = field(default_factory=list)


def chunk_rows(
    members: list[offers.Member], scanned_to: str, terms: LaunchTerms, now: datetime, copy: bool
) -> ChunkRows:
    """The rows of one chunk; `copy` also encodes them for PostgreSQL's COPY."""
    count = len(members)
    offer_ids = new_ids("ofr", count)
    auto = terms.auto
    state = OfferState.GRANTED if auto else OfferState.OPEN
    template = "offer_granted" if auto else "offer_claim"
    credited_at, credited_via = (now, "auto") if auto else (None, None)
    pairs: list[tuple[str | None, str | None]]
    pairs = [(None, None)] * count if auto else list(new_tokens_with_hashes(count))
    rows = ChunkRows(members, scanned_to)
    rows.offers = [
        (
            offer_id,
            terms.campaign_id,
            terms.incident_id,
            account_id,
            state,
            amount,
            currency,
            plan_id,
            now,
            terms.expires_at,
            credited_at,
            credited_via,
            digest,
            "unread",
        )
        for offer_id, (account_id, amount, currency, plan_id), (_, digest) in zip(
            offer_ids, members, pairs, strict=True
        )
    ]
    rows.emails = [
        (
            outbox.launch_email_id(offer_id),
            offer_id,
            member[0],
            "email",
            template,
            "pending",
            0,
            now,
            token,  # only the e-mail carries the raw link, and only until it is accepted
            now,
        )
        for offer_id, member, (token, _) in zip(offer_ids, members, pairs, strict=True)
    ]
    if auto:
        rows.credits = [
            (credit_id, offer_id, m[0], terms.campaign_id, m[1], m[2], now, 0)
            for credit_id, offer_id, m in zip(
                new_ids("crd", count), offer_ids, members, strict=True
            )
        ]
    if copy:
        rows.offers_copy = [_offers_copy(rows.offers, terms, now)]
        rows.emails_copy = [_emails_copy(rows.emails, template, now)]
    return rows


# COPY text, written per column rather than per value (most of a launch's Python time was
# spent deciding how to encode each value): ids, links, hashes, states, amounts and the
# instants are ours and need no escaping; what came from the database is escaped.
def _offers_copy(rows: list[Row], terms: LaunchTerms, now: datetime) -> str:
    instants: dict[datetime, str] = {}
    head = f"\t{copy_text(terms.campaign_id, instants)}\t{copy_text(terms.incident_id, instants)}\t"
    created, expires = copy_text(now, instants), copy_text(terms.expires_at, instants)
    credited = f"{created}\tauto" if terms.auto else "\\N\t\\N"
    middle = f"\t{created}\t{expires}\t{credited}\t"
    return "".join(
        [
            f"{r[0]}{head}{copy_text(r[3], instants)}\t{r[4]}\t{r[5]}\t"
            f"{copy_text(r[6], instants)}\t{copy_text(r[7], instants)}{middle}"
            f"{r[12] or NULL}\tunread\n"
            for r in rows
        ]
    )


def _emails_copy(rows: list[Row], template: str, now: datetime) -> str:
    instants: dict[datetime, str] = {}
    created = copy_text(now, instants)
    return "".join(
        [
            f"{r[0]}\t{r[1]}\t{copy_text(r[2], instants)}\temail\t{template}\tpending\t0\t"
            f"{created}\t{r[8] or NULL}\t{created}\n"
            for r in rows
        ]
    )


def credit_dicts(rows: ChunkRows) -> list[dict[str, Any]]:
    return [dict(zip(CREDIT_COLUMNS, r, strict=True)) for r in rows.credits]
