"""Where each credit stands, with the reason (`makegood billing credits`); reads only.

States: open (waiting for the next statement), partly_applied, applied (on our statements),
posting (handed to a connector, not acknowledged yet: the reason carries its state and last
error), posted (acknowledged by the billing system), held, forfeited, paid_out, reversed (the
reason says why, e.g. the account's status or the reversal's reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.domain.money import format_major
from makegood.store.uow import UnitOfWork

LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class CreditStatus:
    credit_id: str
    campaign_id: str
    account_id: str
    currency: str
    amount_minor: int
    applied_minor: int
    state: str
    reason: str

    def document(self) -> dict[str, Any]:
        return {
            "credit_id": self.credit_id,
            "campaign": self.campaign_id,
            "account": self.account_id,
            "currency": self.currency,
            "amount": format_major(self.amount_minor, self.currency),
            "applied": format_major(self.applied_minor, self.currency),
            "state": self.state,
            "reason": self.reason,
        }


def credit_statuses(
    uow: UnitOfWork, account_id: str | None = None, campaign_id: str | None = None
) -> list[CreditStatus]:
    """The credits of an account or a campaign (at most LIMIT), oldest first."""
    if not account_id and not campaign_id:
        raise InvalidInput("give --account or --campaign")
    return [
        CreditStatus(
            r.id,
            r.campaign_id,
            r.account_id,
            r.currency,
            r.amount_minor,
            r.applied_minor,
            *_state(r),
        )
        for r in uow.credits.statuses(account_id, campaign_id, LIMIT)
    ]


def _state(r: Any) -> tuple[str, str]:
    if r.state is not None:
        return r.state, r.reason
    if r.posting_state == "acked":
        return "posted", f"acknowledged by {r.connector}" + (
            f" ({r.external_id})" if r.external_id else ""
        )
    if r.posting_state is not None:
        return "posting", f"{r.connector}: {r.posting_state}" + (
            f": {r.last_error}" if r.last_error else ""
        )
    if r.applied_minor >= r.amount_minor:
        return "applied", "on the account's statements"
    if r.applied_minor:
        return "partly_applied", "the rest carries over to the next statement"
    return "open", "waiting for the next statement or billing push"
