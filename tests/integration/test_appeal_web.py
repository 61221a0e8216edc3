"""The appeal page through FastAPI's TestClient on SQLite and PostgreSQL: GET shows and changes
nothing, POST needs the page's CSRF token and files once, closed and unknown links say so."""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.tables_appeals import appeal_links, appeals
from makegood.web.app import create_app
from makegood.web.texts import TEXTS
from tests.factories.appeals import appeal_link, seed_missed
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def rows(container: Container) -> tuple[list[dict[str, object]], ...]:
    with container.engine.connect() as conn:
        return tuple(
            [dict(r) for r in conn.execute(sa.select(table)).mappings()]
            for table in (appeals, appeal_links, t.audit_log, t.offers, t.messages)
        )


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, html
    return match.group(1)


def test_get_shows_the_page_in_the_accounts_language_and_changes_nothing(
    client: TestClient, container: Container
) -> None:
    world = seed_missed(container, locale="fr-CA")
    token = appeal_link(container, world)
    before = rows(container)
    pages = [client.get(f"/appeal/{token}", headers={"Accept-Language": "de"}) for _ in range(3)]
    assert rows(container) == before
    page = pages[0]
    assert page.status_code == 200
    assert page.headers["content-language"] == "fr"
    assert '<main data-page="appeal">' in page.text
    assert "Outage missed" in page.text
    assert TEXTS["fr"]["appeal_button"] in page.text
    assert 'name="note"' in page.text


def test_arabic_is_right_to_left(client: TestClient, container: Container) -> None:
    world = seed_missed(container, locale="ar-EG")
    page = client.get(f"/appeal/{appeal_link(container, world)}")
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text


def test_post_without_the_pages_token_files_nothing(
    client: TestClient, container: Container
) -> None:
    world = seed_missed(container)
    token = appeal_link(container, world)
    before = rows(container)
    refused = client.post(f"/appeal/{token}", data={"note": "at nine"})
    forged = client.post(f"/appeal/{token}", data={"csrf_token": "0" * 64})
    assert refused.status_code == forged.status_code == 403
    assert '<main data-page="forbidden">' in refused.text
    assert rows(container) == before


def test_post_files_once_and_then_the_page_shows_the_appeal(
    client: TestClient, container: Container
) -> None:
    world = seed_missed(container)
    first, second = appeal_link(container, world), appeal_link(container, world)
    token = csrf_of(client.get(f"/appeal/{first}").text)
    filed = client.post(f"/appeal/{first}", data={"csrf_token": token, "note": "around 9pm"})
    assert filed.status_code == 303
    assert filed.headers["location"] == f"/appeal/{first}"
    again = client.post(f"/appeal/{first}", data={"csrf_token": token, "note": "twice"})
    assert again.status_code == 303
    shown = client.get(f"/appeal/{second}")  # another link of the same account and incident
    assert shown.status_code == 200
    assert 'data-state="queued"' in shown.text
    assert 'name="note"' not in shown.text  # nothing more to file
    with container.engine.connect() as conn:
        [appeal] = conn.execute(sa.select(appeals)).mappings().all()
    assert appeal["note"] == "around 9pm"
    assert appeal["account_id"] == world.account_id


def test_closed_and_unknown_links(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    world = seed_missed(container, appeal_days=3, locale="de-DE")
    token = appeal_link(container, world)
    csrf = csrf_of(client.get(f"/appeal/{token}").text)
    clock.advance(days=3)
    closed = client.get(f"/appeal/{token}")
    assert closed.status_code == 410
    assert '<main data-page="appeal_closed">' in closed.text
    assert closed.headers["content-language"] == "de"
    late = client.post(f"/appeal/{token}", data={"csrf_token": csrf})
    assert late.status_code == 410
    unknown = client.get("/appeal/" + "x" * 43, headers={"Accept-Language": "es"})
    assert unknown.status_code == 404
    assert unknown.headers["content-language"] == "es"
    assert '<main data-page="not_found">' in unknown.text
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(appeals)).scalar_one() == 0


@pytest.mark.postgres
def test_concurrent_posts_through_two_links_file_one_appeal(
    pg_database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    settings = make_settings(pg_database_url, tmp_path)
    engine = make_engine(settings.database_url)
    container = Container(settings=settings, engine=engine, clock=clock)
    try:
        world = seed_missed(container)
        links = [appeal_link(container, world), appeal_link(container, world)]
        with TestClient(create_app(container), follow_redirects=False) as client:
            tokens = [csrf_of(client.get(f"/appeal/{link}").text) for link in links]
            barrier = threading.Barrier(8)
            answers: list[int] = []

            def post(i: int) -> None:
                barrier.wait()
                answer = client.post(
                    f"/appeal/{links[i % 2]}", data={"csrf_token": tokens[i % 2], "note": str(i)}
                )
                answers.append(answer.status_code)

            threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        assert answers == [303] * 8
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(appeals)).scalar_one() == 1
    finally:
        engine.dispose()
