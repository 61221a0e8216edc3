"""An offer's message history, for support: every message with what happened to it.

"I never received that e-mail": the answer is here, one entry per message (e-mail, in-app,
reminders) with its state, attempts, last error, urgency, and its delivery events in order.
No addresses or claim tokens are returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from makegood.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class EventView:
    kind: str  # accepted | deferred | bounced | complained | delivered | suppressed
    source: str  # smtp | dsn | webhook | worker
    at: datetime
    detail: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: str
    channel: str  # email | inapp | sms | push
    template: str
    state: str
    attempts: int
    urgent: bool
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    events: tuple[EventView, ...]


def offer_messages(uow: UnitOfWork, offer_id: str) -> list[MessageView]:
    """Every message of one offer, oldest first, each with its delivery events in order."""
    rows = uow.outbox.offer_messages(offer_id)
    events = uow.deliveries.events_of([r["id"] for r in rows])
    return [
        MessageView(
            id=r["id"],
            channel=r["channel"],
            template=r["template"],
            state=r["state"],
            attempts=r["attempts"],
            urgent=bool(r["urgent"]),
            last_error=r["last_error"],
            created_at=r["created_at"],
            sent_at=r["sent_at"],
            events=tuple(
                EventView(kind=e.kind, source=e.source, at=e.at, detail=e.detail)
                for e in events.get(r["id"], ())
            ),
        )
        for r in rows
    ]
