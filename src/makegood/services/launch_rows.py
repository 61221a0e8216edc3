"""The rows one chunk of a launch writes, made from its members (pure: any thread may do it).

Per offer: the offer, carrying its link's hash, its in-app message and its launch e-mail
(pending, with the raw link until the outbox takes it: store/outbox.py); in automatic mode a
credit too, and no link. Nothing else: see docs/architecture.md for the rows, index entries and
foreign keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from makegood.domain.ids import new_ids
from makegood.domain.offers import OfferState
from makegood.domain.tokens import new_tokens_and_hashes
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
    """One chunk's offers and (automatic mode) credits. On PostgreSQL only the offers' COPY
    text is made; their rows as tuples (`offers`) are made when first asked for."""

    members: list[offers.Member]
    scanned_to: str  # the last cohort account looked at (the launch resumes after it)
    terms: LaunchTerms
    now: datetime
    offer_ids: list[str]
    tokens: list[str] | None  # the raw links, one per offer (None: automatic mode, no links)
    digests: list[str] | None  # their hashes, stored on the offers
    credits: list[Row] = field(default_factory=list)
    email: bool = True  # False: the offers get no launch e-mail (an appeal's agent grant)
    # COPY text per table, made only for PostgreSQL.
    offers_copy: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return OfferState.GRANTED if self.terms.auto else OfferState.OPEN

    @property
    def template(self) -> str:
        return "offer_granted" if self.terms.auto else "offer_claim"

    @cached_property
    def offers(self) -> list[Row]:
        """The offers in `offers.LAUNCH_COLUMNS` order (the in-app message starts unread, the
        launch e-mail pending with the raw link: only it carries the link, until taken)."""
        terms, now, state = self.terms, self.now, self.state
        credited_at, credited_via = (now, "auto") if terms.auto else (None, None)
        digests: Sequence[str | None] = self.digests or [None] * len(self.offer_ids)
        tokens: Sequence[str | None] = (self.email and self.tokens) or [None] * len(digests)
        email = outbox.EMAIL_PENDING if self.email else None
        return [
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
                email,
                token,
            )
            for offer_id, (account_id, amount, currency, plan_id), digest, token in zip(
                self.offer_ids, self.members, digests, tokens, strict=True
            )
        ]


def chunk_rows(
    members: list[offers.Member],
    scanned_to: str,
    terms: LaunchTerms,
    now: datetime,
    copy: bool,
    *,
    email: bool = True,
) -> ChunkRows:
    """The rows of one chunk; `copy` encodes them for PostgreSQL's COPY (and only that)."""
    count = len(members)
    offer_ids = new_ids("ofr", count)
    tokens, digests = (None, None) if terms.auto else new_tokens_and_hashes(count)
    rows = ChunkRows(members, scanned_to, terms, now, offer_ids, tokens, digests, email=email)
    if terms.auto:
        rows.credits = [
            (credit_id, offer_id, m[0], terms.campaign_id, m[1], m[2], now, 0)
            for credit_id, offer_id, m in zip(
                new_ids("crd", count), offer_ids, members, strict=True
            )
        ]
    if copy:
        escaped = _escaped(members)
        rows.offers_copy = [_offers_copy(rows, escaped)]
    return rows


# COPY text, written per column rather than per value (most of a launch's Python time was
# spent deciding how to encode each value): ids, links, hashes, states, amounts and the
# instants are ours and need no escaping; what came from the database is escaped, and is
# looked at once per chunk for anything to escape.
def _offers_copy(rows: ChunkRows, members: list[offers.Member]) -> str:
    terms = rows.terms
    instants: dict[datetime, str] = {}
    head = f"\t{copy_text(terms.campaign_id, instants)}\t{copy_text(terms.incident_id, instants)}\t"
    created, expires = copy_text(rows.now, instants), copy_text(terms.expires_at, instants)
    credited = f"{created}\tauto" if terms.auto else "\\N\t\\N"
    middle = f"\t{created}\t{expires}\t{credited}\t"
    state = rows.state
    digests = rows.digests or [NULL] * len(rows.offer_ids)
    tokens = (rows.email and rows.tokens) or [NULL] * len(rows.offer_ids)
    tail = f"\tunread\t{outbox.EMAIL_PENDING if rows.email else NULL}\t"
    return "".join(
        [
            f"{offer_id}{head}{account}\t{state}\t{amount}\t{currency}\t{plan}{middle}"
            f"{digest}{tail}{token}\n"
            for offer_id, (account, amount, currency, plan), digest, token in zip(
                rows.offer_ids, members, digests, tokens, strict=True
            )
        ]
    )


def _escaped(members: list[offers.Member]) -> list[offers.Member]:
    """The members with their text escaped for COPY (as they are, when none needs it)."""
    text = "".join([f"{a}{c}{p}" for a, _, c, p in members])
    if copy_text(text, {}) == text:
        return members
    instants: dict[datetime, str] = {}
    return [
        (copy_text(a, instants), amount, copy_text(c, instants), copy_text(p, instants))
        for a, amount, c, p in members
    ]


def credit_dicts(rows: ChunkRows) -> list[dict[str, Any]]:
    return [dict(zip(CREDIT_COLUMNS, r, strict=True)) for r in rows.credits]
