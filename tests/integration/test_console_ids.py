"""Console links to ids with reserved characters, and the audit log's page cursor (issue 12,
items 11 and 12)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from urllib.parse import quote

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.web.app import create_app
from tests.factories.offers import seed_offer
from tests.factories.staff import add_staff, api_key, session_cookie

ODD_IDS = ["acme/42", "a b?c#d%e&f", "../incidents", "x/"]


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), follow_redirects=False) as client:
        client.cookies.update(session_cookie(container, add_staff(container, "agent")))
        yield client


@pytest.mark.parametrize("account_id", ODD_IDS)
def test_an_account_id_with_reserved_characters_opens_from_the_search(
    client: TestClient, container: Container, account_id: str
) -> None:
    seed_offer(container.engine, container.now(), account_id=account_id, email="odd@example.com")
    seed_offer(container.engine, container.now(), email="odd@example.com")  # two hits: a list

    listing = client.get("/console/support", params={"q": "odd@example.com"})
    assert listing.status_code == 200
    links = re.findall(r'href="(/console/accounts/[^"]+)"', listing.text)
    assert f"/console/accounts/{quote(account_id, safe='')}" in links
    for link in links:
        page = client.get(link)
        assert page.status_code == 200, (link, page.status_code)
    page = client.get(f"/console/accounts/{quote(account_id, safe='')}")
    assert f'<dd id="account-id">{account_id.replace("&", "&amp;")}</dd>' in page.text


def test_one_hit_redirects_to_the_encoded_account(client: TestClient, container: Container) -> None:
    seed_offer(container.engine, container.now(), account_id="acme/7", email="solo@example.com")
    found = client.get("/console/support", params={"q": "solo@example.com"})
    assert found.status_code == 303
    assert found.headers["location"] == "/console/accounts/acme%2F7"
    assert client.get(found.headers["location"]).status_code == 200


@pytest.mark.parametrize("before", ["99999999999999999999999", "0", "-1", str(2**63)])
def test_console_audit_bounds_the_cursor_as_the_api_does(
    client: TestClient, container: Container, before: str
) -> None:
    console = client.get("/console/audit", params={"before": before})
    api = client.get("/api/v1/audit", params={"before": before}, headers=api_key(container))
    assert api.status_code == 422
    assert console.status_code == 422
    assert "before" in console.text
    assert "default-src 'none'" in console.headers["content-security-policy"]
    assert client.get("/console/audit", params={"before": str(2**62)}).status_code == 200
