"""The rows one chunk of a launch writes, made from its members (pure: any thread may do it).

Per offer: the offer (carrying its link's hash and its in-app message) and its launch e-mail
(carrying the raw link until the server accepts it); in automatic mode a credit instead of a
link. Nothing else: see docs/architecture.md for the rows, index entries and foreign keys.
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
    """One chunk's offers, e-mails and (automatic mode) credits. On PostgreSQL only their COPY
    text is made; the rows as tuples (`offers`, `emails`) are made when first asked for."""

    members: list[offers.Member]
    scanned_to: str  # the last cohort account looked at (the launch resumes after it)
    terms: LaunchTerms
    now: datetime
    offer_ids: list[str]
    tokens: list[str] | None  # the raw links, one per offer (None: automatic mode, no links)
    digests: list[str] | None  # their hashes, stored on the offers
    credits: list[Row] = field(default_factory=list)
    # COPY text per table, made only for PostgreSQL.
    offers_copy: list[str] = field(default_factory=list)
    emails_copy: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return OfferState.GRANTED if self.terms.auto else OfferState.OPEN

    @property
    def template(self) -> str:
        return "offer_granted" if self.terms.auto else "offer_claim"

    @cached_property
    def offers(self) -> list[Row]:
        """The offers in `offers.LAUNCH_COLUMNS` order (the in-app message starts unread)."""
        terms, now, state = self.terms, self.now, self.state
        credited_at, credited_via = (now, "auto") if terms.auto else (None, None)
        digests: Sequence[str | None] = self.digests or [None] * len(self.offer_ids)
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
            )
            for offer_id, (account_id, amount, currency, plan_id), digest in zip(
                self.offer_ids, self.members, digests, strict=True
            )
        ]

    @cached_property
    def emails(self) -> list[Row]:
        """The launch e-mails in `outbox.LAUNCH_COLUMNS` order."""
        now, template = self.now, self.template
        tokens: Sequence[str | None] = self.tokens or [None] * len(self.offer_ids)
        return [
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
            for offer_id, member, token in zip(self.offer_ids, self.members, tokens, strict=True)
        ]


def chunk_rows(
    members: list[offers.Member], scanned_to: str, terms: LaunchTerms, now: datetime, copy: bool
) -> ChunkRows:
    """The rows of one chunk; `copy` encodes them for PostgreSQL's COPY (and only that)."""
    count = len(members)
    offer_ids = new_ids("ofr", count)
    tokens, digests = (None, None) if terms.auto else new_tokens_and_hashes(count)
    rows = ChunkRows(members, scanned_to, terms, now, offer_ids, tokens, digests)
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
        rows.emails_copy = [_emails_copy(rows, escaped)]
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
    return "".join(
        [
            f"{offer_id}{head}{account}\t{state}\t{amount}\t{currency}\t{plan}{middle}"
            f"{digest}\tunread\n"
            for offer_id, (account, amount, currency, plan), digest in zip(
                rows.offer_ids, members, digests, strict=True
            )
        ]
    )


def _emails_copy(rows: ChunkRows, members: list[offers.Member]) -> str:
    created = copy_text(rows.now, {})
    head = f"\temail\t{rows.template}\tpending\t0\t{created}\t"
    tokens = rows.tokens or [NULL] * len(rows.offer_ids)
    email_id = outbox.launch_email_id
    return "".join(
        [
            f"{email_id(offer_id)}\t{offer_id}\t{member[0]}{head}{token}\t{created}\n"
            for offer_id, member, token in zip(rows.offer_ids, members, tokens, strict=True)
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
