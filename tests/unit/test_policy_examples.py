"""The worked examples of docs/policies.md: each policy as the page writes it, each figure as
the page states it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from makegood.domain.money import Money
from makegood.domain.policy import AccountFacts, Evidence, Outage, decide
from makegood.domain.policy_text import read_policy

DOC = Path(__file__).parents[2] / "docs" / "policies.md"
ORIGIN = Outage(datetime(2026, 3, 22, 20, tzinfo=UTC), datetime(2026, 3, 23, 1, tzinfo=UTC))
FEB = Outage(datetime(2026, 2, 10, 18, tzinfo=UTC), datetime(2026, 2, 12, 21, tzinfo=UTC))
LONG = Outage(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC))


def examples() -> list[str]:
    """The TOML blocks of the worked examples, in order (the first block is the reference)."""
    text = DOC.read_text(encoding="utf-8").split("## Worked examples", 1)[1]
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


CASES = [
    # example, outage, price, currency, impact minutes, expected (amount or reason)
    (0, ORIGIN, "7.99", "USD", 170, "0.24"),
    (0, ORIGIN, "3.500", "KWD", 25, "0.105"),
    (0, ORIGIN, "990", "JPY", 300, "30"),
    (1, ORIGIN, "15.49", "USD", 10, "below_threshold"),
    (1, ORIGIN, "15.49", "USD", 45, "0.77"),
    (1, ORIGIN, "15.49", "USD", 150, "1.55"),
    (1, ORIGIN, "15.49", "USD", 300, "3.87"),
    (1, ORIGIN, "7.99", "EUR", 20, "0.50"),
    (2, FEB, "7.99", "USD", 60, "1.00"),
    (2, FEB, "65.00", "USD", 3_000, "6.96"),
    (2, FEB, "2.00", "USD", 5, "1.00"),
    (2, LONG, "7.99", "USD", 60, "7.99"),
    (2, LONG, "65.00", "USD", 3_000, "20.00"),
]


@pytest.mark.parametrize(("example", "outage", "price", "currency", "minutes", "expected"), CASES)
def test_worked_examples(
    example: int, outage: Outage, price: str, currency: str, minutes: int, expected: str
) -> None:
    policy = read_policy(examples()[example], f"docs/policies.md example {example + 1}")
    facts = AccountFacts("active", "p", Money.parse(price, currency))
    decision = decide(facts, policy, Evidence(1, minutes), outage)
    got = str(decision.amount) if decision.amount else str(decision.excluded)
    assert got == expected


def test_the_reference_file_reads() -> None:
    text = DOC.read_text(encoding="utf-8")
    reference = re.search(r"## The file\n\n```toml\n(.*?)```", text, flags=re.S)
    assert reference is not None
    assert len(read_policy(reference.group(1), "docs/policies.md").tiers) == 3
    assert len(examples()) == 3
