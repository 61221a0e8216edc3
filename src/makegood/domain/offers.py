"""Offer and campaign states and the transitions between them (pure)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from makegood.domain import errors


class CampaignState(StrEnum):
    BUILDING = "building"  # its snapshot is being computed by a build job
    FAILED = "failed"  # the build failed; the reason is on the build job
    DRAFT = "draft"
    APPROVED = "approved"
    LAUNCHING = "launching"  # offers are being issued, chunk by chunk; launch again to finish
    LAUNCHED = "launched"


class OfferState(StrEnum):
    OPEN = "open"  # waiting for the subscriber's claim
    CLAIMED = "claimed"  # the subscriber confirmed; a credit exists
    GRANTED = "granted"  # credited without a claim (automatic mode, or by an agent)
    REVOKED = "revoked"  # withdrawn


CREDITED = (OfferState.CLAIMED, OfferState.GRANTED)


def claimable(
    state: str, expires_at: datetime, now: datetime | None, *, even_after_expiry: bool = False
) -> bool:
    """Whether an offer in `state` whose window ends at `expires_at` can be credited at `now`:
    it is open and its window has not closed. `even_after_expiry` asks only whether it is open
    (a goodwill grant, a withdrawal); then `now` may be None. The repository's SQL form of this
    rule is `store.offers.claimable_clause`."""
    if state != OfferState.OPEN:
        return False
    if even_after_expiry:
        return True
    if now is None:
        raise ValueError("now is needed unless even_after_expiry")
    return now < expires_at


def check_claimable(
    state: str, expires_at: datetime, now: datetime, *, even_after_expiry: bool = False
) -> None:
    """Raise the domain error that explains why an offer in `state` cannot be claimed at `now`."""
    if state in CREDITED:
        raise errors.OfferAlreadyClaimed("this credit has already been applied")
    if state == OfferState.REVOKED:
        raise errors.OfferRevoked("this link is no longer valid")
    if not claimable(state, expires_at, now, even_after_expiry=even_after_expiry):
        raise errors.OfferExpired("the claim window for this credit has closed")


def check_launchable(current: str) -> None:
    """A launch starts from `approved` or finishes an interrupted one (`launching`)."""
    if current in (CampaignState.APPROVED, CampaignState.LAUNCHING):
        return
    check_transition(current, CampaignState.LAUNCHED)


def check_transition(current: str, wanted: CampaignState) -> None:
    """Campaigns go (building ->) draft -> approved -> launched, one step at a time; a build
    ends in draft or failed."""
    allowed = {
        CampaignState.DRAFT: CampaignState.BUILDING,
        CampaignState.FAILED: CampaignState.BUILDING,
        CampaignState.APPROVED: CampaignState.DRAFT,
        CampaignState.LAUNCHED: CampaignState.APPROVED,
    }
    if allowed.get(wanted) != current:
        needed = allowed.get(wanted)
        raise errors.InvalidState(
            f"campaign is {current}; it must be {needed} to be {wanted}"
            + (
                " (approve it first)"
                if wanted == CampaignState.LAUNCHED and current == "draft"
                else ""
            )
        )
