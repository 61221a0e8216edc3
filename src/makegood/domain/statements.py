"""Statement drafting: which cycles are due and how open credits reduce each charge (pure).

No database, no clock: the close service feeds this module what it read and writes back what
it returns, so the rules below are testable on plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from makegood.domain.calendar import add_months, lands_on, statement_date_for

DESCRIPTION_MAX = 500  # statement_lines.description length


@dataclass(frozen=True, slots=True)
class PlanCharge:
    """What one billing cycle of an account costs: its plan's monthly price."""

    plan_id: str
    name: str
    price_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class OpenCredit:
    """A credit with something left to apply; `label` is what the subscriber reads."""

    credit_id: str
    campaign_id: str
    currency: str
    amount_minor: int
    remaining_minor: int
    granted_at: datetime
    label: str


@dataclass(frozen=True, slots=True)
class LineDraft:
    kind: str  # charge | credit
    amount_minor: int  # signed: credits are negative
    description: str
    plan_id: str | None = None
    credit_id: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatementDraft:
    statement_date: date
    currency: str
    lines: tuple[LineDraft, ...]

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def credited_minor(self) -> int:
        """How much credit this statement applies (a positive number)."""
        return -sum(line.amount_minor for line in self.lines if line.kind == "credit")


def due_dates(next_bill_date: date, billing_day: int, through: date) -> tuple[list[date], date]:
    """Every cycle date from `next_bill_date` up to `through`, and the next date after them."""
    dates: list[date] = []
    current = next_bill_date
    while current <= through:
        dates.append(current)
        current = add_months(current, billing_day)
    return dates, current


def draft_statements(
    plan: PlanCharge,
    billing_day: int,
    dates: Iterable[date],
    credits: Sequence[OpenCredit],
) -> list[StatementDraft]:
    """One statement per date: the plan charge, then credits oldest first, never below zero.

    `dates` are consecutive cycle dates of the account (`due_dates`). A credit lands from the
    statement `domain.calendar.statement_date_for` names on (the one the claim page and the
    e-mail announce), only in the plan's currency; what a charge cannot absorb carries over to
    the next date.
    """
    dates = list(dates)
    usable = sorted(
        (c for c in credits if c.currency == plan.currency and c.remaining_minor > 0),
        key=lambda c: (c.granted_at, c.credit_id),
    )
    remaining = {c.credit_id: c.remaining_minor for c in usable}
    lands = {
        c.credit_id: statement_date_for(c.granted_at, dates[0], billing_day)
        for c in (usable if dates else ())
    }
    drafts: list[StatementDraft] = []
    for statement_date in dates:
        lines = [_charge_line(plan, billing_day, statement_date)]
        left = plan.price_minor
        for credit in usable:
            if left <= 0:
                break
            balance = remaining[credit.credit_id]
            if balance == 0 or statement_date < lands[credit.credit_id]:
                continue
            take = min(balance, left)
            carried = balance < credit.amount_minor
            lines.append(_credit_line(credit, take, carried=carried))
            remaining[credit.credit_id] = balance - take
            left -= take
        drafts.append(StatementDraft(statement_date, plan.currency, tuple(lines)))
    return drafts


def applied_per_credit(drafts: Iterable[StatementDraft]) -> dict[str, int]:
    """credit id -> how much the drafts apply of it (positive minor units; credit lines only)."""
    applied: dict[str, int] = {}
    for draft in drafts:
        for line in draft.lines:
            if line.credit_id is not None and line.kind == "credit":
                applied[line.credit_id] = applied.get(line.credit_id, 0) - line.amount_minor
    return applied


def _charge_line(plan: PlanCharge, billing_day: int, statement_date: date) -> LineDraft:
    period_end = add_months(statement_date, billing_day) - timedelta(days=1)
    text = f"{plan.name}, {statement_date.isoformat()} to {period_end.isoformat()}"
    return LineDraft("charge", plan.price_minor, _fit(text), plan_id=plan.plan_id)


def _credit_line(credit: OpenCredit, take: int, *, carried: bool) -> LineDraft:
    head = "Make-good credit (balance carried over)" if carried else "Make-good credit"
    return LineDraft(
        "credit",
        -take,
        _fit(f"{head}: {credit.label}"),
        credit_id=credit.credit_id,
        campaign_id=credit.campaign_id,
    )


def _fit(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


@dataclass(frozen=True, slots=True)
class ChargeBack:
    """A reversed credit that was already billed: `amount_minor` (positive) is charged back."""

    credit_id: str
    campaign_id: str
    currency: str
    amount_minor: int
    reversed_at: datetime
    label: str


def add_charge_backs(
    drafts: Sequence[StatementDraft], charge_backs: Sequence[ChargeBack]
) -> list[StatementDraft]:
    """Put each charge-back on the first draft in its currency that it lands on (reversed before
    the statement date, 00:00 UTC), as a positive `charge` line naming the credit; a charge-back
    no draft can take waits for a later close."""
    result = list(drafts)
    for charge_back in charge_backs:
        for index, draft in enumerate(result):
            if draft.currency == charge_back.currency and lands_on(
                charge_back.reversed_at, draft.statement_date
            ):
                line = LineDraft(
                    "charge",
                    charge_back.amount_minor,
                    _fit(f"Reversal of make-good credit: {charge_back.label}"),
                    credit_id=charge_back.credit_id,
                    campaign_id=charge_back.campaign_id,
                )
                result[index] = StatementDraft(
                    draft.statement_date, draft.currency, (*draft.lines, line)
                )
                break
    return result
