"""The campaigns repository on SQLite and PostgreSQL alike: what other use cases ask of the
campaigns table is asked there (its one home), e.g. the newest launched campaign of each
incident, which an appeal link is issued for."""

from __future__ import annotations

from datetime import timedelta

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from tests.factories.incidents import insert_incident_and_campaign


def test_the_newest_launched_campaign_of_each_incident(container: Container) -> None:
    now = container.now()
    with container.engine.begin() as conn:
        first, older = insert_incident_and_campaign(
            conn,
            title="Outage",
            starts_at=now - timedelta(days=2),
            ends_at=now - timedelta(days=1),
            at=now,
            affected_count=1,
            launched_at=now - timedelta(hours=5),
            appeal_days=30,
        )
        other, only = insert_incident_and_campaign(
            conn,
            title="Another outage",
            starts_at=now - timedelta(days=2),
            ends_at=now - timedelta(days=1),
            at=now,
            affected_count=1,
            launched_at=now - timedelta(hours=9),
            appeal_days=14,
        )
    with container.uow() as uow:
        newer, draft = new_id("cmp"), new_id("cmp")
        base = {
            "incident_id": first,
            "mode": "claim",
            "policy": {"kind": "percent", "percent": "3"},
            "claim_days": 7,
            "eligible_plans": None,
            "events_source": "test",
            "affected_count": 1,
            "created_at": now,
            "created_by": "test",
        }
        uow.campaigns.add(
            {**base, "id": newer, "state": "launched", "launched_at": now - timedelta(hours=1)}
        )
        uow.campaigns.add({**base, "id": draft, "state": "draft"})  # not launched: not chosen
        uow.commit()
    with container.uow() as uow:
        chosen = uow.campaigns.newest_launched(["missing", first, other])
        assert uow.campaigns.newest_launched([]) == {}
    assert {incident: c["id"] for incident, c in chosen.items()} == {first: newer, other: only}
    assert chosen[other]["appeal_days"] == 14
    assert chosen[other]["launched_at"] == now - timedelta(hours=9)
    assert older != newer
