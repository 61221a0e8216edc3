"""Script injection in every displayed field, and rate limits with Retry-After.

Hypothesis puts <script>, "><img onerror>, javascript: URLs (with random padding) into plan
names, incident titles, account e-mails, locales and reflected query text, then fetches the
claim page, the confirmation, the genuine page, the login page and the console pages: the raw
payload never appears unescaped, no link or form points at javascript:, and every response
carries the Content-Security-Policy.

Link guessing: failed claim lookups (404, 403) count against a per-address limit; past it every
claim request answers 429 without a database statement, while valid links count nothing.
"""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.domain.tokens import hash_token, new_token
from makegood.store import tables as t
from makegood.web import csrf
from makegood.web.app import create_app
from makegood.web.csrf import NONCE_COOKIE
from makegood.web.texts import TEXTS
from tests.factories.offers import credit_rows, seed_offer, snapshot
from tests.factories.staff import PASSWORD, add_staff, email_for, seed_draft, session_cookie
from tests.harness.clock import LimitsClock
from tests.harness.console import CSRF_FIELD

HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "javascript:alert(1)",
    "{{ 7*7 }}<b>",
]
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
# (no NUL: the tests write straight into the tables, and PostgreSQL text cannot hold it; the
# imports refuse it, see test_hostile_imports.py)
padding = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=10
)
hostile = st.tuples(padding, st.sampled_from(PAYLOADS)).map(lambda p: p[0] + p[1])


def claim_app(container: Container, failures_per_minute: int) -> FastAPI:
    """The real app with MAKEGOOD_CLAIM_FAILURES_PER_MINUTE set (the limits' time is the
    `limits_clock` fixture's where a test needs it to stand still)."""
    settings = container.settings.model_copy(
        update={"claim_failures_per_minute": failures_per_minute}
    )
    return create_app(replace(container, settings=settings))


@pytest.fixture
def roomy_client(container: Container) -> Iterator[TestClient]:
    """A client whose failed claim lookups are not limited in practice (hostile-data tests fetch
    an unknown link in every example)."""
    with TestClient(claim_app(container, 100_000), follow_redirects=False) as client:
        yield client


def printable(text: str) -> str:
    return "".join(c for c in text if 32 <= ord(c) < 127)


def assert_safe(response: httpx.Response, payload: str) -> None:
    assert response.status_code < 500, response.status_code
    assert "default-src 'none'" in response.headers["content-security-policy"]
    body = response.text
    if any(c in payload for c in "<>\"'"):
        assert payload not in body, (response.url, payload)
    for tag in ("<script>alert", "<img src=x", "<svg onload", "<b>"):
        if tag in payload:
            assert tag not in body, (response.url, tag)
    assert not JS_URL.search(body), response.url


def test_claim_and_public_pages_escape_hostile_data(
    roomy_client: TestClient, container: Container
) -> None:
    client = roomy_client
    seeded = seed_offer(container.engine, container.now())

    @HYPOTHESIS
    @given(payload=hostile, locale=st.sampled_from(["en-US", 'fr"><script>x</script>', "de-DE"]))
    def run(payload: str, locale: str) -> None:
        with container.engine.begin() as conn:
            conn.execute(t.plans.update().values(name=payload))
            conn.execute(t.incidents.update().values(title=payload))
            conn.execute(t.accounts.update().values(locale=locale))
        pages = [
            client.get(f"/claim/{seeded.token}"),
            client.get(f"/claim/{seeded.token}/done", follow_redirects=True),
            client.post("/genuine", data={"code": payload}),
            client.get("/claim/" + quote(payload, safe="")),
            client.get("/genuine", headers={"accept-language": printable(payload)}),
        ]
        for response in pages:
            if response.status_code != 429:  # the genuine check is rate limited per client
                assert_safe(response, payload)
        assert pages[0].status_code == 200

    run()


def test_console_pages_escape_hostile_data(client: TestClient, container: Container) -> None:
    admin = add_staff(container, "admin")
    client.cookies.update(session_cookie(container, admin))
    draft = seed_draft(container, admin.email, accounts=1)
    account_id = draft.account_ids[0]

    @HYPOTHESIS
    @given(payload=hostile)
    def run(payload: str) -> None:
        with container.engine.begin() as conn:
            conn.execute(t.plans.update().values(name=payload))
            conn.execute(t.incidents.update().values(title=payload))
            conn.execute(
                t.accounts.update().values(email=payload.replace(" ", "") + "@example.com")
            )
        for url in (
            "/console/incidents",
            f"/console/incidents/{draft.incident_id}",
            f"/console/campaigns/{draft.campaign_id}",
            f"/console/accounts/{account_id}",
            "/console/audit",
        ):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert_safe(response, payload)
        assert_safe(client.get("/console/support", params={"q": payload + " nobody"}), payload)
        assert_safe(client.get("/console/accounts/" + quote(payload, safe="")), payload)

    run()


def test_login_page_escapes_what_it_echoes(client: TestClient) -> None:
    @HYPOTHESIS
    @given(payload=hostile)
    def run(payload: str) -> None:
        page = client.get("/console/login", params={"next": payload})
        assert_safe(page, payload)
        if CONTROL.search(payload):
            assert page.status_code == 422  # refused at the edge (web/edge.py), echoing nothing
            return
        match = CSRF_FIELD.search(page.text)
        assert match
        response = client.post(
            "/console/login",
            data={
                "email": payload,
                "password": "x",
                "csrf_token": match.group(1),
                "next": payload,
            },
        )
        if response.status_code != 429:
            assert response.status_code == 401
            assert_safe(response, payload)

    run()


def test_genuine_check_answers_429_with_retry_after(client: TestClient) -> None:
    statuses = [client.post("/genuine", data={"code": "x"}) for _ in range(11)]
    assert [r.status_code for r in statuses[:10]] == [200] * 10
    limited = statuses[10]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "default-src 'none'" in limited.headers["content-security-policy"]


def test_console_login_answers_429_with_retry_after(
    client: TestClient, container: Container
) -> None:
    add_staff(container, "viewer")
    responses = []
    for _ in range(11):
        match = CSRF_FIELD.search(client.get("/console/login").text)
        assert match
        responses.append(
            client.post(
                "/console/login",
                data={"email": email_for("viewer"), "password": "wrong", "csrf_token": match[1]},
            )
        )
    assert [r.status_code for r in responses[:10]] == [401] * 10
    limited = responses[10]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    # even the right password is refused while limited: guessing cannot continue
    match = CSRF_FIELD.search(client.get("/console/login").text)
    assert match
    right = client.post(
        "/console/login",
        data={"email": email_for("viewer"), "password": PASSWORD, "csrf_token": match[1]},
    )
    assert right.status_code == 429


def open_form(client: TestClient, token: str) -> str:
    """GET the claim page like a browser (keeps the nonce cookie); the form's CSRF token."""
    page = client.get(f"/claim/{token}")
    assert page.status_code == 200, page.status_code
    match = CSRF_FIELD.search(page.text)
    assert match
    return match.group(1)


def assert_limited(response: httpx.Response, retry_after: int, language: str = "en") -> None:
    assert response.status_code == 429, (response.url, response.status_code)
    assert int(response.headers["retry-after"]) == retry_after
    assert 'data-page="limited"' in response.text
    assert f'<html lang="{language}" dir="ltr">' in response.text
    assert html.escape(TEXTS[language]["limited_body"]) in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_failed_claim_lookups_are_limited_per_client_without_touching_the_database(
    container: Container, limits_clock: LimitsClock
) -> None:
    app = claim_app(container, 5)  # the limits' time stands still during the test
    now = container.now()
    seeded = seed_offer(container.engine, now)
    replaced = seed_offer(container.engine, now, email="old.link@example.com", token_revoked=True)
    unknown = new_token()
    with (
        TestClient(app, follow_redirects=False) as client,
        TestClient(app, follow_redirects=False, client=("203.0.113.9", 40000)) as neighbour,
    ):
        form = open_form(client, seeded.token)  # a valid view spends nothing
        nonce = client.cookies[NONCE_COOKIE]
        unknown_form = csrf.csrf_token(container.settings.secret_key, nonce, hash_token(unknown))
        failures = [
            client.get(f"/claim/{unknown}"),
            client.get(f"/claim/{replaced.token}"),
            client.post(f"/claim/{seeded.token}", data={"csrf_token": "0" * 64}),
            client.get(f"/claim/{unknown}/done"),
            client.post(f"/claim/{unknown}", data={"csrf_token": unknown_form}),
        ]
        assert [r.status_code for r in failures] == [404, 404, 403, 404, 404]

        before = snapshot(container.engine)
        sent: list[str] = []

        def listen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            sent.append(statement)

        sa.event.listen(container.engine, "before_cursor_execute", listen)
        try:
            french = client.get(f"/claim/{seeded.token}", headers={"accept-language": "fr-CA"})
            # a valid link with the right CSRF token: refused all the same, nothing applied
            claim = client.post(f"/claim/{seeded.token}", data={"csrf_token": form})
            done = client.get(f"/claim/{seeded.token}/done")
            guess = client.get(f"/claim/{new_token()}")
            unrouted = client.get(f"/claim/{unknown}/more/path")
        finally:
            sa.event.remove(container.engine, "before_cursor_execute", listen)

        assert_limited(french, 60, "fr")  # 5 in any minute: the first leaves it in 60 s
        for response in (claim, done, guess, unrouted):
            assert_limited(response, 60)
        assert sent == [], "a limited client must not reach the database"
        assert snapshot(container.engine) == before
        assert credit_rows(container.engine, seeded.offer_id) == []
        with container.engine.connect() as conn:
            state = conn.execute(
                sa.select(t.offers.c.state).where(t.offers.c.id == seeded.offer_id)
            ).scalar_one()
        assert state == "open"
        # another address is not affected, and can still claim the offer
        neighbour_form = open_form(neighbour, seeded.token)
        assert (
            neighbour.post(
                f"/claim/{seeded.token}", data={"csrf_token": neighbour_form}
            ).status_code
            == 303
        )


def test_limited_page_speaks_the_browsers_language(
    container: Container, limits_clock: LimitsClock
) -> None:
    app = claim_app(container, 1)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get(f"/claim/{new_token()}").status_code == 404
        for header, language in [
            ("en-GB", "en"),
            ("es-MX,es;q=0.9", "es"),
            ("fr", "fr"),
            ("de-AT", "de"),
            ("pt-BR", "pt"),
            ("ja-JP", "ja"),
            ("sw", "en"),
        ]:
            limited = client.get(f"/claim/{new_token()}", headers={"accept-language": header})
            assert_limited(limited, 60, language)


def test_many_valid_claims_from_one_client_are_never_limited(
    container: Container, limits_clock: LimitsClock
) -> None:
    limit = 5
    app = claim_app(container, limit)  # time stands still: every failure stays in the window
    now = container.now()
    offers = [
        seed_offer(container.engine, now, email=f"subscriber{i}@example.com") for i in range(30)
    ]
    with TestClient(app, follow_redirects=False) as client:
        # one failure short of the limit first; then 30 claims must not spend the last token
        for _ in range(limit - 1):
            assert client.get(f"/claim/{new_token()}").status_code == 404
        for offer in offers:
            form = open_form(client, offer.token)
            claimed = client.post(f"/claim/{offer.token}", data={"csrf_token": form})
            assert claimed.status_code == 303
            assert client.get(claimed.headers["location"]).status_code == 200
            # a second click: already claimed is good news, not a failure
            assert client.post(f"/claim/{offer.token}", data={"csrf_token": form}).status_code == (
                200
            )
            assert client.get(f"/claim/{offer.token}").status_code == 200
        for offer in offers:
            assert len(credit_rows(container.engine, offer.offer_id)) == 1
        # one failure is still allowed: it is answered, then the limit holds
        assert client.get(f"/claim/{new_token()}").status_code == 404
        assert client.get(f"/claim/{offers[0].token}").status_code == 429


def test_claim_failures_leave_the_window_a_minute_after_each_was_made(
    container: Container, limits_clock: LimitsClock
) -> None:
    app = claim_app(container, 5)
    seeded = seed_offer(container.engine, container.now())
    with TestClient(app, follow_redirects=False) as client:
        assert client.get(f"/claim/{new_token()}").status_code == 404
        limits_clock.advance(30)
        assert [client.get(f"/claim/{new_token()}").status_code for _ in range(4)] == [404] * 4
        assert_limited(client.get(f"/claim/{seeded.token}"), 30)  # the first leaves at 60 s
        limits_clock.advance(29)
        assert_limited(client.get(f"/claim/{seeded.token}"), 1)
        limits_clock.advance(1.5)  # the first failure is out of the window: room for one
        assert client.get(f"/claim/{seeded.token}").status_code == 200
        assert client.get(f"/claim/{new_token()}").status_code == 404
        assert_limited(client.get(f"/claim/{seeded.token}"), 30)  # the next four leave at 90 s
        limits_clock.advance(3600)  # all gone, and no more than five allowed again
        assert [client.get(f"/claim/{new_token()}").status_code for _ in range(6)] == [404] * 5 + [
            429
        ]


def test_zero_turns_the_claim_limit_off(container: Container) -> None:
    app = claim_app(container, 0)
    assert app.state.claim_limiter is None
    seeded = seed_offer(container.engine, container.now())
    with TestClient(app, follow_redirects=False) as client:
        assert {client.get(f"/claim/{new_token()}").status_code for _ in range(60)} == {404}
        assert client.get(f"/claim/{seeded.token}").status_code == 200
