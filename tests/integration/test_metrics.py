"""GET /metrics: bearer-protected, Prometheus text format, values that move with a claim."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.store.engine import make_engine
from makegood.web.app import create_app
from tests.factories.offers import seed_offer
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

TOKEN = "scrape-me-0123456789"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
SAMPLE = re.compile(r"^([a-z_]+)(\{.*\})? (\S+)$")


@pytest.fixture
def live(database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    settings = make_settings(database_url, tmp_path, metrics_token=TOKEN, metrics_cache_seconds=0.0)
    engine = make_engine(settings.database_url)
    yield Container(settings=settings, engine=engine, clock=clock)
    engine.dispose()


def scrape(client: TestClient) -> dict[str, float]:
    """The samples of one scrape, keyed `name{labels}`; every line must parse."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith(("# HELP ", "# TYPE ")):
            continue
        match = SAMPLE.match(line)
        assert match, f"not an exposition line: {line!r}"
        samples[f"{match.group(1)}{match.group(2) or ''}"] = float(match.group(3))
    return samples


def csrf_of(client: TestClient, token: str) -> str:
    match = CSRF_FIELD.search(client.get(f"/claim/{token}").text)
    assert match
    return match.group(1)


def test_metrics_move_with_a_claim(live: Container) -> None:
    seeded = seed_offer(live.engine, live.now())
    with TestClient(create_app(live), follow_redirects=False) as client:
        before = scrape(client)
        assert before['makegood_offers{state="open"}'] == 1
        assert 'makegood_offers{state="claimed"}' not in before
        assert before["makegood_database_up"] == 1

        form = {"csrf_token": csrf_of(client, seeded.token)}
        assert client.post(f"/claim/{seeded.token}", data=form).status_code == 303
        # The same form sent twice: the second credits nothing.
        assert client.post(f"/claim/{seeded.token}", data=form).status_code == 200

        after = scrape(client)
    assert after['makegood_offers{state="claimed"}'] == 1
    assert 'makegood_offers{state="open"}' not in after
    assert after['makegood_claims_total{outcome="claimed"}'] == 1
    assert after['makegood_claims_total{outcome="200"}'] == 1
    assert after["makegood_claim_duration_seconds_count"] == 2
    assert after['makegood_claim_duration_seconds_bucket{le="+Inf"}'] == 2
    # Requests are labelled by route template: the token itself never becomes a label.
    get_claims = (
        "makegood_http_request_duration_seconds_count"
        '{method="GET",route="/claim/{token}",status="2xx"}'
    )
    assert after[get_claims] == 1
    assert not any(seeded.token in key for key in after)


def test_messages_are_counted_by_channel_and_state(live: Container) -> None:
    from tests.factories.staff import add_inapp_message

    seeded = seed_offer(live.engine, live.now())
    add_inapp_message(live, seeded.offer_id, seeded.account_id)
    with TestClient(create_app(live)) as client:
        samples = scrape(client)
    assert samples['makegood_messages{channel="inapp",state="unread"}'] == 1


def test_metrics_need_the_bearer_token(live: Container) -> None:
    with TestClient(create_app(live)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"


def test_metrics_are_not_found_without_a_configured_token(container: Container) -> None:
    with TestClient(create_app(container)) as client:
        response = client.get("/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
