"""The launch e-mails still on their offers (store/outbox.py): taking one writes the very row
every reader saw derived from its offer, oldest first and once; writing an offer's before a
resend or withdrawal does the same and leaves one already taken alone. Both strategies (one
statement on PostgreSQL, three on SQLite) are held alike on both engines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.dispatch import _Cursor, _take
from makegood.store import outbox
from makegood.store import tables as t
from tests.factories.outbox import SeededOffer, Subscriber, seed_campaign


def emails(container: Container) -> dict[str, tuple[Any, ...]]:
    """Every e-mail as readers see it (stored or on its offer), by id."""
    m = outbox.all_messages()
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(m).where(m.c.channel == "email")).all()
    return {row.id: tuple(row) for row in rows}


def stored_ids(container: Container) -> list[str]:
    with container.engine.connect() as conn:
        return sorted(conn.execute(sa.select(t.messages.c.id)).scalars())


def still_on_offers(container: Container) -> int:
    o = t.offers
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    sa.or_(o.c.email_state.is_not(None), o.c.email_token.is_not(None))
                )
            ).scalar_one()
        )


def take(container: Container, limit: int, late: timedelta = timedelta(0)) -> list[str]:
    with container.uow() as uow:
        taken = uow.outbox.take_launch_emails(container.now() + late, limit)
        uow.commit()
    return taken


def test_taking_writes_the_rows_readers_saw_oldest_first_and_once(container: Container) -> None:
    now = container.now()
    claim = seed_campaign(container.engine, [Subscriber(f"acc-c{i}") for i in range(3)], now=now)
    auto = seed_campaign(container.engine, [Subscriber("acc-auto")], now=now, mode="auto")
    seeded: list[SeededOffer] = claim + auto
    before = emails(container)
    assert len(before) == 4
    assert stored_ids(container) == []
    oldest = sorted(s.email_message_id for s in seeded)

    assert take(container, 3, late=-timedelta(seconds=1)) == []  # none due yet
    assert take(container, 3) == oldest[:3]
    assert stored_ids(container) == oldest[:3]
    assert emails(container) == before  # the same rows, now stored
    assert take(container, 3) == oldest[3:]
    assert take(container, 3) == []
    assert emails(container) == before
    assert still_on_offers(container) == 0
    templates = {before[s.email_message_id][4] for s in auto}
    assert templates == {"offer_granted"}
    assert {before[s.email_message_id][9] for s in claim} == {s.token for s in claim}


def test_writing_an_offers_email_leaves_one_already_taken_alone(container: Container) -> None:
    now = container.now()
    first, second = seed_campaign(
        container.engine, [Subscriber("acc-a"), Subscriber("acc-b")], now=now
    )
    before = emails(container)
    taken = take(container, 1)
    with container.uow() as uow:
        uow.outbox.write_launch_emails([first.offer_id, second.offer_id])
        uow.outbox.write_launch_emails([first.offer_id, second.offer_id])  # nothing left
        uow.commit()
    assert len(taken) == 1
    assert stored_ids(container) == sorted([first.email_message_id, second.email_message_id])
    assert emails(container) == before
    assert still_on_offers(container) == 0
    assert take(container, 5) == []


def test_a_batch_of_launch_emails_plans_for_the_table_as_it_is(container: Container) -> None:
    """Taking launch e-mails fills `messages`: on PostgreSQL the dispatch batch that takes them
    (its lock, marks and events' foreign-key checks) re-plans each statement instead of reusing
    plans made while the table was empty; the setting ends with the batch's transaction."""
    if container.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite caches no generic plans")
    now = container.now()
    seeded = seed_campaign(container.engine, [Subscriber("acc-p1"), Subscriber("acc-p2")], now=now)
    cursor = _Cursor(cutoff=now, size=10, retry_failed_now=False)
    with container.uow() as uow:
        before = _plan_cache_mode(uow.conn)
        batch = _take(uow, cursor)
        during = _plan_cache_mode(uow.conn)
        uow.commit()
        after = _plan_cache_mode(uow.conn)
    assert sorted(mail.id for mail in batch) == sorted(s.email_message_id for s in seeded)
    assert (before, during, after) == ("auto", "force_custom_plan", "auto")


def _plan_cache_mode(conn: sa.Connection) -> str:
    return str(conn.exec_driver_sql("SHOW plan_cache_mode").scalar_one())
