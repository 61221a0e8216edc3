"""Campaign use cases as a signed-in person runs them: policy from form fields, four-eyes approval.

The CLI's `campaign approve` stays as it was (one operator at a terminal); people in the console
and callers of the API go through `approve_as`, which refuses the person who created the
campaign, whichever channel they used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from makegood.bootstrap import Container
from makegood.domain.appeals import DEFAULT_APPEAL_DAYS
from makegood.domain.currencies import is_known_currency
from makegood.domain.errors import InvalidInput, MakegoodError
from makegood.domain.money import MoneyError, parse_amount
from makegood.domain.policy import (
    CreditPolicy,
    FixedAmount,
    Mode,
    PercentOfPrice,
    parse_percent,
    single,
)
from makegood.domain.policy_document import PolicyError, dotted, from_document
from makegood.domain.policy_text import read_policy
from makegood.services.campaign_approval import approve_campaign
from makegood.services.campaign_command import CreateCampaign
from makegood.services.campaigns import get_campaign
from makegood.services.events_root import confine_events, remote_errors
from makegood.services.people import same_person


class SelfApproval(MakegoodError):
    """The person who created a campaign may not approve it: a second person must."""


def policy_from_fields(percent: str | None, fixed: Mapping[str, str] | None) -> CreditPolicy:
    """A percent of the plan price, or fixed amounts per currency (major units); not both."""
    fixed = {k.strip().upper(): v for k, v in (fixed or {}).items() if v and v.strip()}
    percent = percent.strip() if percent and percent.strip() else None
    if percent is not None and fixed:
        raise InvalidInput("policy: give either a percent or fixed amounts, not both")
    if not fixed:
        try:
            return single(
                PercentOfPrice() if percent is None else PercentOfPrice(parse_percent(percent))
            )
        except MoneyError as exc:
            raise InvalidInput(f"percent: {exc}") from None
    amounts = {}
    for cur, amount in fixed.items():
        try:
            amounts[cur] = parse_amount(amount, cur)
        except MoneyError as exc:
            field = f"fixed {cur}" if is_known_currency(cur) else "fixed"
            raise InvalidInput(f"{field}: {exc}") from None
    try:
        return single(FixedAmount(amounts))
    except MoneyError as exc:
        raise InvalidInput(f"fixed: {exc}") from None


def policy_from_request(
    percent: str | None, fixed: Mapping[str, str] | None, document: Any, field: str = "policy"
) -> CreditPolicy:
    """A policy document (a mapping, or TOML/JSON text from a form) or the percent/fixed
    shortcut fields; a problem names the field path (`policy.tier[1].percent`)."""
    if document is None or (isinstance(document, str) and not document.strip()):
        return policy_from_fields(percent, fixed)
    has_fixed = any(v and str(v).strip() for v in (fixed or {}).values())
    if (percent and percent.strip()) or has_fixed:
        raise InvalidInput(f"{field}: give either a policy or a percent / fixed amounts, not both")
    if isinstance(document, str):
        if len(document) > 100_000:
            raise InvalidInput(f"{field}: a policy is a few lines; this one is over 100 kB")
        return read_policy(document, field)
    try:
        return from_document(document)
    except PolicyError as exc:
        raise InvalidInput(f"{dotted(exc.path, field)}: {exc.problem}") from None


def create_command(
    incident_id: str,
    events: str,
    policy: CreditPolicy,
    claim_days: int,
    plans: Sequence[str] | None,
    mode: str,
    actor: str,
    pay_within_days: int | None = None,
    appeal_days: int = DEFAULT_APPEAL_DAYS,
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
        pay_within_days=pay_within_days,
        appeal_days=appeal_days,
    )


def create_for_remote(container: Container, cmd: CreateCampaign) -> str:
    """`submit_campaign` for the API and the console (a worker builds the draft): `events` is
    confined to MAKEGOOD_EVENTS_ROOT and errors name no server path or cell value
    (services.events_root; the build's failure reason is redacted the same way)."""
    from makegood.services.build_jobs import submit_campaign

    root = container.settings.events_root
    confined = replace(cmd, events=confine_events(cmd.events, root))
    assert root is not None  # confine_events refused otherwise
    with remote_errors(root.resolve()):
        return submit_campaign(container, confined)


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
