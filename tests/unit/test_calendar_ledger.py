"""Statement drafting on plain values: credits by cycle date, oldest first, carried over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.statements import (
    OpenCredit,
    PlanCharge,
    applied_per_credit,
    draft_statements,
    due_dates,
)

BASIC = PlanCharge("basic", "Basic", 799, "USD")
APRIL = date(2026, 4, 1)


def credit(
    credit_id: str,
    amount: int,
    granted_at: datetime,
    currency: str = "USD",
    remaining: int | None = None,
) -> OpenCredit:
    return OpenCredit(
        credit_id=credit_id,
        campaign_id=f"cmp_{credit_id}",
        currency=currency,
        amount_minor=amount,
        remaining_minor=amount if remaining is None else remaining,
        granted_at=granted_at,
        label="Streaming outage",
    )


def test_charge_then_credits_oldest_first() -> None:
    newer = credit("b", 30, datetime(2026, 3, 25, tzinfo=UTC))
    older = credit("a", 24, datetime(2026, 3, 21, tzinfo=UTC))
    [draft] = draft_statements(BASIC, 1, [APRIL], [newer, older])
    assert [(line.kind, line.amount_minor, line.credit_id) for line in draft.lines] == [
        ("charge", 799, None),
        ("credit", -24, "a"),
        ("credit", -30, "b"),
    ]
    assert draft.total_minor == 745
    assert draft.lines[0].description == "Basic, 2026-04-01 to 2026-04-30"
    assert draft.lines[1].description == "Make-good credit: Streaming outage"


def test_a_large_credit_is_spread_over_cycles_and_says_it_is_carried() -> None:
    big = credit("big", 2000, datetime(2026, 3, 21, tzinfo=UTC))
    dates, _ = due_dates(APRIL, 1, date(2026, 6, 1))
    drafts = draft_statements(BASIC, 1, dates, [big])
    assert [d.total_minor for d in drafts] == [0, 0, 799 * 3 - 2000]
    assert [d.credited_minor for d in drafts] == [799, 799, 402]
    assert "carried over" not in drafts[0].lines[1].description
    assert "carried over" in drafts[1].lines[1].description
    assert applied_per_credit(drafts) == {"big": 2000}


def test_a_partly_applied_credit_only_applies_what_is_left() -> None:
    part = credit("p", 1000, datetime(2026, 3, 1, tzinfo=UTC), remaining=100)
    [draft] = draft_statements(BASIC, 1, [APRIL], [part])
    assert draft.total_minor == 699
    assert "carried over" in draft.lines[1].description


def test_a_credit_in_another_currency_is_not_applied() -> None:
    euros = credit("eur", 24, datetime(2026, 3, 21, tzinfo=UTC), currency="EUR")
    [draft] = draft_statements(BASIC, 1, [APRIL], [euros])
    assert [line.kind for line in draft.lines] == ["charge"]


def test_a_free_plan_applies_no_credit() -> None:
    free = PlanCharge("free", "Free", 0, "USD")
    [draft] = draft_statements(
        free, 1, [APRIL], [credit("c", 24, datetime(2026, 3, 1, tzinfo=UTC))]
    )
    assert [line.kind for line in draft.lines] == ["charge"]
    assert draft.total_minor == 0


grants = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3000),  # amount
        st.integers(min_value=-40 * 24, max_value=120 * 24),  # hours after Apr 1 00:00 UTC
        st.sampled_from(["USD", "USD", "EUR"]),
    ),
    max_size=8,
)


@given(grants, st.integers(min_value=0, max_value=2000), st.integers(min_value=1, max_value=8))
def test_totals_are_the_sum_of_lines_never_negative_and_credits_are_conserved(
    raw: list[tuple[int, int, str]], price: int, cycles: int
) -> None:
    plan = PlanCharge("p", "P", price, "USD")
    start = datetime(2026, 4, 1, tzinfo=UTC)
    credits = [
        credit(f"c{i}", amount, start + timedelta(hours=hours), currency)
        for i, (amount, hours, currency) in enumerate(raw)
    ]
    dates, _ = due_dates(APRIL, 1, date(2026, 4 + cycles - 1, 1))
    drafts = draft_statements(plan, 1, dates, credits)
    assert len(drafts) == cycles
    applied = applied_per_credit(drafts)
    by_id = {c.credit_id: c for c in credits}
    for draft in drafts:
        assert draft.total_minor == sum(line.amount_minor for line in draft.lines)
        assert 0 <= draft.total_minor <= price
        assert all(line.amount_minor < 0 for line in draft.lines if line.kind == "credit")
        for line in draft.lines:
            if line.credit_id is not None:
                landed = by_id[line.credit_id]
                assert landed.currency == "USD"
                assert landed.granted_at < datetime.combine(
                    draft.statement_date, datetime.min.time(), UTC
                )
        # Greedy: a statement left above zero had no usable credit left for its date.
        if draft.total_minor > 0:
            cutoff = datetime.combine(draft.statement_date, datetime.min.time(), UTC)
            until_now = [d for d in drafts if d.statement_date <= draft.statement_date]
            used_so_far = applied_per_credit(until_now)
            for c in credits:
                if c.currency == "USD" and c.granted_at < cutoff:
                    assert used_so_far.get(c.credit_id, 0) == c.amount_minor
    for credit_id, minor in applied.items():
        assert 0 < minor <= by_id[credit_id].amount_minor
