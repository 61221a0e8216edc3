"""Reading an account's statements, and their public JSON shape (`makegood statement --json`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from makegood.domain.errors import NotFound
from makegood.domain.money import format_major
from makegood.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class StatementLineView:
    kind: str  # charge | credit
    amount_minor: int  # signed: credits are negative
    description: str
    campaign_id: str | None  # the campaign a credit came from; None for charges


@dataclass(frozen=True, slots=True)
class StatementView:
    id: str
    account_id: str
    statement_date: date
    currency: str
    total_minor: int
    created_at: datetime
    lines: tuple[StatementLineView, ...]


def statements_for(uow: UnitOfWork, account_id: str) -> list[StatementView]:
    """The account's statements, oldest first; NotFound when the account does not exist."""
    if not uow.accounts.exists(account_id):
        raise NotFound(
            f"account {account_id!r} not found: check the id against the imported accounts"
        )
    lines: dict[str, list[StatementLineView]] = {}
    for row in uow.statements.lines_of_account(account_id):
        lines.setdefault(row.statement_id, []).append(
            StatementLineView(row.kind, row.amount_minor, row.description, row.campaign_id)
        )
    return [
        StatementView(
            id=row.id,
            account_id=account_id,
            statement_date=row.statement_date,
            currency=row.currency,
            total_minor=row.total_minor,
            created_at=row.created_at,
            lines=tuple(lines.get(row.id, [])),
        )
        for row in uow.statements.of_account(account_id)
    ]


def statement_document(statement: StatementView) -> dict[str, Any]:
    """One statement as public JSON: amounts are signed decimal strings in its currency."""
    currency = statement.currency
    return {
        "id": statement.id,
        "date": statement.statement_date.isoformat(),
        "currency": currency,
        "lines": [
            {
                "kind": line.kind,
                "amount": format_major(line.amount_minor, currency),
                "description": line.description,
                "campaign": line.campaign_id if line.kind == "credit" else None,
            }
            for line in statement.lines
        ],
        "total": format_major(statement.total_minor, currency),
    }


def statements_document(statements: list[StatementView]) -> list[dict[str, Any]]:
    """The `makegood statement ACCOUNT --json` document: a list, oldest first."""
    return [statement_document(s) for s in statements]
