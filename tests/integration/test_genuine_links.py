"""/genuine vouches only for links to our own address (issue 12, item 1): a link on any other
scheme, host, port or path answers "cannot confirm" and says where our links point."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.web.app import create_app
from makegood.web.texts import TEXTS
from tests.factories.offers import seed_offer

PUBLIC = "https://credits.streamco.test/make-good"


@pytest.fixture
def client(container: Container) -> Checker:
    settings = container.settings.model_copy(update={"public_url": PUBLIC + "/"})
    return Checker(create_app(replace(container, settings=settings)))


class Checker:
    """Posts each check from a new client address: the page allows 10 checks per address."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.clients = 0

    def post(self, code: str, language: str) -> httpx.Response:
        self.clients += 1
        client = TestClient(self.app, client=(f"192.0.2.{self.clients}", 50000))
        answer: httpx.Response = client.post(
            "/genuine", data={"code": code}, headers={"accept-language": language}
        )
        return answer


def verdict(client: Checker, code: str, language: str = "en") -> tuple[str, str]:
    page = client.post(code, language)
    assert page.status_code == 200, page.text
    return page.text.split('data-verdict="')[1].split('"')[0], page.text


def test_only_links_to_our_address_and_bare_codes_are_vouched_for(
    client: Checker, container: Container
) -> None:
    token = seed_offer(container.engine, container.now()).token
    for ours in (
        token,
        f"  {token} ",
        f"{PUBLIC}/claim/{token}",
        f"{PUBLIC}/claim/{token}/done?utm=mail#top",
        f"HTTPS://Credits.StreamCo.test:443/make-good/claim/{token}",
    ):
        assert verdict(client, ours)[0] == "real", ours
    for elsewhere in (
        f"https://streamco-credits.evil.example/claim/{token}",
        f"javascript:x//claim/{token}",
        f"http://credits.streamco.test/make-good/claim/{token}",  # scheme
        f"https://credits.streamco.test:8443/make-good/claim/{token}",  # port
        f"https://credits.streamco.test/claim/{token}",  # path prefix
        f"https://credits.streamco.test/make-goodx/claim/{token}",
        f"https://credits.streamco.test.evil.example/make-good/claim/{token}",
        f"https://credits.streamco.test@evil.example/make-good/claim/{token}",
        f"https://evil@credits.streamco.test/make-good/claim/{token}",
        f"https://evil.example/?next={PUBLIC}/claim/{token}",
        f"/make-good/claim/{token}",
        f"credits.streamco.test/make-good/claim/{token}",
    ):
        kind, page = verdict(client, elsewhere)
        assert kind == "elsewhere", elsewhere
        assert "this link does not point to https://credits.streamco.test/make-good" in re.sub(
            r"<[^>]+>", "", page
        )


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_the_reason_is_given_in_each_language_of_the_page(
    client: Checker, container: Container, language: str
) -> None:
    token = seed_offer(container.engine, container.now()).token
    kind, page = verdict(client, f"https://evil.example/claim/{token}", language)
    assert kind == "elsewhere"
    expected = TEXTS[language]["genuine_elsewhere"].format(
        service="StreamCo", address="https://credits.streamco.test/make-good"
    )
    # The values are isolated (<bdi>, dir="ltr") so right-to-left text keeps them whole.
    assert str(escape(expected)) in re.sub(r"<[^>]+>", "", page)
    assert expected != TEXTS["en"]["genuine_elsewhere"] or language == "en"
