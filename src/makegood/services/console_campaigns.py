"""Campaign use cases as a signed-in person runs them: policy from form fields, four-eyes approval.

The CLI's `campaign approve` stays as it was (one operator at a terminal); people in the console
and callers of the API go through `approve_as`, which refuses the person who created the
campaign, whichever channel they used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from makegood.bootstrap import Container
from makegood.domain.currencies import is_known_currency
from makegood.domain.errors import InvalidInput, MakegoodError
from makegood.domain.money import MoneyError, parse_amount
from makegood.domain.policy import FixedAmount, Mode, PercentOfPrice, Policy, parse_percent
from makegood.services.campaigns import CreateCampaign, approve_campaign, get_campaign
from makegood.services.people import same_person


class SelfApproval(MakegoodError):
    """The person who created a campaign may not approve it: a second person must."""


def policy_from_fields(percent: str | None, fixed: Mapping[str, str] | None) -> Policy:
    """A percent of the plan price, or fixed amounts per currency (major units); not both."""
    fixed = {k.strip().upper(): v for k, v in (fixed or {}).items() if v and v.strip()}
    percent = percent.strip() if percent and percent.strip() else None
    if percent is not None and fixed:
        raise InvalidInput("policy: give either a percent or fixed amounts, not both")
    if not fixed:
        try:
            return PercentOfPrice() if percent is None else PercentOfPrice(parse_percent(percent))
        except MoneyError as exc:
            raise InvalidInput(f"percent: {exc}") from None
    amounts = {}
    for cur, amount in fixed.items():
        try:
            amounts[cur] = parse_amount(amount, cur)
        except MoneyError as exc:
            field = f"fixed {cur}" if is_known_currency(cur) else "fixed"
            raise InvalidInput(f"{field}: {exc}") from None
    return FixedAmount(amounts)


def create_command(
    incident_id: str,
    events: str,
    policy: Policy,
    claim_days: int,
    plans: Sequence[str] | None,
    mode: str,
    actor: str,
) -> CreateCampaign:
    """The create-campaign command from form or JSON fields, with clear errors."""
    if not events.strip():
        raise InvalidInput("events: give the location of the playback attempt logs")
    try:
        chosen = Mode(mode)
    except ValueError:
        raise InvalidInput("mode: use claim or auto") from None
    return CreateCampaign(
        incident_id=incident_id,
        events=events.strip(),
        policy=policy,
        claim_days=claim_days,
        plans=list(plans) if plans else None,
        mode=chosen,
        actor=actor,
    )


def approve_as(container: Container, campaign_id: str, actor: str) -> None:
    """Approve a draft as `actor`, who must not be the person who created it: on any channel,
    a console user and the API keys they own are one person (services.people)."""
    with container.uow() as uow:
        created_by = get_campaign(uow, campaign_id).created_by
        # The creator of a campaign and the owner of a key never change, so checking before
        # the approval is race-free.
        own = same_person(uow, created_by, actor)
    if own:
        raise SelfApproval(
            "you created this campaign (yourself or through an API key you own); another "
            "approver must approve it (four-eyes rule)"
        )
    approve_campaign(container, campaign_id, actor=actor)
