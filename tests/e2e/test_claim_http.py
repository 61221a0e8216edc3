"""Claims over real HTTP: a uvicorn server in a thread, httpx clients, a real database."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest

from makegood.bootstrap import Container
from makegood.observability.redaction import MaskClaimTokens, mask_claim_tokens
from makegood.web.app import create_app
from tests.factories.offers import credit_rows, seed_offer
from tests.harness.http import served

CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
PAGE = re.compile(r'<main data-page="([a-z_]+)">')


def open_claim_page(client: httpx.Client, base: str, token: str) -> str:
    page = client.get(f"{base}/claim/{token}")
    assert page.status_code == 200
    match = CSRF_FIELD.search(page.text)
    assert match
    return match.group(1)


def test_a_browser_claims_over_http_and_the_token_stays_out_of_logs(
    container: Container,
) -> None:
    seeded = seed_offer(container.engine, container.now())
    with (
        served(create_app(container)) as (base, log),
        httpx.Client(follow_redirects=True) as client,
    ):
        csrf = open_claim_page(client, base, seeded.token)
        claimed = client.post(f"{base}/claim/{seeded.token}", data={"csrf_token": csrf})
        again = client.post(f"{base}/claim/{seeded.token}", data={"csrf_token": csrf})

    assert claimed.history[0].status_code == 303  # httpx followed the redirect to the page
    assert claimed.status_code == 200
    assert PAGE.findall(claimed.text) == ["done"]
    assert again.status_code == 200
    assert PAGE.findall(again.text) == ["already"]
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1
    logged = log.getvalue()
    assert "POST /claim/<token> HTTP/1.1" in logged
    assert "GET /claim/<token>/done HTTP/1.1" in logged
    assert seeded.token not in logged


def test_fifty_simultaneous_posts_on_one_link_credit_once(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    with served(create_app(container)) as (base, _log):
        with httpx.Client() as browser:
            csrf = open_claim_page(browser, base, seeded.token)
            cookies = dict(browser.cookies)

        async def fire() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
            async with httpx.AsyncClient(cookies=cookies, limits=limits, timeout=60) as client:
                return await asyncio.gather(
                    *(
                        client.post(f"{base}/claim/{seeded.token}", data={"csrf_token": csrf})
                        for _ in range(50)
                    )
                )

        responses = asyncio.run(fire())

    outcomes = sorted(
        "confirmed" if r.status_code == 303 else f"{r.status_code} {PAGE.findall(r.text)}"
        for r in responses
    )
    assert outcomes == ["200 ['already']"] * 49 + ["confirmed"]
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1


def test_masking_keeps_the_shape_of_the_path() -> None:
    assert mask_claim_tokens('"GET /claim/abc_DEF-123/done HTTP/1.1"') == (
        '"GET /claim/<token>/done HTTP/1.1"'
    )
    assert mask_claim_tokens("POST /claim/abc?x=1") == "POST /claim/<token>?x=1"
    assert mask_claim_tokens("GET /healthz") == "GET /healthz"


@pytest.mark.parametrize("path", ["/claim/secret-token-value", "/claim/secret-token-value/done"])
def test_access_log_records_are_masked(path: str) -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )
    assert MaskClaimTokens().filter(record)
    assert "secret-token-value" not in record.getMessage()
