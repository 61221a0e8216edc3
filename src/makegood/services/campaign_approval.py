"""Approving a draft campaign, and the look-up of a campaign's row every campaign use case
starts from.

Apart from services/campaigns.py so that `makegood campaign approve`, which needs only the
campaign's state, loads neither the credit policies nor the snapshot's use cases (issue 13,
item 4; tests/integration/test_cli_startup_imports.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from makegood.domain.errors import InvalidInput, NotFound
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
    """Move a draft to approved; any other state is refused and nothing changes. So is a
    draft whose stored policy no longer reads as one (what the launch would decide on)."""
    now = container.now()
    with container.uow() as uow:
        row = campaign_row(uow, campaign_id, lock=True)
        check_transition(row["state"], CampaignState.APPROVED)
        _check_policy(campaign_id, row["policy"])
        if not uow.campaigns.approve(campaign_id, now, actor):
            check_transition(campaign_row(uow, campaign_id)["state"], CampaignState.APPROVED)
        uow.audit.record(now, actor, "campaign.approved", "campaign", campaign_id)
        uow.commit()


def _check_policy(campaign_id: str, stored: Any) -> None:
    """The draft's stored policy must read as the policy it was built with (a row edited by
    hand, or written by another version, would otherwise only fail at launch). Imported here:
    an approve with no work to do never gets this far."""
    from makegood.domain.policy_document import from_stored

    try:
        from_stored(stored)
    except (InvalidInput, ValueError, ArithmeticError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"campaign {campaign_id}: its stored policy cannot be read ({exc}); nothing was "
            "approved: create the campaign again (`makegood campaign create`)"
        ) from exc
