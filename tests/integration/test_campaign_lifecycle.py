"""Campaign create -> preview -> approve -> launch, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput, InvalidState, NotFound
from makegood.domain.money import Money
from makegood.domain.policy import FixedAmount, Mode, PercentOfPrice, single
from makegood.domain.tokens import hash_token
from makegood.services.campaign_approval import approve_campaign
from makegood.services.campaign_command import CreateCampaign
from makegood.services.campaigns import create_campaign, create_draft, preview
from makegood.services.launch import launch_campaign
from makegood.services.reports import campaign_report
from makegood.store import outbox
from makegood.store import tables as t
from tests.factories.worlds import evening_outage
from tests.harness.clock import FrozenClock


@pytest.fixture
def world(container: Container, tmp_path: Path) -> tuple[str, str]:
    return evening_outage(container, tmp_path)


def _count(container: Container, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with container.uow() as uow:
        return uow.conn.execute(
            sa.select(sa.func.count()).select_from(table).where(*where)
        ).scalar_one()


def test_origin_case_preview_and_launch(
    container: Container, world: tuple[str, str], clock: FrozenClock
) -> None:
    incident_id, events = world
    campaign_id = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    with container.uow() as uow:
        data = preview(uow, campaign_id)
    assert data["affected"] == 6
    assert data["eligible"] == 3
    assert data["excluded"]["unknown_account"] == 1
    assert data["excluded"]["not_active"] == 1
    assert data["excluded"]["zero_amount"] == 1
    assert data["liability"] == {"JPY": "30", "KWD": "0.105", "USD": "0.24"}
    # The snapshot keeps each account's impact (the account API and status e-mail show it).
    cm = t.cohort_members
    with container.uow() as uow:
        impact = dict(uow.conn.execute(sa.select(cm.c.account_id, cm.c.impact_minutes)).all())
    assert impact["a-us"] == 300  # first failure 20:00, no success after: to the end, 01:00

    with pytest.raises(InvalidState, match="approve it first"):
        launch_campaign(container, campaign_id)
    assert _count(container, t.offers) == 0

    approve_campaign(container, campaign_id)
    launched_at = clock.advance(hours=1)
    result = launch_campaign(container, campaign_id)
    assert result.offers == 3
    assert result.expires_at == launched_at + timedelta(days=7)
    assert _count(container, t.offers) == 3
    assert _count(container, t.offers, t.offers.c.token_hash.is_not(None)) == 3
    assert _count(container, t.claim_tokens) == 0  # the launch link lives on the offer
    # One row per offer: its launch e-mail and in-app message live on it (store/outbox.py).
    assert _count(container, t.messages) == 0
    assert _count(container, t.offers, t.offers.c.email_state == "pending") == 3
    assert _count(container, t.offers, t.offers.c.inapp_state == "unread") == 3

    again = launch_campaign(container, campaign_id)
    assert again.already_launched
    assert again.offers == 0
    assert _count(container, t.offers) == 3

    # Only hashes are stored with the offer; the raw token sits in the pending e-mail alone.
    emails = outbox.all_messages()
    with container.uow() as uow:
        tokens = (
            uow.conn.execute(sa.select(emails.c.claim_token).where(emails.c.channel == "email"))
            .scalars()
            .all()
        )
        hashes = uow.offers.live_link_hashes()
    assert len(tokens) == 3
    assert {hash_token(tok) for tok in tokens if tok} == hashes
    assert all(len(tok or "") >= 43 for tok in tokens)

    with container.uow() as uow:
        report = campaign_report(uow, campaign_id)
    assert (report["affected"], report["offered"], report["notified"], report["claimed"]) == (
        6,
        3,
        0,
        0,
    )
    assert report["claim_rate"] == 0.0


def test_a_draft_carries_its_stored_snapshots_counts(
    container: Container, world: tuple[str, str]
) -> None:
    incident_id, events = world
    campaign_id, built = create_draft(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    with container.uow() as uow:
        data = preview(uow, campaign_id)
    assert (built.affected, built.eligible) == (data["affected"], data["eligible"]) == (6, 3)


def test_fixed_amounts_and_plan_filter(container: Container, world: tuple[str, str]) -> None:
    incident_id, events = world
    policy = single(FixedAmount({"USD": Money.parse("5", "USD")}))
    campaign_id = create_campaign(
        container, CreateCampaign(incident_id, events, policy, plans=["us", "jp", "cheap"])
    )
    with container.uow() as uow:
        data = preview(uow, campaign_id)
    assert data["eligible"] == 2  # a-us and a-cheap get 5 USD
    assert data["excluded"]["no_amount_for_currency"] == 1  # a-jp
    assert data["excluded"]["plan_not_eligible"] == 1  # a-kw
    assert data["liability"] == {"USD": "10.00"}


def test_once_per_account_per_incident_across_campaigns(
    container: Container, world: tuple[str, str]
) -> None:
    incident_id, events = world
    first = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    second = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice(Decimal(5))))
    )
    for campaign_id in (first, second):
        approve_campaign(container, campaign_id)
    assert launch_campaign(container, first).offers == 3
    # At 5 % the cheap plan earns 0.01 (0.005 rounded half up): only that account is new.
    assert launch_campaign(container, second).offers == 1
    assert _count(container, t.offers) == 4
    third = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    with container.uow() as uow:
        assert preview(uow, third)["excluded"]["already_offered"] == 3  # a-cheap: zero at 3 %


def test_auto_mode_grants_at_launch(container: Container, world: tuple[str, str]) -> None:
    incident_id, events = world
    campaign_id = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()), mode=Mode.AUTO)
    )
    approve_campaign(container, campaign_id)
    launch_campaign(container, campaign_id)
    assert _count(container, t.credits) == 3
    assert _count(container, t.claim_tokens) == 0
    assert _count(container, t.offers, t.offers.c.token_hash.is_not(None)) == 0
    assert _count(container, t.offers, t.offers.c.state == "granted") == 3
    with container.uow() as uow:
        report = campaign_report(uow, campaign_id)
    assert report["claimed"] == 3
    assert report["claimed_amount"] == {"JPY": "30", "KWD": "0.105", "USD": "0.24"}


def test_wrong_states_and_unknown_ids_change_nothing(
    container: Container, world: tuple[str, str]
) -> None:
    incident_id, events = world
    campaign_id = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    approve_campaign(container, campaign_id)
    with pytest.raises(InvalidState):
        approve_campaign(container, campaign_id)
    with pytest.raises(NotFound):
        launch_campaign(container, "cmp_nope")
    with pytest.raises(NotFound):
        create_campaign(container, CreateCampaign("inc_nope", events, single(PercentOfPrice())))
    with pytest.raises(InvalidInput, match="unknown plan"):
        create_campaign(
            container, CreateCampaign(incident_id, events, single(PercentOfPrice()), plans=["gold"])
        )
    assert _count(container, t.campaigns) == 1


@pytest.mark.parametrize(
    "stored",
    [
        {"percent": "abc"},
        {"tier": "x"},
        {"kind": "bogus"},
        {"kind": "percent"},
        ["percent"],
        {"kind": "percent", "percent": "abc"},  # decimal.InvalidOperation, no ValueError
    ],
)
def test_a_draft_whose_stored_policy_does_not_read_is_not_approved(
    container: Container, world: tuple[str, str], stored: object
) -> None:
    incident_id, events = world
    campaign_id = create_campaign(
        container, CreateCampaign(incident_id, events, single(PercentOfPrice()))
    )
    with container.uow() as uow:
        uow.conn.execute(
            t.campaigns.update().where(t.campaigns.c.id == campaign_id).values(policy=stored)
        )
        uow.commit()
    with pytest.raises(InvalidInput, match=f"campaign {campaign_id}: its stored policy"):
        approve_campaign(container, campaign_id)
    with container.uow() as uow:
        row = uow.campaigns.get(campaign_id)
        assert row is not None
        assert row["state"] == "draft"
        actions = [
            e["action"] for e in uow.audit.entries(subject_ids=[campaign_id], before=None, limit=10)
        ]
    assert "campaign.approved" not in actions
