"""Billing close: statements for every active account due by a date, exactly once.

Accounts are read in pages by account id (keyset), so memory stays flat for tens of millions of
accounts. Each page is one transaction: an account's statements, its credit updates and the move
of its next bill date commit together or not at all. Running close again with the same date finds
no account due and changes nothing; a concurrent or crashed run cannot duplicate a statement
(the conditional date move, the unique (account, date) key, and a check of existing dates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from makegood.billing import inactive
from makegood.billing.connectors import CONNECTORS
from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.domain.ids import new_id
from makegood.domain.money import format_major
from makegood.domain.statements import (
    StatementDraft,
    add_charge_backs,
    applied_per_credit,
    draft_statements,
    due_dates,
)
from makegood.store import ledger
from makegood.store.accounts import DueAccount
from makegood.store.uow import UnitOfWork

DEFAULT_BATCH_SIZE = 500


@dataclass
class CloseSummary:
    """What one close run did; amounts are minor units per currency."""

    through: date
    accounts_billed: int = 0
    statements_created: int = 0
    # Accounts another run moved between our read and our update: left to that run.
    accounts_skipped: int = 0
    charged_minor: dict[str, int] = field(default_factory=dict)
    credits_applied_minor: dict[str, int] = field(default_factory=dict)
    credit_lines: int = 0


@dataclass(frozen=True, slots=True)
class CloseProgress:
    """Reported after each committed page."""

    accounts_seen: int
    accounts_billed: int
    statements_created: int


ProgressCallback = Callable[[CloseProgress], None]


def close_through(
    container: Container,
    through: date,
    progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CloseSummary:
    """Bill every active account while its next bill date <= `through`; commits per page.

    Paused and cancelled accounts are not billed and keep their next bill date; their credits
    follow MAKEGOOD_BILLING_INACTIVE_POLICY (see billing.inactive), and credits held for an
    account that is active again are released first. Credits are applied on statements only with
    the `statement` connector; other connectors hand them to the billing system (`billing push`).
    Every applied credit and billed charge-back is a ledger entry pointing at its statement.
    """
    if batch_size < 1:
        raise InvalidInput("the batch size must be at least 1")
    settings = container.settings
    inactive.check_policy(settings.billing_inactive_policy)  # before anything is written
    if settings.billing_connector not in CONNECTORS:
        raise InvalidInput(
            f"MAKEGOOD_BILLING_CONNECTOR={settings.billing_connector!r} must be one of "
            f"{', '.join(CONNECTORS)}"
        )
    apply_credits = settings.billing_connector == "statement"
    summary = CloseSummary(through=through)
    seen = 0
    after: str | None = None
    with container.uow() as uow:
        inactive.release_reactivated(uow, container.now())
        uow.commit()
        while True:
            page = uow.accounts.due_for_billing(through, after, batch_size)
            if not page:
                break
            close_page(uow, page, through, container.now(), summary, apply_credits)
            uow.commit()
            seen += len(page)
            after = page[-1].account_id
            if progress is not None:
                progress(CloseProgress(seen, summary.accounts_billed, summary.statements_created))
        inactive.settle_inactive(uow, settings.billing_inactive_policy, container.now())
        uow.commit()
    return summary


def close_page(
    uow: UnitOfWork,
    page: list[DueAccount],
    through: date,
    now: datetime,
    summary: CloseSummary,
    apply_credits: bool = True,
) -> None:
    """Bill one page of due accounts inside the caller's transaction (the caller commits)."""
    cycles = [
        (account, *due_dates(account.next_bill_date, account.billing_day, through))
        for account in page
    ]
    moves = [(account, following) for account, _, following in cycles]
    # Claim first: once the dates are moved in this transaction, no other run bills these cycles.
    if uow.accounts.move_next_bill_dates(moves, now) == len(moves):
        claimed = [(account, dates) for account, dates, _ in cycles]
    else:
        # Someone changed an account since we read the page: redo it one account at a time
        # and leave the changed ones alone.
        uow.rollback()
        claimed = []
        for account, dates, following in cycles:
            if uow.accounts.move_next_bill_dates([(account, following)], now) == 1:
                claimed.append((account, dates))
            else:
                summary.accounts_skipped += 1
    ids = [account.account_id for account, _ in claimed]
    credits_by_account = uow.credits.open_for_statements(ids) if apply_credits else {}
    charge_backs = uow.ledger.pending_charge_backs(ids)
    already_there = uow.statements.existing_dates(ids, through)

    statement_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    applied: dict[str, int] = {}
    entries: list[ledger.Entry] = []
    for account, dates in claimed:
        missing = [d for d in dates if (account.account_id, d) not in already_there]
        drafts = draft_statements(
            account.plan,
            account.billing_day,
            missing,
            credits_by_account.get(account.account_id, []),
        )
        drafts = add_charge_backs(drafts, charge_backs.get(account.account_id, []))
        for draft in drafts:
            _add_rows(account.account_id, draft, now, statement_rows, line_rows, entries)
            _count(summary, draft)
        applied.update(applied_per_credit(drafts))
        if drafts:
            summary.accounts_billed += 1
    uow.statements.add(statement_rows, line_rows)
    uow.credits.add_applied(applied)
    uow.ledger.append(entries, now, "billing.close")


def _add_rows(
    account_id: str,
    draft: StatementDraft,
    now: datetime,
    statement_rows: list[dict[str, Any]],
    line_rows: list[dict[str, Any]],
    entries: list[ledger.Entry],
) -> None:
    statement_id = new_id("stm")
    statement_rows.append(
        {
            "id": statement_id,
            "account_id": account_id,
            "statement_date": draft.statement_date,
            "currency": draft.currency,
            "total_minor": draft.total_minor,
            "created_at": now,
        }
    )
    for position, line in enumerate(draft.lines, start=1):
        line_rows.append(
            {
                "statement_id": statement_id,
                "position": position,
                "kind": line.kind,
                "amount_minor": line.amount_minor,
                "description": line.description,
                "plan_id": line.plan_id,
                "credit_id": line.credit_id,
                "campaign_id": line.campaign_id,
            }
        )
        if line.credit_id is not None:
            # The statement points at the ledger entries it applies: a credit line settles
            # part of a credit, a charge line with a credit bills its charge-back.
            kind = "applied" if line.kind == "credit" else "clawback_billed"
            entries.append(
                ledger.Entry(
                    kind,
                    line.credit_id,
                    account_id,
                    draft.currency,
                    line.amount_minor,
                    statement_id=statement_id,
                )
            )


def _count(summary: CloseSummary, draft: StatementDraft) -> None:
    currency = draft.currency
    charged = sum(
        line.amount_minor for line in draft.lines if line.kind == "charge" and not line.credit_id
    )
    summary.statements_created += 1
    summary.charged_minor[currency] = summary.charged_minor.get(currency, 0) + charged
    summary.credit_lines += sum(1 for line in draft.lines if line.kind == "credit")
    if draft.credited_minor:
        summary.credits_applied_minor[currency] = (
            summary.credits_applied_minor.get(currency, 0) + draft.credited_minor
        )


def summary_document(summary: CloseSummary) -> dict[str, Any]:
    """The `--json` summary: counts, and per-currency decimal strings."""
    return {
        "through": summary.through.isoformat(),
        "accounts_billed": summary.accounts_billed,
        "accounts_skipped": summary.accounts_skipped,
        "statements_created": summary.statements_created,
        "credit_lines": summary.credit_lines,
        "charged": {
            cur: format_major(minor, cur) for cur, minor in sorted(summary.charged_minor.items())
        },
        "credits_applied": {
            cur: format_major(minor, cur)
            for cur, minor in sorted(summary.credits_applied_minor.items())
        },
    }
