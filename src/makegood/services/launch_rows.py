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
from makegood.store.bulk_insert import (
    BINARY_HEADER,
    BINARY_NULL,
    BINARY_TRAILER,
    BinaryKind,
    Row,
    binary_value,
)

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
    stream is made; their rows as tuples (`offers`) are made when first asked for."""

    members: list[offers.Member]
    scanned_to: str  # the last cohort account looked at (the launch resumes after it)
    terms: LaunchTerms
    now: datetime
    offer_ids: list[str]
    tokens: list[str] | None  # the raw links, one per offer (None: automatic mode, no links)
    digests: list[str] | None  # their hashes, stored on the offers
    credits: list[Row] = field(default_factory=list)
    email: bool = True  # False: the offers get no launch e-mail (an appeal's agent grant)
    # The offers as one COPY binary stream, made only for PostgreSQL.
    offers_binary: bytes = b""

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
        rows.offers_binary = _offers_binary(rows, members)
    return rows


# COPY's binary format, written per column rather than per value (most of a launch's Python
# time was spent deciding how to encode each value). A row is built as a str of one character
# per byte (latin-1) and the chunk encoded once: ids, links, hashes and states are ours and
# ASCII; the members' text from the database is turned into its UTF-8 bytes that way when any
# of it is not ASCII. What each offer of a chunk shares (the campaign, the instants) and what
# its plan decides (amount, currency, plan) is encoded once.
def _offers_binary(rows: ChunkRows, members: list[offers.Member]) -> bytes:
    terms = rows.terms

    def field(value: object, kind: BinaryKind = "text") -> str:
        return binary_value(value, kind).decode("latin-1")

    null = BINARY_NULL.decode("latin-1")
    lengths: dict[int, str] = {}

    def sized(text: str) -> str:  # text already one character per byte
        head = lengths.get(len(text))
        if head is None:
            head = lengths[len(text)] = len(text).to_bytes(4, "big").decode("latin-1")
        return head + text

    if not "".join([f"{a}{c}{p}" for a, _, c, p in members]).isascii():
        members = [(_bytewise(a), m, _bytewise(c), _bytewise(p)) for a, m, c, p in members]
    count = len(offers.LAUNCH_COLUMNS).to_bytes(2, "big").decode("latin-1")
    head = field(terms.campaign_id) + field(terms.incident_id)
    created = field(rows.now, "timestamptz")
    credited = created + field("auto") if terms.auto else null + null
    middle = created + field(terms.expires_at, "timestamptz") + credited
    state = field(rows.state)
    tail = field("unread") + (field(outbox.EMAIL_PENDING) if rows.email else null)
    decided: dict[tuple[int, str, str], str] = {}

    def terms_of(amount: int, currency: str, plan: str) -> str:
        key = (amount, currency, plan)
        text = decided.get(key)
        if text is None:
            text = decided[key] = (
                state + field(amount, "int8") + sized(currency) + sized(plan) + middle
            )
        return text

    digests = rows.digests
    tokens = rows.tokens if rows.email else None
    parts = [BINARY_HEADER.decode("latin-1")]
    for i, (offer_id, (account, amount, currency, plan)) in enumerate(
        zip(rows.offer_ids, members, strict=True)
    ):
        digest = null if digests is None else sized(digests[i])
        token = null if tokens is None else sized(tokens[i])
        parts.append(
            f"{count}{sized(offer_id)}{head}{sized(account)}{terms_of(amount, currency, plan)}"
            f"{digest}{tail}{token}"
        )
    parts.append(BINARY_TRAILER.decode("latin-1"))
    return "".join(parts).encode("latin-1")


def _bytewise(text: str) -> str:
    """`text`'s UTF-8 bytes, one character each."""
    return text.encode().decode("latin-1")


def credit_dicts(rows: ChunkRows) -> list[dict[str, Any]]:
    return [dict(zip(CREDIT_COLUMNS, r, strict=True)) for r in rows.credits]
