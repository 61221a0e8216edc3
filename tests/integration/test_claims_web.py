"""The claim pages through FastAPI's TestClient, on real SQLite and PostgreSQL."""

from __future__ import annotations

import re
import string
import warnings

import pytest

with warnings.catch_warnings():
    # Starlette would rather have the `httpx2` fork; plain httpx works and is what we ship.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.domain.languages import LANGUAGES
from makegood.web.csrf import NONCE_COOKIE
from makegood.web.texts import TEXTS
from tests.factories.offers import credit_rows, seed_offer, snapshot
from tests.harness.clock import FrozenClock

CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def page_of(html: str) -> str:
    match = re.search(r'<main data-page="([a-z_]+)">', html)
    assert match, html
    return match.group(1)


def open_offer(client: TestClient, token: str) -> str:
    """GET the claim page like a browser: keeps the nonce cookie, returns the form's CSRF token."""
    response = client.get(f"/claim/{token}")
    assert response.status_code == 200
    assert page_of(response.text) == "offer"
    match = CSRF_FIELD.search(response.text)
    assert match
    return match.group(1)


def test_get_shows_the_offer_and_changes_nothing(client: TestClient, container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    before = snapshot(container.engine)

    pages = [client.get(f"/claim/{seeded.token}") for _ in range(3)]

    assert snapshot(container.engine) == before
    response = pages[0]
    assert response.status_code == 200
    html = response.text
    assert page_of(html) == "offer"
    assert "$0.24" in html
    assert "Premium Streaming" in html
    assert "j***@example.com" in html
    assert "jane.doe@example.com" not in html
    assert "4 failed attempts to play on your account, between" in html
    assert "March 30, 2026" in html
    assert "UTC" in html
    assert '<form method="post">' in html
    assert html.count("<button") == 1
    assert "<script" not in html
    assert "+1 800 555 0100" in html
    cookie = response.headers["set-cookie"]
    assert f"{NONCE_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "Path=/claim" in cookie
    assert "samesite=lax" in cookie.lower()


def test_every_response_carries_the_protective_headers(
    client: TestClient, container: Container
) -> None:
    seeded = seed_offer(container.engine, container.now())
    for response in (client.get(f"/claim/{seeded.token}"), client.get("/claim/unknown")):
        headers = response.headers
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        assert "noindex" in headers["x-robots-tag"]
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "style-src 'sha256-" in csp
        assert "script-src" not in csp  # falls back to default-src 'none'


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
def test_post_without_valid_csrf_is_refused_and_changes_nothing(
    client: TestClient, container: Container, csrf: str | None
) -> None:
    seeded = seed_offer(container.engine, container.now())
    open_offer(client, seeded.token)  # the browser holds a nonce cookie
    before = snapshot(container.engine)

    data = {} if csrf is None else {"csrf_token": csrf}
    response = client.post(f"/claim/{seeded.token}", data=data)

    assert response.status_code == 403
    assert page_of(response.text) == "forbidden"
    assert snapshot(container.engine) == before


def test_post_without_the_cookie_is_refused(client: TestClient, container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    csrf = open_offer(client, seeded.token)
    client.cookies.clear()
    before = snapshot(container.engine)

    response = client.post(f"/claim/{seeded.token}", data={"csrf_token": csrf})

    assert response.status_code == 403
    assert snapshot(container.engine) == before


def test_csrf_token_of_one_link_does_not_claim_another(
    client: TestClient, container: Container
) -> None:
    first = seed_offer(container.engine, container.now(), email="a@example.com")
    second = seed_offer(container.engine, container.now(), email="b@example.com")
    csrf_for_first = open_offer(client, first.token)

    response = client.post(f"/claim/{second.token}", data={"csrf_token": csrf_for_first})

    assert response.status_code == 403
    assert credit_rows(container.engine, second.offer_id) == []


def test_valid_post_applies_the_credit_once_and_confirms(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now())
    csrf = open_offer(client, seeded.token)
    clock.advance(minutes=5)

    response = client.post(f"/claim/{seeded.token}", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert response.headers["location"] == f"/claim/{seeded.token}/done"
    credits = credit_rows(container.engine, seeded.offer_id)
    assert len(credits) == 1
    assert credits[0].granted_at == clock.now
    done = client.get(response.headers["location"])
    assert done.status_code == 200
    assert page_of(done.text) == "done"
    assert "$0.24" in done.text
    assert "April 1, 2026" in done.text  # the statement it will appear on

    again = client.post(f"/claim/{seeded.token}", data={"csrf_token": csrf})

    assert again.status_code == 200
    assert page_of(again.text) == "already"
    assert "April 1, 2026" in again.text
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1
    reopened = client.get(f"/claim/{seeded.token}")
    assert (reopened.status_code, page_of(reopened.text)) == (200, "already")
    assert "csrf_token" not in reopened.text


def test_done_page_before_claiming_sends_back_to_the_offer(
    client: TestClient, container: Container
) -> None:
    seeded = seed_offer(container.engine, container.now())
    response = client.get(f"/claim/{seeded.token}/done")
    assert response.status_code == 303
    assert response.headers["location"] == f"/claim/{seeded.token}"
    assert credit_rows(container.engine, seeded.offer_id) == []


def test_expired_offer_answers_410_with_support_and_no_credit(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now())
    csrf = open_offer(client, seeded.token)
    clock.advance(days=7, seconds=1)

    shown = client.get(f"/claim/{seeded.token}")
    posted = client.post(f"/claim/{seeded.token}", data={"csrf_token": csrf})

    for response in (shown, posted):
        assert response.status_code == 410
        assert page_of(response.text) == "expired"
        assert "March 30, 2026" in response.text
        assert "+1 800 555 0100" in response.text
        assert "https://help.example.com" in response.text
    assert credit_rows(container.engine, seeded.offer_id) == []


def test_unknown_link_is_404(client: TestClient, container: Container) -> None:
    seed_offer(container.engine, container.now())
    response = client.get("/claim/this-is-not-a-token")
    assert response.status_code == 404
    assert page_of(response.text) == "not_found"
    assert "example.com" not in response.text.replace("help.example.com", "")


def test_revoked_link_is_404_and_cannot_be_claimed(
    client: TestClient, container: Container
) -> None:
    seeded = seed_offer(container.engine, container.now(), token_revoked=True)
    shown = client.get(f"/claim/{seeded.token}")
    assert shown.status_code == 404
    assert page_of(shown.text) == "not_found"
    assert "Premium Streaming" not in shown.text


@pytest.mark.parametrize(
    ("locale", "currency", "amount_minor", "amount_text", "language"),
    [
        ("fr-FR", "EUR", 30, "0,30 €", "fr"),
        ("ja-JP", "JPY", 30, "￥30", "ja"),
        ("de-DE", "EUR", 24, "0,24 €", "de"),
        ("pt-BR", "BRL", 60, "R$ 0,60", "pt"),
        ("es-MX", "MXN", 300, "$3.00", "es"),
        ("sw-KE", "KWD", 105, "KWD0.105", "en"),  # no Swahili texts: English throughout
        ("ar-EG", "EGP", 1250, "<bdi>\u200f12.50 ج.م.\u200f</bdi>", "ar"),
        ("tr-TR", "TRY", 1250, "<bdi>₺12,50</bdi>", "tr"),
    ],
)
def test_page_speaks_the_account_language(
    client: TestClient,
    container: Container,
    locale: str,
    currency: str,
    amount_minor: int,
    amount_text: str,
    language: str,
) -> None:
    seeded = seed_offer(
        container.engine,
        container.now(),
        locale=locale,
        currency=currency,
        amount_minor=amount_minor,
    )
    html = client.get(f"/claim/{seeded.token}").text
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert amount_text in html
    assert TEXTS[language]["confirm_button"] in html


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_every_language_has_every_text() -> None:
    keys = set(TEXTS["en"])
    assert set(TEXTS) == set(LANGUAGES)
    for language, texts in TEXTS.items():
        assert set(texts) == keys, language
        for key, text in texts.items():
            # The same placeholders as English's, so no value is lost or asked for in vain.
            assert placeholders(text) == placeholders(TEXTS["en"][key]), (language, key)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
