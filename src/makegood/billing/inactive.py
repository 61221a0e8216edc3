"""Credits of paused and cancelled accounts: hold, forfeit or pay out.

MAKEGOOD_BILLING_INACTIVE_POLICY chooses:

- hold: the credit waits with state `held` and a reason; when the account is active again the
  hold is lifted and the next close (or push) bills it.
- forfeit: what is left of the credit leaves the ledger as a `forfeited` entry.
- payout: what is left leaves the ledger as a `paid_out` entry; the operator refunds it through
  their payment system (the reason says so).

A credit with a posting that may be in flight (`pending`) or that the billing system
acknowledged is left alone; a forfeited or paid-out credit's refused or skipped postings are
cancelled, so no later push sends them again.

Both run inside the caller's transaction; the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.store.ledger import Entry
from makegood.store.uow import UnitOfWork

POLICIES = ("hold", "forfeit", "payout")
BATCH = 1_000
_FINAL = {"forfeit": ("forfeited", "forfeited"), "payout": ("paid_out", "paid out")}


def check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise InvalidInput(
            f"MAKEGOOD_BILLING_INACTIVE_POLICY={policy!r} must be one of {', '.join(POLICIES)}"
        )


def release_reactivated(uow: UnitOfWork, now: datetime) -> int:
    """Lift the hold of credits whose account is active again; returns how many."""
    released = uow.ledger.release_holds_of_active_accounts()
    if released:
        uow.audit.record(
            now, "billing", "credits.released", "billing", "inactive", {"credits": released}
        )
    return released


def settle_inactive(uow: UnitOfWork, policy: str, now: datetime) -> int:
    """Apply `policy` to each unbilled credit of a paused or cancelled account; returns how many."""
    check_policy(policy)
    settled = 0
    after = ""
    while rows := uow.credits.unbilled_of_inactive_accounts(after, BATCH):
        after = rows[-1].id
        todo = [r for r in rows if not (policy == "hold" and r.state == "held")]
        left = uow.ledger.unsettled([r.id for r in todo])
        for row in todo:
            _settle(uow, row, policy, left.get(row.id, 0), now)
        settled += len(todo)
    if settled:
        uow.audit.record(
            now, "billing", f"credits.{policy}", "billing", "inactive", {"credits": settled}
        )
    return settled


def _settle(uow: UnitOfWork, row: Any, policy: str, left: int, now: datetime) -> None:
    if policy == "hold":
        state, reason = "held", f"account {row.status}: held until the account is active again"
    else:
        kind, words = _FINAL[policy]
        state = kind
        reason = f"account {row.status}: {words} under the billing policy"
        if policy == "payout":
            reason += "; refund it through your payment system"
        uow.ledger.append(
            [Entry(kind, row.id, row.account_id, row.currency, -left)], now, "billing"
        )
        # A posting the billing system refused or skipped would be sent again by the next push
        # and, acknowledged then, credit the account a second time: it is off the ledger now.
        uow.postings.cancel_unsent(row.id, reason, now)
    uow.ledger.set_state(row.id, state, reason, now)
