"""An offer's message history, for support: every message with what happened to it.

"I never received that e-mail": the answer is here, one entry per message (e-mail, in-app,
reminders) with its state, attempts, last error, urgency, and its delivery events in order.
No addresses or claim tokens are returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from makegood.store import outbox
from makegood.store.tables_notify import message_events


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


def offer_messages(conn: sa.Connection, offer_id: str) -> list[MessageView]:
    """Every message of one offer, oldest first, each with its delivery events in order."""
    m = outbox.all_messages()
    rows = conn.execute(
        sa.select(
            m.c.id,
            m.c.channel,
            m.c.template,
            m.c.state,
            m.c.attempts,
            m.c.urgent,
            m.c.last_error,
            m.c.created_at,
            m.c.sent_at,
        )
        .where(outbox.of_offer(m, offer_id))
        .order_by(m.c.created_at, m.c.id)
    ).all()
    if not rows:
        return []
    e = message_events
    events: dict[str, list[EventView]] = {}
    for ev in conn.execute(
        sa.select(e.c.message_id, e.c.kind, e.c.source, e.c.at, e.c.detail)
        .where(e.c.message_id.in_([r.id for r in rows]))
        .order_by(e.c.at, e.c.id)
    ):
        events.setdefault(ev.message_id, []).append(
            EventView(kind=ev.kind, source=ev.source, at=ev.at, detail=ev.detail)
        )
    return [
        MessageView(
            id=r.id,
            channel=r.channel,
            template=r.template,
            state=r.state,
            attempts=r.attempts,
            urgent=bool(r.urgent),
            last_error=r.last_error,
            created_at=r.created_at,
            sent_at=r.sent_at,
            events=tuple(events.get(r.id, ())),
        )
        for r in rows
    ]
