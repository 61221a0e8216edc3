"""Lookups with one home each in store/, on SQLite and PostgreSQL: a user by e-mail (for a
new user's uniqueness, the person behind an actor and an API key's owner alike), and a
campaign's credits with their state (for reconciling and for reversing it)."""

from __future__ import annotations

from datetime import timedelta

from makegood.bootstrap import Container
from makegood.services.people import person_of
from makegood.services.user_admin import set_disabled
from makegood.services.users import add_user
from tests.factories.billing import OPEN_UNTIL, SEEDED_AT, add_account, add_plan
from tests.factories.incidents import insert_incident_and_campaign
from tests.factories.offers import add_offer, claim
from tests.factories.staff import PASSWORD


def test_a_user_by_e_mail_names_the_id_and_whether_disabled(container: Container) -> None:
    now = container.now()
    with container.uow() as uow:
        user_id = add_user(uow, "Ann@Example.org", "approver", PASSWORD, now)
        set_disabled(uow, user_id, True, now)
        uow.commit()

    with container.uow() as uow:
        found = uow.users.by_email("ann@example.org")
        assert found is not None
        assert (found["id"], found["disabled_at"]) == (user_id, now)
        assert uow.users.by_email("bob@example.org") is None
        # A disabled user is still the person behind their e-mail.
        assert person_of(uow, " ANN@example.org") == f"user:{user_id}"


def test_a_campaigns_credits_come_by_id_with_every_column_and_their_state(
    container: Container,
) -> None:
    with container.engine.begin() as conn:
        add_plan(conn)
        incident_id, campaign_id = insert_incident_and_campaign(
            conn,
            title="Outage",
            starts_at=SEEDED_AT - timedelta(hours=5),
            ends_at=SEEDED_AT - timedelta(hours=1),
            at=SEEDED_AT,
            affected_count=2,
        )
        credit_ids = []
        for account_id in ("acc_b", "acc_a"):
            add_account(conn, account_id)
            offer_id = add_offer(
                conn,
                campaign_id=campaign_id,
                incident_id=incident_id,
                account_id=account_id,
                plan_id="basic",
                created_at=SEEDED_AT,
                expires_at=OPEN_UNTIL,
            )
            credit_ids.append(claim(conn, offer_id, SEEDED_AT).credit_id)
    held = credit_ids[0]
    with container.uow() as uow:
        uow.ledger.set_state(held, "held", "account paused", SEEDED_AT)
        uow.commit()

    with container.uow() as uow:
        found = uow.credits.of_campaign(campaign_id)

    assert list(found) == sorted(credit_ids)
    assert {credit_id: row.state for credit_id, row in found.items()} == {
        held: "held",
        credit_ids[1]: None,
    }
    row = found[held]
    assert (row.account_id, row.campaign_id, row.amount_minor, row.currency) == (
        "acc_b",
        campaign_id,
        24,
        "USD",
    )
    assert row.applied_minor == 0
    assert row.offer_id is not None
    assert row.granted_at == SEEDED_AT
