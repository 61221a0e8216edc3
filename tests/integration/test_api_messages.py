"""In-app messages over the API: listed in the account's language, claimed exactly once through
the same path as the claim link, dismissed for good."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.store import tables as t
from tests.factories.offers import credit_rows, seed_offer
from tests.factories.staff import add_inapp_message, api_key
from tests.harness.clock import FrozenClock


def test_messages_are_in_the_accounts_language_with_a_claim_action(
    client: TestClient, container: Container
) -> None:
    seeded = seed_offer(container.engine, container.now(), locale="fr-FR", currency="EUR")
    message_id = add_inapp_message(container, seeded.offer_id, seeded.account_id)
    key = api_key(container, "messages:read")

    messages = client.get(f"/api/v1/accounts/{seeded.account_id}/messages", headers=key).json()

    assert [m["id"] for m in messages] == [message_id]
    message = messages[0]
    assert message["language"] == "fr"
    assert message["kind"] == "claim"
    assert message["amount"].replace("\u202f", " ").replace("\u00a0", " ") == "0,24 €"
    assert "Premium Streaming" in message["body"]
    assert "avant le" in message["body"]
    claim = next(a for a in message["actions"] if a["name"] == "claim")
    assert claim["href"] == f"/api/v1/accounts/{seeded.account_id}/messages/{message_id}/claim"
    assert claim["label"] == "Appliquer mon crédit"


def test_claim_is_exactly_once_and_dismiss_hides(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now())
    message_id = add_inapp_message(container, seeded.offer_id, seeded.account_id)
    key = api_key(container, "messages:read", "messages:write")
    base = f"/api/v1/accounts/{seeded.account_id}/messages/{message_id}"

    other = seed_offer(container.engine, container.now(), email="other@example.com")
    wrong_account = f"/api/v1/accounts/{other.account_id}/messages/{message_id}/claim"
    assert client.post(wrong_account, headers=key).status_code == 404
    assert credit_rows(container.engine, seeded.offer_id) == []

    first = client.post(f"{base}/claim", headers=key)
    assert first.status_code == 200, first.text
    assert first.json()["amount"] == "$0.24"
    second = client.post(f"{base}/claim", headers=key)
    assert second.status_code == 409
    assert second.json()["error"] == "already_claimed"
    assert len(credit_rows(container.engine, seeded.offer_id)) == 1
    with container.engine.connect() as conn:
        via = (
            conn.execute(t.offers.select().where(t.offers.c.id == seeded.offer_id))
            .mappings()
            .one()["credited_via"]
        )
    assert via == "inapp"

    # A claimed offer's message is no longer pending; a credit message (an offer granted at
    # launch, automatic mode) stays until dismissed.
    listed = client.get(f"/api/v1/accounts/{seeded.account_id}/messages", headers=key).json()
    assert listed == []
    auto = seed_offer(container.engine, container.now(), email="auto@example.com")
    granted = add_inapp_message(container, auto.offer_id, auto.account_id, "offer_granted")
    listed = client.get(f"/api/v1/accounts/{auto.account_id}/messages", headers=key).json()
    assert [(m["id"], m["kind"]) for m in listed] == [(granted, "credit")]
    assert [a["name"] for a in listed[0]["actions"]] == ["dismiss"]
    dismissed = client.post(
        f"/api/v1/accounts/{auto.account_id}/messages/{granted}/dismiss", headers=key
    )
    assert dismissed.status_code == 204
    assert client.get(f"/api/v1/accounts/{auto.account_id}/messages", headers=key).json() == []


def test_expired_offer_message_is_not_pending_and_cannot_be_claimed(
    client: TestClient, container: Container, clock: FrozenClock
) -> None:
    seeded = seed_offer(container.engine, container.now(), claim_days=1)
    message_id = add_inapp_message(container, seeded.offer_id, seeded.account_id)
    key = api_key(container, "messages:read", "messages:write")
    clock.advance(days=1)
    url = f"/api/v1/accounts/{seeded.account_id}/messages"
    assert client.get(url, headers=key).json() == []
    response = client.post(f"{url}/{message_id}/claim", headers=key)
    assert response.status_code == 410
    assert credit_rows(container.engine, seeded.offer_id) == []
    assert client.get("/api/v1/accounts/acc_nobody/messages", headers=key).status_code == 404
