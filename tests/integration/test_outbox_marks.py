"""The outbox's marks behave the same on SQLite and PostgreSQL (one conformance test each)."""

from __future__ import annotations

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.store.outbox import Outbox
from makegood.store.tables_notify import message_events
from tests.factories.outbox import Subscriber, message_row, seed_campaign


def accepted_events(container: Container) -> list[str]:
    e = message_events
    with container.engine.connect() as conn:
        query = sa.select(e.c.message_id).where(e.c.kind == "accepted").order_by(e.c.message_id)
        return list(conn.execute(query).scalars())


def test_mark_accepted_records_an_event_only_for_the_messages_it_marked(
    container: Container,
) -> None:
    live, retired, sent = seed_campaign(
        container.engine,
        [Subscriber("acc-1"), Subscriber("acc-2"), Subscriber("acc-3")],
        now=container.now(),
    )
    with container.uow() as uow:  # the outbox takes the launch e-mails off their offers
        uow.outbox.take_launch_emails(container.now(), limit=10)
        uow.commit()
    with container.engine.begin() as conn:
        # Retired by support meanwhile, and sent by another worker meanwhile: neither is
        # deliverable any more, so neither is marked nor gets an 'accepted' event.
        assert Outbox(conn).mark_skipped(retired.email_message_id, reason="offer revoked")
        assert Outbox(conn).mark_sent([sent.email_message_id], container.now()) == 1
    ids = [live.email_message_id, retired.email_message_id, sent.email_message_id]

    with container.engine.begin() as conn:
        marked = Outbox(conn).mark_accepted(ids, container.now())

    assert marked == 1
    assert accepted_events(container) == [live.email_message_id]
    assert message_row(container.engine, live.email_message_id).state == "sent"
    assert message_row(container.engine, retired.email_message_id).state == "dead"
    assert message_row(container.engine, sent.email_message_id).attempts == 1  # not twice
