"""Script injection in every displayed field, and rate limits with Retry-After.

Hypothesis puts <script>, "><img onerror>, javascript: URLs (with random padding) into plan
names, incident titles, account e-mails, locales and reflected query text, then fetches the
claim page, the confirmation, the genuine page, the login page and the console pages: the raw
payload never appears unescaped, no link or form points at javascript:, and every response
carries the Content-Security-Policy.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.store import tables as t
from makegood.web.app import create_app
from tests.integration.claim_seed import seed_offer
from tests.integration.web_seed import (
    CSRF_FIELD,
    PASSWORD,
    add_staff,
    email_for,
    seed_draft,
    session_cookie,
)

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
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
# (no NUL: the tests write straight into the tables, and PostgreSQL text cannot hold it; the
# imports refuse it, see test_hostile_imports.py)
padding = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=10
)
hostile = st.tuples(padding, st.sampled_from(PAYLOADS)).map(lambda p: p[0] + p[1])


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), follow_redirects=False) as client:
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
    client: TestClient, container: Container
) -> None:
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
