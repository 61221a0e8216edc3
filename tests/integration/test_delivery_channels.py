"""SMS and push through the operator's provider: signed webhooks with the outbox guarantees,
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.policy import PercentOfPrice, single
from makegood.notify.feedback import verify_signature
from makegood.services.campaign_approval import approve_campaign
from makegood.services.campaign_command import CreateCampaign
from makegood.services.campaigns import create_campaign
from makegood.services.channels import configured_channels, dispatch_channel
from makegood.services.claims import claim_offer
from makegood.services.launch import launch_campaign
from makegood.services.worker import run_worker
from makegood.store import tables as t
from tests.factories.worlds import evening_outage
from tests.harness.settings import with_settings


@pytest.fixture
def world(container: Container, tmp_path: Path) -> tuple[str, str]:
    """Plans, accounts, attempts and an incident: (incident id, events path)."""
    return evening_outage(container, tmp_path)


SECRET = "channel-secret-42"


@dataclass
class Provider:
    """Records signed posts; answers `replies[account_id]` (a status) or 202."""

    replies: dict[str, int] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            verify_signature(
                SECRET,
                timestamp=self.headers["X-Makegood-Timestamp"],
                body=body,
                given=self.headers["X-Makegood-Signature"],
                now=datetime.now(UTC),
                tolerance_seconds=300,
            )
            payload = json.loads(body)
            with state.lock:
                state.posts.append(payload)
                state.keys.append(self.headers["Idempotency-Key"])
            self.send_response(state.replies.get(payload["account_id"], 202))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()


def launched(box: Container, world: tuple[str, str]) -> str:
    incident_id, events = world
    campaign_id = create_campaign(
        box, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    approve_campaign(box, campaign_id)
    launch_campaign(box, campaign_id)
    return campaign_id


def channel_states(box: Container) -> dict[str, str]:
    with box.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.messages.c.account_id, t.messages.c.state).where(
                t.messages.c.channel == "sms"
            )
        ).all()
    return {r.account_id: r.state for r in rows}


def test_without_a_provider_url_launch_writes_no_sms_rows(
    container: Container, world: tuple[str, str]
) -> None:
    assert configured_channels(container.settings) == ()
    launched(container, world)
    assert channel_states(container) == {}


def test_sms_rows_are_launched_with_the_offer_and_sent_signed_with_a_working_link(
    container: Container, world: tuple[str, str], provider: tuple[Provider, str]
) -> None:
    state, url = provider
    box = with_settings(container, sms_webhook_url=url, channel_webhook_secret=SECRET)
    launched(box, world)
    assert set(channel_states(box).values()) == {"pending"}
    state.replies["a-jp"] = 503  # the provider is busy for this one

    first = dispatch_channel(box, "sms")

    assert (first.sent, first.failed) == (2, 1)
    assert channel_states(box) == {"a-us": "sent", "a-jp": "failed", "a-kw": "sent"}
    japanese = next(p for p in state.posts if p["account_id"] == "a-jp")
    assert "￥" in japanese["text"]
    assert japanese["claim_url"] in japanese["text"]
    state.replies.clear()
    second = dispatch_channel(box, "sms", retry_failed_now=True)
    assert second.sent == 1
    jp_keys = [k for k, p in zip(state.keys, state.posts, strict=True) if p["account_id"] == "a-jp"]
    assert len(jp_keys) == 2
    assert len(set(jp_keys)) == 1  # the repeat carries the same idempotency key
    token = japanese["claim_url"].rsplit("/", 1)[1]
    with box.uow() as uow:
        assert claim_offer(uow, token, box.now()).currency == "JPY"
        uow.commit()


def test_the_locale_sent_is_the_language_the_text_is_written_in(
    container: Container, world: tuple[str, str], provider: tuple[Provider, str]
) -> None:
    """An account whose language has no templates gets the fallback's text (German here): the
    provider is told that language, not the account's, so it reads or speaks it right."""
    state, url = provider
    box = with_settings(
        container, sms_webhook_url=url, channel_webhook_secret=SECRET, fallback_locale="de-DE"
    )
    with box.engine.begin() as conn:
        conn.execute(
            t.accounts.update().where(t.accounts.c.account_id == "a-kw").values(locale="zh-TW")
        )
    launched(box, world)

    assert dispatch_channel(box, "sms").sent == 3

    sent = {p["account_id"]: p for p in state.posts}
    assert "Entschuldigung für die Störung" in sent["a-kw"]["text"]
    assert sent["a-kw"]["locale"] == "de-DE"
    assert sent["a-jp"]["locale"] == "ja-JP"  # a language of ours: the account's own tag
    assert sent["a-us"]["locale"] == "en-US"


def test_a_refusal_is_dead_and_the_worker_drives_the_channel(
    container: Container, world: tuple[str, str], provider: tuple[Provider, str]
) -> None:
    state, url = provider
    box = with_settings(container, sms_webhook_url=url, channel_webhook_secret=SECRET)
    launched(box, world)
    state.replies["a-us"] = 400

    totals = run_worker(box, threading.Event(), once=True)

    assert channel_states(box) == {"a-us": "dead", "a-jp": "sent", "a-kw": "sent"}
    assert totals.dead == 1


def urgent_inapp(box: Container) -> dict[str, bool]:
    with box.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.offers.c.account_id, t.offers.c.inapp_urgent).where(
                t.offers.c.inapp_state.is_not(None)
            )
        ).all()
    return {r.account_id: bool(r.inapp_urgent) for r in rows}


def test_a_failed_sms_makes_the_in_app_message_urgent_like_a_bounce(
    container: Container, world: tuple[str, str], provider: tuple[Provider, str]
) -> None:
    state, url = provider
    box = with_settings(
        container,
        sms_webhook_url=url,
        channel_webhook_secret=SECRET,
        dispatch_max_attempts=2,
        dispatch_retry_seconds=0,
    )
    launched(box, world)
    state.replies["a-us"] = 400  # refused: dead at once
    state.replies["a-jp"] = 503  # temporary: urgent only once the attempts are used up

    first = dispatch_channel(box, "sms")
    after_first = urgent_inapp(box)
    second = dispatch_channel(box, "sms", retry_failed_now=True)

    assert (first.dead, first.failed, second.dead) == (1, 1, 1)
    assert after_first == {"a-us": True, "a-jp": False, "a-kw": False}
    assert channel_states(box) == {"a-us": "dead", "a-jp": "dead", "a-kw": "sent"}
    assert urgent_inapp(box) == {"a-us": True, "a-jp": True, "a-kw": False}


def closed_url() -> str:
    """An address where nothing listens: every post to it is refused, unanswered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/sms"


def sms_row(box: Container, account_id: str) -> sa.Row[tuple[object, ...]]:
    m = t.messages
    with box.engine.connect() as conn:
        query = sa.select(m).where(m.c.channel == "sms", m.c.account_id == account_id)
        return conn.execute(query).one()


def test_an_unanswered_sms_uses_no_attempt_and_a_not_now_is_retried_after_its_back_off(
    container: Container, world: tuple[str, str], provider: tuple[Provider, str]
) -> None:
    state, url = provider
    box = with_settings(
        container,
        sms_webhook_url=url,
        channel_webhook_secret=SECRET,
        dispatch_max_attempts=2,
        dispatch_retry_seconds=60,
    )
    launched(box, world)
    down = with_settings(box, sms_webhook_url=closed_url())

    outage = [dispatch_channel(down, "sms", retry_failed_now=True) for _ in range(3)]

    # Every run stops after three unanswered posts in a row; none uses an attempt (before one
    # rule served every channel, the second run made all three dead).
    assert [(r.failed, r.dead) for r in outage] == [(3, 0)] * 3
    assert {r.stopped for r in outage} == {"sms provider unreachable; the rest stays queued"}
    row = sms_row(box, "a-jp")
    assert (row.state, row.attempts, row.unreached) == ("failed", 3, 3)

    state.replies["a-jp"] = 503  # back, but busy for this one: one attempt of two used
    first = dispatch_channel(box, "sms", retry_failed_now=True)
    early = dispatch_channel(box, "sms")  # as the worker does: the back-off is honoured
    box.clock.advance(seconds=480)  # type: ignore[attr-defined]  # the longest wait after 4 tries
    later = dispatch_channel(box, "sms")

    assert (first.sent, first.failed, first.dead) == (2, 1, 0)
    assert early.due == 0
    assert (later.due, later.dead) == (1, 1)
    row = sms_row(box, "a-jp")
    assert (row.state, row.last_error) == (
        "dead",
        "gave up after 2 attempts: provider answered 503",
    )
    assert urgent_inapp(box) == {"a-us": False, "a-jp": True, "a-kw": False}


def test_an_sms_the_provider_never_answers_is_dead_after_the_maximum_age(
    container: Container, world: tuple[str, str]
) -> None:
    box = with_settings(
        container,
        sms_webhook_url=closed_url(),
        channel_webhook_secret=SECRET,
        dispatch_max_age_hours=24,
    )
    launched(box, world)

    first = dispatch_channel(box, "sms")
    box.clock.advance(hours=23, minutes=59)  # type: ignore[attr-defined]
    before = dispatch_channel(box, "sms", retry_failed_now=True)
    box.clock.advance(minutes=1)  # type: ignore[attr-defined]
    after = dispatch_channel(box, "sms", retry_failed_now=True)

    assert [(r.failed, r.dead) for r in (first, before, after)] == [(3, 0), (3, 0), (0, 3)]
    assert set(channel_states(box).values()) == {"dead"}
    assert sms_row(box, "a-us").last_error.startswith(
        "gave up: no answer from the server within 24 h of queueing: provider unreachable"
    )
    assert urgent_inapp(box) == {"a-us": True, "a-jp": True, "a-kw": True}
