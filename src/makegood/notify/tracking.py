"""The suppression list's key, and the e-mail worker's way to its delivery records.

Events and suppressions are stored by store/deliveries.py (`uow.deliveries`); the in-app
message that another channel failed to reach is flagged by store/outbox.py
(`uow.outbox.mark_inapp_urgent`). What comes back after sending (bounces, complaints, the
provider's webhook) is recorded by services/delivery_feedback.py.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from makegood.notify.delivery import DeliveryEvent
from makegood.store.deliveries import Deliveries
from makegood.store.outbox import Outbox

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


# The e-mail worker (services/outbox_batch.py) still runs on a bare connection; these hand
# its calls to the repositories, which hold the statements. Everything else reaches them
# from its unit of work (`uow.deliveries`, `uow.outbox`).


def record_events(conn: sa.Connection, events: Iterable[DeliveryEvent]) -> int:
    """`uow.deliveries.record_events`, on a bare connection."""
    return Deliveries(conn).record_events(events)


def suppressed_among(conn: sa.Connection, hashes: Sequence[str]) -> set[str]:
    """`uow.deliveries.suppressed_among`, on a bare connection."""
    return Deliveries(conn).suppressed_among(hashes)


def suppress(
    conn: sa.Connection, hash_: str, *, reason: str, message_id: str | None, now: datetime
) -> bool:
    """`uow.deliveries.suppress`, on a bare connection."""
    return Deliveries(conn).suppress(hash_, reason=reason, message_id=message_id, now=now)


def mark_inapp_urgent(conn: sa.Connection, message_ids: Sequence[str]) -> int:
    """`uow.outbox.mark_inapp_urgent`, on a bare connection."""
    return Outbox(conn).mark_inapp_urgent(message_ids)
