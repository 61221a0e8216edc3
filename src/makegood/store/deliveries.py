"""The message_events and suppressions tables: what became of each message."""

from __future__ import annotations

from makegood.store.repository import Repository


class Deliveries(Repository):
    """The message_events and suppressions tables: what became of each
    message (`uow.deliveries`)."""
