"""Which statement a credit lands on is one rule, `domain.calendar.statement_date_for`: the
offer_granted e-mail, the credit status (account API, status e-mail) and billing's drafting all
name the same statement for the same account and instant, and the drafting still puts a credit
on exactly the statements the cutoff rule (`lands_on`) allows. The claim page, the in-app
message and the template preview call the same function on the same columns."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.calendar import add_months, lands_on, statement_date_for
from makegood.domain.statements import OpenCredit, PlanCharge, draft_statements, due_dates
from makegood.services.outbox_batch import notice_of
from makegood.store.credit_status import _offer_status
from makegood.store.outbox import OutgoingEmail

PLAN = PlanCharge("basic", "Basic", 1_000, "EUR")


@st.composite
def accounts(draw: st.DrawFn) -> tuple[date, int]:
    """(next_bill_date, billing_day): a cycle date on its billing day, clamped to the month."""
    billing_day = draw(st.integers(min_value=1, max_value=31))
    year = draw(st.integers(min_value=2000, max_value=2100))
    month = draw(st.integers(min_value=1, max_value=12))
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1])), billing_day


def _instant(next_bill_date: date, offset: timedelta) -> datetime:
    midnight = datetime(next_bill_date.year, next_bill_date.month, next_bill_date.day, tzinfo=UTC)
    return midnight + offset


offsets = st.timedeltas(
    min_value=timedelta(days=-40), max_value=timedelta(days=400)
) | st.sampled_from([timedelta(0), timedelta(microseconds=-1), timedelta(days=-1)])


def _email_date(credited_at: datetime, next_bill_date: date, billing_day: int) -> date | None:
    mail = OutgoingEmail(
        id="msg_1",
        template="offer_granted",
        attempts=0,
        unreached=0,
        queued_at=credited_at,
        claim_token=None,
        recipient="a@example.org",
        locale="en",
        next_bill_date=next_bill_date,
        billing_day=billing_day,
        offer_state="granted",
        amount_minor=500,
        currency="EUR",
        expires_at=credited_at + timedelta(days=30),
        credited_at=credited_at,
        plan_name="Basic",
        incident_title="Outage",
        incident_starts_at=credited_at - timedelta(days=2),
        incident_ends_at=credited_at - timedelta(days=1),
        failed_attempts=None,
        first_failure_at=None,
        last_failure_at=None,
        account_id="acc_1",
        status_links=None,
        why=None,
        why_count=None,
    )
    return notice_of(mail, credited_at + timedelta(days=3)).statement_date


def _status_date(credited_at: datetime, next_bill_date: date, billing_day: int) -> date | None:
    offer = {
        "state": "granted",
        "credit_state": None,
        "credit_id": "crd_1",
        "connector": None,
        "applied_minor": 0,
        "credit_minor": 500,
        "granted_at": credited_at,
        "credited_at": credited_at,
        "expires_at": credited_at + timedelta(days=30),
    }
    account = SimpleNamespace(next_bill_date=next_bill_date, billing_day=billing_day)
    return _offer_status(offer, {}, account, credited_at + timedelta(days=3))[1]


def _drafted_on(credited_at: datetime, next_bill_date: date, billing_day: int) -> date:
    dates, _ = due_dates(next_bill_date, billing_day, add_months(next_bill_date, billing_day, 15))
    credit = OpenCredit("crd_1", "cmp_1", "EUR", 500, 500, credited_at, "Outage")
    drafts = draft_statements(PLAN, billing_day, dates, [credit])
    [first] = [d.statement_date for d in drafts if d.credited_minor][:1]
    # The cutoff rule itself: the first cycle date whose 00:00 UTC comes after the credit.
    assert first == next(d for d in dates if lands_on(credited_at, d))
    return first


@given(accounts(), offsets)
def test_email_status_and_statement_name_the_same_date(
    account: tuple[date, int], offset: timedelta
) -> None:
    next_bill_date, billing_day = account
    credited_at = _instant(next_bill_date, offset)
    rule = statement_date_for(credited_at, next_bill_date, billing_day)
    assert _email_date(credited_at, next_bill_date, billing_day) == rule
    assert _status_date(credited_at, next_bill_date, billing_day) == rule
    assert _drafted_on(credited_at, next_bill_date, billing_day) == rule


def test_a_credit_at_the_cutoff_instant_waits_for_the_next_statement() -> None:
    next_bill_date = date(2026, 1, 31)
    at_cutoff = _instant(next_bill_date, timedelta(0))
    assert _drafted_on(at_cutoff, next_bill_date, 31) == date(2026, 2, 28)
    assert _email_date(at_cutoff, next_bill_date, 31) == date(2026, 2, 28)
    just_before = at_cutoff - timedelta(microseconds=1)
    assert _drafted_on(just_before, next_bill_date, 31) == next_bill_date
