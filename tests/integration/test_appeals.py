"""Filing appeals (services/appeals.py): links only inside the appeal window, one appeal per
account per incident whatever the link or the number of POSTs, expired links refused."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain import errors
from makegood.domain.tokens import hash_token
from makegood.services.appeals import file_appeal, issue_links, view_appeal
from makegood.store import tables as t
from makegood.store.tables_appeals import appeal_links, appeals
from tests.factories.appeals import appeal_link, seed_missed
from tests.harness.clock import FrozenClock
from tests.harness.mailbox import mails, text_of


def _count(container: Container, table: sa.Table) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_link_is_issued_only_while_the_appeal_window_is_open(
    container: Container, clock: FrozenClock
) -> None:
    world = seed_missed(container, appeal_days=10, launched_days_ago=9)
    token = appeal_link(container, world)
    with container.engine.connect() as conn:
        stored = conn.execute(sa.select(appeal_links)).mappings().one()
        launched = conn.execute(
            sa.select(t.campaigns.c.launched_at).where(t.campaigns.c.id == world.campaign_id)
        ).scalar_one()
    assert stored["token_hash"] == hash_token(token)  # only the hash is stored
    assert token not in str(dict(stored))
    assert stored["expires_at"] == launched + timedelta(days=10)

    clock.advance(days=1)  # the window has closed: no link any more
    with container.uow() as uow:
        assert issue_links(uow, world.account_id, [world.incident_id], clock.now) == {}


def test_one_appeal_per_account_and_incident_whatever_the_link(container: Container) -> None:
    world = seed_missed(container)
    first, second = appeal_link(container, world), appeal_link(container, world)
    assert first != second
    now = container.now()
    with container.uow() as uow:
        page = view_appeal(uow, first, now)
    assert page.state is None  # GET shows, files nothing
    assert _count(container, appeals) == 0
    with container.uow() as uow:
        filed = file_appeal(uow, first, "around 20:30\non the TV", now)
        uow.commit()
    assert filed.state == "queued"
    with container.uow() as uow:
        again = file_appeal(uow, second, "other words", now)
        repeat = file_appeal(uow, first, None, now)
        uow.commit()
    assert again.state == repeat.state == "queued"
    with container.engine.connect() as conn:
        [row] = conn.execute(sa.select(appeals)).mappings().all()
        audited = conn.execute(
            sa.select(sa.func.count()).where(t.audit_log.c.action == "appeal.filed")
        ).scalar_one()
    assert row["note"] == "around 20:30 on the TV"
    assert audited == 1
    # Once appealed, a status e-mail carries no new appeal link for that incident.
    with container.uow() as uow:
        assert issue_links(uow, world.account_id, [world.incident_id], now) == {}


def test_an_expired_or_unknown_link_files_nothing(container: Container, clock: FrozenClock) -> None:
    world = seed_missed(container, appeal_days=2)
    token = appeal_link(container, world)
    clock.advance(days=2)
    with container.uow() as uow:
        assert view_appeal(uow, token, clock.now).closed
    with container.uow() as uow, pytest.raises(errors.AppealWindowClosed):
        file_appeal(uow, token, None, clock.now)
    with container.uow() as uow, pytest.raises(errors.AppealLinkInvalid):
        file_appeal(uow, token[:-1] + ("A" if token[-1] != "A" else "B"), None, clock.now)
    assert _count(container, appeals) == 0


@pytest.mark.postgres
def test_concurrent_filings_make_one_appeal(pg_database_url: str, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    from makegood.store.engine import make_engine
    from tests.harness.settings import make_settings

    settings = make_settings(pg_database_url, tmp_path)
    engine = make_engine(settings.database_url)
    container = Container(settings=settings, engine=engine, clock=clock)
    try:
        world = seed_missed(container)
        tokens = [appeal_link(container, world) for _ in range(4)]
        barrier = threading.Barrier(8)
        failures: list[BaseException] = []

        def file(token: str) -> None:
            try:
                barrier.wait()
                with container.uow() as uow:
                    file_appeal(uow, token, "at nine", clock.now)
                    uow.commit()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=file, args=(tokens[i % 4],)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert failures == []
        assert _count(container, appeals) == 1
    finally:
        engine.dispose()


def test_the_status_email_carries_a_fresh_appeal_link_for_a_missed_incident(
    container: Container,
) -> None:
    from makegood.services.dispatch import dispatch_pending
    from makegood.services.status_requests import queue_status_emails, request_status

    world = seed_missed(container, locale="fr-FR")
    with container.uow() as uow:
        request_status(uow, "ANA.appeal@example.com", container.now())
        uow.commit()
    assert queue_status_emails(container) == 1
    with container.engine.connect() as conn:
        links = conn.execute(sa.select(t.messages.c.status_links)).scalar_one()
        stored = conn.execute(sa.select(appeal_links.c.token_hash)).scalars().all()
    token = links[f"appeal:{world.incident_id}"]  # the raw link waits in the outbox row only
    assert stored == [hash_token(token)]

    assert dispatch_pending(container).sent == 1
    [mail] = mails(container)
    text = text_of(mail)
    assert f"http://claims.test/appeal/{token}" in text
    assert "vérifierons à nouveau nos journaux" in text  # in the account's language
    with container.engine.connect() as conn:  # erased once the server accepted the message
        assert conn.execute(sa.select(t.messages.c.status_links)).scalar_one() is None
    with container.uow() as uow:
        assert view_appeal(uow, token, container.now()).incident_title == "Outage missed"
