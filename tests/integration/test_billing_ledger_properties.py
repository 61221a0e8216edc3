"""Property: whatever happens (claims, closes, reversals, flaky connectors, accounts leaving and
coming back), the ledger balances against the tables, no credit is applied twice, and every
statement total is the sum of its lines. SQLite, one fresh database copy per example."""

from __future__ import annotations

import contextlib
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makegood.billing.connectors import Outcome
from makegood.bootstrap import Container
from makegood.domain.errors import InvalidState, OfferUnavailable
from makegood.services.billing_close import close_through
from makegood.services.billing_push import push
from makegood.services.claims import grant_offer
from makegood.services.reversal import reverse_campaign
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from makegood.store.postings import Posting
from makegood.store.tables_billing import connector_postings, credit_states, ledger_entries
from tests.factories.billing import add_account, add_campaign, add_open_offer, add_plan
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

ACCOUNTS = [("a0", "basic"), ("a1", "basic"), ("a2", "yen"), ("a3", "basic")]
CAMPAIGNS = 2
START = datetime(2026, 3, 25, 12, tzinfo=UTC)


class FlakyConnector:
    """Answers from a script (acked, retry, failed), cycling; stands for any billing system."""

    name = "flaky"

    def __init__(self, script: list[str]) -> None:
        self.script = script or ["acked"]
        self.calls = 0

    def send(self, posting: Posting) -> Outcome:
        state = self.script[self.calls % len(self.script)]
        self.calls += 1
        if state == "acked":
            return Outcome("acked", external_id=f"ext-{posting.idempotency_key}")
        return Outcome(state, error=f"scripted {state}")


@dataclass(frozen=True)
class World:
    container: Container
    clock: FrozenClock
    offers: dict[tuple[int, str], str]  # (campaign index, account) -> offer id
    campaigns: list[str]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def build(template: Path, directory: Path, amounts: list[int], policy: str) -> World:
    path = directory / "world.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    clock = FrozenClock(START)
    settings_ = make_settings(
        url, directory, billing_inactive_policy=policy, billing_max_attempts=2
    )
    container = Container(settings_, make_engine(url), clock)
    offers: dict[tuple[int, str], str] = {}
    with container.uow() as uow:
        add_plan(uow.conn, "basic", 799, "USD")
        add_plan(uow.conn, "yen", 990, "JPY")
        for account, plan in ACCOUNTS:
            add_account(uow.conn, account, plan_id=plan)
        campaigns = [add_campaign(uow.conn) for _ in range(CAMPAIGNS)]
        for c, campaign in enumerate(campaigns):
            for i, (account, plan) in enumerate(ACCOUNTS):
                currency = "USD" if plan == "basic" else "JPY"
                amount = amounts[(c * len(ACCOUNTS) + i) % len(amounts)]
                offers[(c, account)] = add_open_offer(
                    uow.conn, campaign, account, amount, currency, plan
                )
        uow.commit()
    return World(container, clock, offers, campaigns)


account_names = st.sampled_from([a for a, _ in ACCOUNTS])
grants = st.tuples(st.just("grant"), st.integers(0, CAMPAIGNS - 1), account_names)
operations = st.lists(
    st.one_of(
        grants,
        grants,  # twice: most interesting sequences need credits first
        st.tuples(st.just("close"), st.integers(0, 45)),
        st.tuples(st.just("reverse"), st.integers(0, CAMPAIGNS - 1)),
        st.tuples(
            st.just("push"),
            st.lists(st.sampled_from(["acked", "retry", "failed"]), min_size=1, max_size=4),
        ),
        st.tuples(st.just("status"), account_names, st.sampled_from(["active", "paused"])),
    ),
    min_size=3,
    max_size=16,
)


def apply(world: World, op: tuple[Any, ...]) -> None:
    container, clock = world.container, world.clock
    match op:
        case ("grant", c, account):
            clock.advance(hours=5)
            try:
                with container.uow() as uow:
                    grant_offer(uow, world.offers[(c, account)], clock.now, via="agent")
                    uow.commit()
            except OfferUnavailable:
                pass  # granted already, or withdrawn by a reversal
        case ("close", days):
            clock.advance(days=days)
            close_through(container, clock.now.date())
        case ("reverse", c):
            with contextlib.suppress(InvalidState):  # reversed already, or a posting in flight
                reverse_campaign(container, world.campaigns[c], "property test")
        case ("push", script):
            push(container, connector=FlakyConnector(script), sleep=lambda _: None)
        case ("status", account, status):
            with container.uow() as uow:
                uow.conn.execute(
                    t.accounts.update()
                    .where(t.accounts.c.account_id == account)
                    .values(status=status)
                )
                uow.commit()


def check_invariants(conn: sa.Connection) -> None:  # noqa: PLR0912 - one reading of the rules
    credits = {r.id: r for r in conn.execute(sa.select(t.credits))}
    states = dict(conn.execute(sa.select(credit_states.c.credit_id, credit_states.c.state)).all())
    entries: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for e in conn.execute(sa.select(ledger_entries)):
        entries[e.credit_id][e.kind] += e.amount_minor
        counts[(e.credit_id, e.kind)] += 1
        assert e.currency == credits[e.credit_id].currency
        assert e.account_id == credits[e.credit_id].account_id
    credit_lines: dict[str, int] = defaultdict(int)
    reversal_lines: dict[str, int] = defaultdict(int)
    for line in conn.execute(sa.select(t.statement_lines)):
        if line.credit_id is None:
            continue
        if line.kind == "credit":
            credit_lines[line.credit_id] -= line.amount_minor
        else:
            reversal_lines[line.credit_id] += line.amount_minor
    postings = defaultdict(list)
    for p in conn.execute(sa.select(connector_postings)):
        postings[(p.credit_id, p.purpose)].append(p)

    balances: dict[tuple[str, str], int] = defaultdict(int)
    for e in conn.execute(sa.select(ledger_entries)):
        balances[(e.account_id, e.currency)] += e.amount_minor
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for credit_id, c in credits.items():
        mine = entries[credit_id]
        assert counts[(credit_id, "granted")] == 1
        assert mine["granted"] == c.amount_minor
        # Applied on statements: ledger, credit row and statement lines agree, never too much.
        assert -mine["applied"] == c.applied_minor == credit_lines[credit_id] <= c.amount_minor
        acked = [p for p in postings[(credit_id, "credit")] if p.state == "acked"]
        assert len(acked) <= 1
        if acked:
            # Handed to a billing system: never applied here too, posted exactly once.
            assert c.applied_minor == 0
            assert counts[(credit_id, "posted")] == 1
            assert mine["posted"] == -c.amount_minor
        left = c.amount_minor + sum(mine[k] for k in ("applied", "posted", "reversed"))
        left += mine["forfeited"] + mine["paid_out"]
        assert left >= 0
        state = states.get(credit_id)
        owed = 0 if state in ("reversed", "forfeited", "paid_out") or acked else left
        if state in ("reversed", "forfeited", "paid_out"):
            assert left == 0
        charge_back = 0
        if state == "reversed":
            charge_back = c.applied_minor - reversal_lines[credit_id]
            assert charge_back >= 0
            reversal = [p for p in postings[(credit_id, "reversal")] if p.state == "acked"]
            if acked and not reversal:
                charge_back += c.amount_minor
        else:
            assert reversal_lines[credit_id] == 0
        expected[(c.account_id, c.currency)] += owed - charge_back
    assert {k: v for k, v in balances.items() if v} == {k: v for k, v in expected.items() if v}
    check_statement_totals(conn)


def check_statement_totals(conn: sa.Connection) -> None:
    for s in conn.execute(sa.select(t.statements)):
        lines = conn.execute(
            sa.select(sa.func.sum(t.statement_lines.c.amount_minor)).where(
                t.statement_lines.c.statement_id == s.id
            )
        ).scalar_one()
        assert s.total_minor == lines


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(st.integers(1, 2_000), min_size=1, max_size=8),
    policy=st.sampled_from(["hold", "forfeit", "payout"]),
    ops=operations,
)
def test_the_ledger_balances_whatever_happens(
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    amounts: list[int],
    policy: str,
    ops: list[tuple[Any, ...]],
) -> None:
    world = build(template, tmp_path_factory.mktemp("world"), amounts, policy)
    try:
        for op in ops:
            apply(world, op)
            with world.container.uow() as uow:
                check_invariants(uow.conn)
    finally:
        world.container.engine.dispose()
