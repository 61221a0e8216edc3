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

import sqlalchemy as sa

from makegood.domain.errors import InvalidInput
from makegood.store.ledger import Entry, Ledger
from makegood.store.tables import accounts, credits
from makegood.store.tables_billing import connector_postings, credit_states
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
    active = sa.select(credits.c.id).join(accounts, accounts.c.account_id == credits.c.account_id)
    active = active.where(accounts.c.status == "active")
    released = uow.conn.execute(
        credit_states.delete().where(
            credit_states.c.state == "held", credit_states.c.credit_id.in_(active)
        )
    ).rowcount
    if released:
        uow.audit.record(
            now, "billing", "credits.released", "billing", "inactive", {"credits": released}
        )
    return int(released)


def settle_inactive(uow: UnitOfWork, policy: str, now: datetime) -> int:
    """Apply `policy` to each unbilled credit of a paused or cancelled account; returns how many."""
    check_policy(policy)
    conn = uow.conn
    settled = 0
    after = ""
    while True:
        rows = conn.execute(
            sa.select(
                credits.c.id,
                credits.c.account_id,
                credits.c.currency,
                accounts.c.status,
                credit_states.c.state,
            )
            .join(accounts, accounts.c.account_id == credits.c.account_id)
            .outerjoin(credit_states, credit_states.c.credit_id == credits.c.id)
            .where(
                accounts.c.status != "active",
                credits.c.applied_minor < credits.c.amount_minor,
                credits.c.id > after,
                sa.or_(credit_states.c.state.is_(None), credit_states.c.state == "held"),
                ~sa.exists().where(
                    connector_postings.c.credit_id == credits.c.id,
                    connector_postings.c.state.in_(("pending", "acked")),
                ),
            )
            .order_by(credits.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        after = rows[-1].id
        todo = [r for r in rows if not (policy == "hold" and r.state == "held")]
        left = uow.ledger.unsettled([r.id for r in todo])
        for row in todo:
            _settle(conn, row, policy, left.get(row.id, 0), now)
        settled += len(todo)
    if settled:
        uow.audit.record(
            now, "billing", f"credits.{policy}", "billing", "inactive", {"credits": settled}
        )
    return settled


def _settle(
    conn: sa.Connection,
    row: Any,
    policy: str,
    left: int,
    now: datetime,
) -> None:
    if policy == "hold":
        state, reason = "held", f"account {row.status}: held until the account is active again"
    else:
        kind, words = _FINAL[policy]
        state = kind
        reason = f"account {row.status}: {words} under the billing policy"
        if policy == "payout":
            reason += "; refund it through your payment system"
        Ledger(conn).append(
            [Entry(kind, row.id, row.account_id, row.currency, -left)], now, "billing"
        )
        # A posting the billing system refused or skipped would be sent again by the next push
        # and, acknowledged then, credit the account a second time: it is off the ledger now.
        conn.execute(
            connector_postings.update()
            .where(
                connector_postings.c.credit_id == row.id,
                connector_postings.c.purpose == "credit",
                connector_postings.c.state.in_(("failed", "skipped")),
            )
            .values(state="cancelled", updated_at=now, last_error=reason)
        )
    conn.execute(credit_states.delete().where(credit_states.c.credit_id == row.id))
    conn.execute(
        credit_states.insert().values(credit_id=row.id, state=state, reason=reason, updated_at=now)
    )
