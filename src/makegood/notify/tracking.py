"""Delivery tracking queries: message events, the suppression list, urgent in-app messages.

Every event names an outbox message; the sources are the SMTP reply (`smtp`), the worker's
own decisions (`worker`, e.g. a suppressed address), bounce messages (`dsn`) and the
provider's signed webhook (`webhook`). Details are stored with e-mail addresses masked.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from makegood.notify.delivery import DeliveryEvent, mask_addresses
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.tables_notify import message_events, suppressions
from makegood.store.upsert import insert_new

SUPPRESSING_KINDS = ("bounced", "complained")


def normalised_address(address: str) -> str:
    """The form addresses are compared in: trimmed, lower case, IDN domain in punycode."""
    local, _, domain = address.strip().rpartition("@")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}".lower()


def address_hash(address: str) -> str:
    """sha256 (hex) of the normalised address: the suppression list's key."""
    return hashlib.sha256(normalised_address(address).encode("utf-8")).hexdigest()


def record_events(conn: sa.Connection, events: Iterable[DeliveryEvent]) -> int:
    """Append events (details masked); returns how many."""
    rows = [
        {
            "message_id": e.message_id,
            "kind": e.kind,
            "source": e.source,
            "at": e.at,
            "detail": mask_addresses(e.detail)[:2000] if e.detail else None,
        }
        for e in events
    ]
    if rows:
        conn.execute(sa.insert(message_events), rows)
    return len(rows)


def suppressed_among(conn: sa.Connection, hashes: Sequence[str]) -> set[str]:
    """Which of these address hashes are on the suppression list."""
    if not hashes:
        return set()
    query = sa.select(suppressions.c.address_hash).where(
        suppressions.c.address_hash.in_(set(hashes))
    )
    return set(conn.execute(query).scalars())


def suppress(
    conn: sa.Connection, hash_: str, *, reason: str, message_id: str | None, now: datetime
) -> bool:
    """Put an address hash on the suppression list; False when it was there already."""
    row = {"address_hash": hash_, "reason": reason, "created_at": now, "message_id": message_id}
    return insert_new(conn, suppressions, row, ("address_hash",))


def is_suppressed(conn: sa.Connection, address: str) -> bool:
    return bool(suppressed_among(conn, [address_hash(address)]))


def mark_inapp_urgent(conn: sa.Connection, email_message_ids: Sequence[str]) -> int:
    """Flag the in-app messages of the same offers as these messages (e-mail, SMS or push):
    they did not get through."""
    return outbox.mark_inapp_urgent(conn, email_message_ids)


def recipient_of(conn: sa.Connection, message_id: str) -> str | None:
    """The current address of the account a message was for (to suppress it)."""
    m, a = t.messages, t.accounts
    query = (
        sa.select(a.c.email)
        .select_from(m.join(a, a.c.account_id == m.c.account_id))
        .where(m.c.id == message_id)
    )
    return conn.execute(query).scalar_one_or_none()


def known_message_ids(conn: sa.Connection, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    query = sa.select(t.messages.c.id).where(t.messages.c.id.in_(set(ids)))
    return set(conn.execute(query).scalars())


def record_feedback(
    conn: sa.Connection, events: Sequence[DeliveryEvent], now: datetime
) -> tuple[int, int]:
    """Record events that came back later (DSN, webhook) for known messages: bounced and
    complained addresses are suppressed and the in-app message marked urgent. Returns
    (events recorded, events for unknown messages ignored)."""
    known = known_message_ids(conn, [e.message_id for e in events])
    kept = [e for e in events if e.message_id in known]
    record_events(conn, kept)
    failed = [e for e in kept if e.kind in SUPPRESSING_KINDS]
    for event in failed:
        address = recipient_of(conn, event.message_id)
        if address is not None:
            suppress(
                conn, address_hash(address), reason=event.kind, message_id=event.message_id, now=now
            )
    mark_inapp_urgent(conn, [e.message_id for e in failed])
    return len(kept), len(events) - len(kept)
