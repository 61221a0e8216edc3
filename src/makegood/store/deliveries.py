"""The message_events and suppressions tables: what became of each message.

Every event names an outbox message; the sources are the SMTP reply (`smtp`), the worker's
own decisions (`worker`, e.g. a suppressed address), bounce messages (`dsn`) and the
provider's signed webhook (`webhook`). Details are stored with e-mail addresses masked.
The suppression list is keyed by the sha256 of the normalised address
(notify/tracking.py `address_hash`), so a lookup never needs the plain address.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from makegood.store.repository import Repository
from makegood.store.tables_notify import message_events, suppressions
from makegood.store.upsert import insert_new

DETAIL_LIMIT = 2000


class Event(Protocol):
    """A delivery event as notify/delivery.py `DeliveryEvent` carries it."""

    @property
    def message_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def detail(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class StoredEvent:
    message_id: str
    kind: str  # accepted | deferred | bounced | complained | delivered | suppressed
    source: str  # smtp | dsn | webhook | worker
    at: datetime
    detail: str | None


class Deliveries(Repository):
    """The message_events and suppressions tables: what became of each
    message (`uow.deliveries`)."""

    def record_events(self, events: Iterable[Event]) -> int:
        """Append events, their details already masked (cut to DETAIL_LIMIT); returns how
        many."""
        rows = [
            {
                "message_id": e.message_id,
                "kind": e.kind,
                "source": e.source,
                "at": e.at,
                "detail": e.detail[:DETAIL_LIMIT] if e.detail else None,
            }
            for e in events
        ]
        if rows:
            self.conn.execute(sa.insert(message_events), rows)
        return len(rows)

    def events_of(self, message_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """The events of these messages, each message's in order (time, then arrival)."""
        if not message_ids:
            return {}
        e = message_events
        found: dict[str, list[StoredEvent]] = {}
        for row in self.conn.execute(
            sa.select(e.c.message_id, e.c.kind, e.c.source, e.c.at, e.c.detail)
            .where(e.c.message_id.in_(list(message_ids)))
            .order_by(e.c.at, e.c.id)
        ):
            found.setdefault(row.message_id, []).append(StoredEvent(*row))
        return found

    def suppressed_among(self, hashes: Sequence[str]) -> set[str]:
        """Which of these address hashes are on the suppression list."""
        if not hashes:
            return set()
        s = suppressions
        query = sa.select(s.c.address_hash).where(s.c.address_hash.in_(set(hashes)))
        return set(self.conn.execute(query).scalars())

    def is_suppressed(self, hash_: str) -> bool:
        return bool(self.suppressed_among([hash_]))

    def suppress(self, hash_: str, *, reason: str, message_id: str | None, now: datetime) -> bool:
        """Put an address hash on the suppression list; False when it was there already."""
        row = {"address_hash": hash_, "reason": reason, "created_at": now, "message_id": message_id}
        return insert_new(self.conn, suppressions, row, ("address_hash",))
