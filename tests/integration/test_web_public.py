"""Public subscriber pages beyond the claim: a withdrawn offer, and "is this message genuine?"."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.services.genuine import Verdict, read_pasted
from makegood.web.texts import TEXTS
from tests.factories.offers import seed_offer, snapshot
from tests.harness.clock import LimitsClock


def test_withdrawn_offer_says_so_in_the_accounts_language(
    client: TestClient, container: Container
) -> None:
    seeded = seed_offer(container.engine, container.now(), state="revoked", locale="de-DE")
    response = client.get(f"/claim/{seeded.token}")
    assert response.status_code == 410
    assert TEXTS["de"]["withdrawn_heading"] in response.text
    assert 'data-page="withdrawn"' in response.text
    assert "jane" not in response.text  # nothing about the account
    # Withdrawn even when the billing side also revoked the link itself.
    both = seed_offer(container.engine, container.now(), state="revoked", token_revoked=True)
    assert client.get(f"/claim/{both.token}").status_code == 410
    # A replaced link of a live offer stays "unknown".
    replaced = seed_offer(container.engine, container.now(), token_revoked=True)
    assert client.get(f"/claim/{replaced.token}").status_code == 404


def test_genuine_check_answers_one_bit_and_changes_nothing(
    client: TestClient, container: Container
) -> None:
    live = seed_offer(container.engine, container.now())
    claimed = seed_offer(container.engine, container.now(), state="claimed")
    before = snapshot(container.engine)
    form = client.get("/genuine", headers={"accept-language": "es"})
    assert form.status_code == 200
    assert TEXTS["es"]["genuine_heading"] in form.text

    def verdict(code: str) -> str:
        html: str = client.post("/genuine", data={"code": code}).text
        return html.split('data-verdict="')[1].split('"', maxsplit=1)[0]

    assert verdict(f"http://claims.test/claim/{live.token}") == "real"
    assert verdict(f"  {live.token} ") == "real"
    assert verdict(f"http://claims.test/claim/{live.token}/done?x=1") == "real"
    assert verdict(claimed.token) == "unknown"
    assert verdict("not-a-token") == "unknown"
    page = client.post("/genuine", data={"code": live.token}).text
    assert "Premium" not in page
    assert "jane" not in page
    assert snapshot(container.engine) == before


def test_genuine_check_is_rate_limited_per_client(client: TestClient) -> None:
    statuses = [client.post("/genuine", data={"code": "x"}).status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]


def test_genuine_checks_come_back_as_they_leave_the_minute(
    client: TestClient, limits_clock: LimitsClock
) -> None:
    first = client.post("/genuine", data={"code": "x"})
    assert first.status_code == 200
    limits_clock.advance(30)
    assert [client.post("/genuine", data={"code": "x"}).status_code for _ in range(10)] == [
        200
    ] * 9 + [429]
    limited = client.post("/genuine", data={"code": "x"})
    assert limited.headers["retry-after"] == "30"  # the first check leaves the minute then
    limits_clock.advance(30.5)
    assert [client.post("/genuine", data={"code": "x"}).status_code for _ in range(2)] == [
        200,
        429,
    ]


def test_read_pasted() -> None:
    ours = "https://x.test"
    assert read_pasted("https://x.test/claim/abc_DEF-1", ours) == (Verdict.UNKNOWN, "abc_DEF-1")
    assert read_pasted("https://x.test/claim/abc/done", ours) == (Verdict.UNKNOWN, "abc")
    assert read_pasted("abc", ours) == (Verdict.UNKNOWN, "abc")
    assert read_pasted("", ours) == (Verdict.UNKNOWN, None)
    assert read_pasted("https://x.test/claim/a/b", ours) == (Verdict.UNKNOWN, None)
    assert read_pasted("/claim/abc/done", ours) == (Verdict.ELSEWHERE, None)
    assert read_pasted("a/b", ours) == (Verdict.ELSEWHERE, None)


def test_logged_request_lines_hide_addresses_and_tokens() -> None:
    from makegood.observability.redaction import mask_claim_tokens

    line = "GET /console/support?q=Jane.Doe%40Example.com HTTP/1.1"
    assert mask_claim_tokens(line) == "GET /console/support?q=<address> HTTP/1.1"
    assert mask_claim_tokens("/api/v1/accounts?email=a@b.co&limit=5") == (
        "/api/v1/accounts?email=<address>&limit=5"
    )
    assert mask_claim_tokens("POST /claim/abc_DEF/done") == "POST /claim/<token>/done"
    assert mask_claim_tokens("GET /appeal/abc_DEF HTTP/1.1") == "GET /appeal/<token> HTTP/1.1"
