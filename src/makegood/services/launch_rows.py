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
from operator import itemgetter
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
    def email_ranges(self) -> list[offers.EmailRange]:
        """Where the chunk's pending launch e-mails are (ids of one chunk ascend, but the
        range does not rely on it)."""
        if not (self.email and self.offer_ids):
            return []
        low, high = min(self.offer_ids), max(self.offer_ids)
        return [offers.EmailRange(self.terms.campaign_id, low, high, self.now)]

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
# time was spent deciding how to encode each value). The chunk is one str of one character per
# byte (latin-1), encoded once: ids, links, hashes and states are ours, fixed-length ASCII;
# the members' text from the database is turned into its UTF-8 bytes that way when any of it
# is not ASCII. What each offer shares (the campaign, the instants, our values' lengths) and
# what its plan decides (amount, currency, plan) is encoded once; the columns are then laid
# into the rows by slice, with no Python code run per offer.
_SLOTS = 9  # per row: head, id, shared, account length, account, terms, hash, tail, link


def _offers_binary(rows: ChunkRows, members: list[offers.Member]) -> bytes:
    terms, count = rows.terms, len(members)

    def field(value: object, kind: BinaryKind = "text") -> str:
        return binary_value(value, kind).decode("latin-1")

    def length(size: int) -> str:
        return size.to_bytes(4, "big").decode("latin-1")

    def ours(values: list[str] | None) -> str:
        """The length prefix all of `values` share (NULL: None)."""
        if values is None:
            return null
        sizes = set(map(len, values))
        if len(sizes) != 1:  # ASCII as made (ids, hashes, base64url); encode() holds that
            raise ValueError("launch ids, links and hashes are of one length each")
        return length(sizes.pop())

    accounts = list(map(itemgetter(0), members))
    plans = set(map(itemgetter(1, 2, 3), members))
    if not ("".join(accounts).isascii() and "".join(f"{c}{p}" for _, c, p in plans).isascii()):
        members = [(_bytewise(a), m, _bytewise(c), _bytewise(p)) for a, m, c, p in members]
        accounts = list(map(itemgetter(0), members))
        plans = set(map(itemgetter(1, 2, 3), members))
    null = BINARY_NULL.decode("latin-1")
    tokens = rows.tokens if rows.email else None
    created = field(rows.now, "timestamptz")
    credited = created + field("auto") if terms.auto else null + null
    after = created + field(terms.expires_at, "timestamptz") + credited + ours(rows.digests)
    decided = {
        (amount, currency, plan): field(rows.state)
        + field(amount, "int8")
        + length(len(currency))
        + currency
        + length(len(plan))
        + plan
        + after
        for amount, currency, plan in plans
    }
    sized = {size: length(size) for size in set(map(len, accounts))}
    head = len(offers.LAUNCH_COLUMNS).to_bytes(2, "big").decode("latin-1") + ours(rows.offer_ids)
    shared = field(terms.campaign_id) + field(terms.incident_id)
    tail = field("unread") + (field(outbox.EMAIL_PENDING) if rows.email else null) + ours(tokens)
    parts = [head, "", shared, "", "", "", "", tail, ""] * count
    parts[1::_SLOTS] = rows.offer_ids
    parts[3::_SLOTS] = map(sized.__getitem__, map(len, accounts))
    parts[4::_SLOTS] = accounts
    parts[5::_SLOTS] = map(decided.__getitem__, map(itemgetter(1, 2, 3), members))
    if rows.digests is not None:
        parts[6::_SLOTS] = rows.digests
    if tokens is not None:
        parts[8::_SLOTS] = tokens
    parts.append(BINARY_TRAILER.decode("latin-1"))
    return BINARY_HEADER + "".join(parts).encode("latin-1")


def _bytewise(text: str) -> str:
    """`text`'s UTF-8 bytes, one character each."""
    return text.encode().decode("latin-1")


def credit_dicts(rows: ChunkRows) -> list[dict[str, Any]]:
    return [dict(zip(CREDIT_COLUMNS, r, strict=True)) for r in rows.credits]
