"""Where the launch e-mails not taken yet are (`launch_email_ranges`): a row per write of
offers (store/offers.py `Offers.insert`), not an index entry per offer. The outbox takes them
by id range (store/outbox.py `take_launch_emails`), each once, whatever else lies in the range,
and a range only goes once nothing it covers can still be pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.launch import launch_campaign
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.offers import Offers
from makegood.store.outbox import Outbox
from tests.factories.outbox import Subscriber, approved_campaign
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def offer(offer_id: str, campaign_id: str, *, pending: bool = True) -> tuple[object, ...]:
    """An offer in `LAUNCH_COLUMNS` order, its launch e-mail pending on it or not."""
    return (
        offer_id,
        campaign_id,
        "inc_1",
        f"acc-{offer_id}",
        "open",
        24,
        "USD",
        "plan",
        NOW,
        NOW + timedelta(days=7),
        None,
        None,
        None,
        "unread",
        "pending" if pending else None,
        f"token-{offer_id}" if pending else None,
    )


def write(engine: sa.Engine, *offers: tuple[object, ...]) -> None:
    with engine.begin() as conn:
        Offers(conn).insert(list(offers))


def ranges(engine: sa.Engine) -> list[tuple[str, str, str]]:
    r = t.launch_email_ranges
    with engine.connect() as conn:
        query = sa.select(r.c.campaign_id, r.c.low_id, r.c.high_id).order_by(r.c.id)
        return [tuple(row) for row in conn.execute(query)]


def take(engine: sa.Engine, limit: int) -> list[str]:
    with engine.begin() as conn:
        return Outbox(conn).take_launch_emails(NOW, limit)


def due(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return Outbox(conn).count_emails_due(NOW, retry_failed_now=False)


def stored(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(t.messages.c.id)).scalars())


def offer_indexes(engine: sa.Engine) -> list[str]:
    """The definitions of the indexes on `offers`."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = "SELECT indexdef FROM pg_indexes WHERE tablename = 'offers'"
        else:
            query = (
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'offers' "
                "AND sql IS NOT NULL"
            )
        return [str(v) for v in conn.exec_driver_sql(query).scalars()]


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    return make_engine(database_url)


def test_a_launch_writes_a_range_per_chunk_and_no_index_entry_per_offer(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(database_url, tmp_path, launch_chunk_size=10)
    engine = make_engine(database_url)
    box = Container(settings=settings, engine=engine, clock=clock)
    campaign_id = approved_campaign(engine, [Subscriber(f"acc-{i:02d}") for i in range(25)], NOW)
    assert launch_campaign(box, campaign_id).offers == 25

    assert not [d for d in offer_indexes(engine) if "email_state" in d]
    written = ranges(engine)
    assert [c for c, _, _ in written] == [campaign_id] * 3  # a row per chunk
    with engine.connect() as conn:
        ids = sorted(conn.execute(sa.select(t.offers.c.id)).scalars())
    # Each offer lies in a range: its chunk's. (Chunks made in the same millisecond have ranges
    # that overlap: `new_ids` sorts the ids of one call only.)
    assert all(any(low <= i <= high for _, low, high in written) for i in ids)
    assert due(engine) == 25

    taken = [take(engine, 7) for _ in range(5)]  # batches across the chunks' edges
    assert [len(batch) for batch in taken] == [7, 7, 7, 4, 0]
    assert sorted(m for batch in taken for m in batch) == stored(engine)
    assert stored(engine) == ["msg_" + i[4:] for i in ids]
    assert ranges(engine) == []
    assert due(engine) == 25  # now rows of `messages`, each counted once
    engine.dispose()


def test_a_range_takes_the_offers_of_another_launch_written_in_it_once(
    engine: sa.Engine,
) -> None:
    """Two launches at once write interleaved ids: the first range holds the second's offers
    too; they are taken with it, once, and the second range then finds them taken."""
    write(engine, offer("ofr_1", "cmp_a"), offer("ofr_3", "cmp_a"), offer("ofr_5", "cmp_a"))
    write(
        engine,
        offer("ofr_2", "cmp_b"),
        offer("ofr_4", "cmp_b"),
        offer("ofr_6", "cmp_b", pending=False),
    )
    assert ranges(engine) == [("cmp_a", "ofr_1", "ofr_5"), ("cmp_b", "ofr_2", "ofr_4")]
    assert due(engine) == 5  # not 7: an offer in two ranges is one e-mail

    assert take(engine, 2) == ["msg_1", "msg_2"]
    assert due(engine) == 5  # two of them rows of `messages` now
    assert take(engine, 10) == ["msg_3", "msg_4", "msg_5"]
    assert take(engine, 10) == []
    assert stored(engine) == ["msg_1", "msg_2", "msg_3", "msg_4", "msg_5"]
    assert ranges(engine) == []
    assert due(engine) == 5
    engine.dispose()


def test_a_take_rolled_back_leaves_its_offers_to_the_next_one(engine: sa.Engine) -> None:
    write(engine, *(offer(f"ofr_{i}", "cmp_a") for i in range(1, 5)))
    with engine.connect() as conn, conn.begin() as crashed:
        assert Outbox(conn).take_launch_emails(NOW, 3) == ["msg_1", "msg_2", "msg_3"]
        crashed.rollback()
    assert ranges(engine) == [("cmp_a", "ofr_1", "ofr_4")]
    assert take(engine, 10) == ["msg_1", "msg_2", "msg_3", "msg_4"]
    assert ranges(engine) == []
    engine.dispose()


def test_a_range_is_shrunk_past_what_it_took_and_kept_for_offers_not_due_yet(
    engine: sa.Engine,
) -> None:
    later = offer("ofr_4", "cmp_a")
    later = (*later[:8], NOW + timedelta(minutes=1), *later[9:])
    write(engine, offer("ofr_1", "cmp_a"), offer("ofr_2", "cmp_a"), offer("ofr_3", "cmp_a"), later)
    assert take(engine, 2) == ["msg_1", "msg_2"]
    assert ranges(engine) == [("cmp_a", "ofr_3", "ofr_4")]
    assert take(engine, 10) == ["msg_3"]
    assert ranges(engine) == [("cmp_a", "ofr_4", "ofr_4")]  # ofr_4 is pending, not due yet
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("first_commits", [True, False])
def test_takes_in_flight_at_once_take_a_range_apart_and_never_lose_an_email(
    pg_database_url: str, first_commits: bool
) -> None:
    """A batch in flight (another worker's, or a pipelined worker's previous one) holds its
    offers and its range: the next take takes the range's other offers without waiting for it,
    and whether the first commits or rolls back, every e-mail is taken once."""
    engine = make_engine(pg_database_url, pool_size=4)
    write(engine, *(offer(f"ofr_{i}", "cmp_a") for i in range(1, 6)))
    with engine.connect() as first:
        first_tx = first.begin()
        assert Outbox(first).take_launch_emails(NOW, 2) == ["msg_1", "msg_2"]
        with engine.connect() as second, second.begin():
            # Should it wait for the first, it fails instead of hanging.
            second.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            assert Outbox(second).take_launch_emails(NOW, 10) == ["msg_3", "msg_4", "msg_5"]
        if first_commits:
            first_tx.commit()
        else:
            first_tx.rollback()
    assert take(engine, 10) == ([] if first_commits else ["msg_1", "msg_2"])
    assert take(engine, 10) == []
    assert stored(engine) == [f"msg_{i}" for i in range(1, 6)]
    assert ranges(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_a_range_is_never_moved_past_offers_a_batch_in_flight_may_give_back(
    pg_database_url: str,
) -> None:
    """A batch in flight that holds offers but not its range (it took from past the range's
    low): a later take leaves the range covering them, so they are taken once it rolls back."""
    engine = make_engine(pg_database_url, pool_size=4)
    write(engine, *(offer(f"ofr_{i}", "cmp_a") for i in range(1, 7)))
    with engine.connect() as front, engine.connect() as middle:
        front_tx, middle_tx = front.begin(), middle.begin()
        assert Outbox(front).take_launch_emails(NOW, 2) == ["msg_1", "msg_2"]
        assert Outbox(middle).take_launch_emails(NOW, 2) == ["msg_3", "msg_4"]
        front_tx.commit()
        assert take(engine, 10) == ["msg_5", "msg_6"]
        middle_tx.rollback()  # a crash: its offers are pending again
    assert take(engine, 10) == ["msg_3", "msg_4"]
    assert take(engine, 10) == []
    assert stored(engine) == [f"msg_{i}" for i in range(1, 7)]
    assert ranges(engine) == []
    engine.dispose()


def test_many_ranges_are_counted_and_taken(engine: sa.Engine) -> None:
    """More ranges than one statement's expression may hold (SQLite refuses an OR nested
    deeper than 1000): the count of a run's e-mails, which every dispatch starts with, still
    answers, and every e-mail is taken once."""
    many = 1_200  # a range each: offers of as many campaigns (or appeals), none taken yet
    write(engine, *(offer(f"ofr_{i:05d}", f"cmp_{i:05d}") for i in range(many)))
    assert len(ranges(engine)) == many
    assert due(engine) == many

    assert len(take(engine, 2 * many)) == many
    assert ranges(engine) == []
    assert due(engine) == many  # now rows of `messages`
    engine.dispose()
