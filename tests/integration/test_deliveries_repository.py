"""The deliveries repository (message_events, suppressions) on SQLite and PostgreSQL alike:
the suppression list is insert-once (its INSERT ... ON CONFLICT DO NOTHING differs by dialect),
event details are stored masked and cut, and a message's events come back in order."""

from __future__ import annotations

from datetime import timedelta

from makegood.bootstrap import Container
from makegood.notify.delivery import DeliveryEvent
from makegood.notify.tracking import address_hash
from makegood.store.deliveries import DETAIL_LIMIT
from tests.factories.outbox import Subscriber, seed_campaign, take_launch_emails


def test_an_address_is_suppressed_once_whatever_the_dialect(container: Container) -> None:
    now = container.now()
    (offer,) = seed_campaign(container.engine, [Subscriber("acc-1")], now=now)
    key = address_hash(offer.address)
    with container.uow() as uow:
        assert not uow.deliveries.is_suppressed(key)
        first = uow.deliveries.suppress(
            key, reason="bounced", message_id=offer.email_message_id, now=now
        )
        again = uow.deliveries.suppress(key, reason="complained", message_id=None, now=now)
        uow.commit()
    with container.uow() as uow:
        assert (first, again) == (True, False)
        assert uow.deliveries.is_suppressed(key)
        assert uow.deliveries.suppressed_among([key, address_hash("other@example.com")]) == {key}


def test_events_are_stored_masked_and_read_back_in_order(container: Container) -> None:
    now = container.now()
    (offer,) = seed_campaign(container.engine, [Subscriber("acc-1")], now=now)
    take_launch_emails(container.engine, [offer])  # events name a stored message
    mid = offer.email_message_id
    long_reply = "550 5.1.1 <acc-1@example.com> unknown " + "x" * (2 * DETAIL_LIMIT)
    with container.uow() as uow:
        recorded = uow.deliveries.record_events(
            [
                DeliveryEvent(mid, "bounced", "dsn", now + timedelta(minutes=5), long_reply),
                DeliveryEvent(mid, "accepted", "smtp", now),
            ]
        )
        uow.commit()
    with container.uow() as uow:
        events = uow.deliveries.events_of([mid, "msg_unknown"])
    assert recorded == 2
    assert list(events) == [mid]
    assert [(e.kind, e.source) for e in events[mid]] == [("accepted", "smtp"), ("bounced", "dsn")]
    detail = events[mid][1].detail
    assert detail is not None
    assert len(detail) == DETAIL_LIMIT
    assert detail.startswith("550 5.1.1 <<address>> unknown x")
