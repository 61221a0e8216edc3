"""Approving a draft campaign, and the look-up of a campaign's row every campaign use case
starts from.

Apart from services/campaigns.py so that `makegood campaign approve`, which needs only the
campaign's state, loads neither the credit policies nor the snapshot's use cases (issue 13,
item 4; tests/integration/test_cli_startup_imports.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from makegood.domain.errors import NotFound
from makegood.domain.offers import CampaignState, check_transition

if TYPE_CHECKING:
    from makegood.bootstrap import Container
    from makegood.store.repository import RowMapping
    from makegood.store.uow import UnitOfWork


def campaign_row(uow: UnitOfWork, campaign_id: str, lock: bool = False) -> RowMapping:
    """The campaign's stored row, or NotFound; `lock` takes a row lock on PostgreSQL."""
    row = uow.campaigns.get(campaign_id, lock)
    if row is None:
        raise NotFound(f"no campaign {campaign_id!r}; `makegood campaign create` prints the id")
    return row


def approve_campaign(container: Container, campaign_id: str, actor: str = "cli") -> None:
    """Move a draft to approved; any other state is refused and nothing changes."""
    now = container.now()
    with container.uow() as uow:
        state = campaign_row(uow, campaign_id, lock=True)["state"]
        check_transition(state, CampaignState.APPROVED)
        if not uow.campaigns.approve(campaign_id, now, actor):
            check_transition(campaign_row(uow, campaign_id)["state"], CampaignState.APPROVED)
        uow.audit.record(now, actor, "campaign.approved", "campaign", campaign_id)
        uow.commit()
