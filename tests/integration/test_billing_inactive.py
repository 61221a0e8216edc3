"""Credits of paused and cancelled accounts: hold, forfeit or pay out, with a visible reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from makegood.billing.connectors import Outcome
from makegood.billing.statements import statements_for
from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.domain.errors import InvalidInput
from makegood.services.billing_close import close_through
from makegood.services.billing_push import push
from makegood.services.imports import import_accounts
from makegood.store import tables as t
from makegood.store.engine import make_engine
from makegood.store.postings import Posting
from makegood.store.tables_billing import connector_postings, credit_states, ledger_entries
from tests.factories.billing import add_account, add_credit, add_plan
from tests.factories.files import ACCOUNT_COLUMNS, account, write_csv
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

GRANTED = datetime(2026, 3, 21, tzinfo=UTC)


def with_policy(database_url: str, tmp_path: Path, clock: FrozenClock, policy: str) -> Container:
    settings = make_settings(database_url, tmp_path, billing_inactive_policy=policy)
    return Container(settings, make_engine(database_url), clock)


def seed(container: Container) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "paused", status="paused")
        add_account(uow.conn, "gone", status="cancelled")
        add_credit(uow.conn, "paused", 24, GRANTED)
        add_credit(uow.conn, "gone", 30, GRANTED)
        uow.commit()


def state_of(container: Container) -> dict[str, tuple[str, str]]:
    with container.uow() as uow:
        rows = uow.conn.execute(
            sa.select(t.credits.c.account_id, credit_states.c.state, credit_states.c.reason).join(
                credit_states, credit_states.c.credit_id == t.credits.c.id
            )
        )
        return {r.account_id: (r.state, r.reason) for r in rows}


def set_status(container: Container, account_id: str, status: str) -> None:
    with container.uow() as uow:
        uow.conn.execute(
            t.accounts.update().where(t.accounts.c.account_id == account_id).values(status=status)
        )
        uow.commit()


def test_hold_keeps_the_credit_until_the_account_is_active_again(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    container = with_policy(database_url, tmp_path, clock, "hold")
    seed(container)

    close_through(container, date(2026, 4, 1))

    assert state_of(container) == {
        "paused": ("held", "account paused: held until the account is active again"),
        "gone": ("held", "account cancelled: held until the account is active again"),
    }
    set_status(container, "paused", "active")
    close_through(container, date(2026, 4, 1))
    with container.uow() as uow:
        [april] = statements_for(uow, "paused")
        assert [(line.kind, line.amount_minor) for line in april.lines] == [
            ("charge", 799),
            ("credit", -24),
        ]
        assert uow.ledger.balance("paused", "USD") == 0
        assert uow.ledger.balance("gone", "USD") == 30
    assert set(state_of(container)) == {"gone"}
    container.engine.dispose()


@pytest.mark.parametrize(
    ("policy", "kind", "words"),
    [("forfeit", "forfeited", "forfeited"), ("payout", "paid_out", "paid out")],
)
def test_forfeit_and_payout_take_the_credit_off_the_ledger_with_a_reason(
    database_url: str, tmp_path: Path, clock: FrozenClock, policy: str, kind: str, words: str
) -> None:
    container = with_policy(database_url, tmp_path, clock, policy)
    seed(container)

    close_through(container, date(2026, 4, 1))
    close_through(container, date(2026, 4, 1))  # again: nothing more

    states = state_of(container)
    assert states["gone"][0] == kind
    assert states["gone"][1].startswith(f"account cancelled: {words} under the billing policy")
    with container.uow() as uow:
        assert uow.ledger.balance("gone", "USD") == 0
        entries = (
            uow.conn.execute(
                sa.select(ledger_entries.c.amount_minor).where(ledger_entries.c.kind == kind)
            )
            .scalars()
            .all()
        )
    assert sorted(entries) == [-30, -24]
    set_status(container, "gone", "active")
    close_through(container, date(2026, 4, 1))
    with container.uow() as uow:
        [april] = statements_for(uow, "gone")
    assert [line.kind for line in april.lines] == ["charge"]  # a settled credit stays settled
    container.engine.dispose()


def test_an_unknown_policy_is_refused(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    container = with_policy(database_url, tmp_path, clock, "keep")
    seed(container)
    with pytest.raises(InvalidInput, match="hold, forfeit, payout"):
        close_through(container, date(2026, 4, 1))
    container.engine.dispose()


def test_the_accounts_file_may_carry_a_stripe_customer_id(
    container: Container, tmp_path: Path
) -> None:
    with container.uow() as uow:
        add_plan(uow.conn)
        uow.commit()
    columns = [*ACCOUNT_COLUMNS, "stripe_customer_id"]
    with_ids = write_csv(
        tmp_path / "a.csv",
        columns,
        [{**account("a1"), "stripe_customer_id": "cus_1"}, {**account("a2")}],
    )
    import_accounts(container, with_ids)
    import_accounts(container, write_csv(tmp_path / "b.csv", ACCOUNT_COLUMNS, [account("a1")]))
    with container.uow() as uow:
        found = dict(
            uow.conn.execute(
                sa.select(t.accounts.c.account_id, t.accounts.c.stripe_customer_id)
            ).all()
        )
    assert found == {"a1": "cus_1", "a2": None}  # a file without the column keeps it

    bad = write_csv(tmp_path / "c.csv", columns, [{**account("a3"), "stripe_customer_id": "cus 1"}])
    with pytest.raises(InvalidInput) as refused:
        import_accounts(container, bad)
    assert refused.value.problems == [
        f"{bad}:2: column stripe_customer_id: must be a Stripe customer id such as cus_123"
    ]


def test_billing_credits_shows_each_credit_state_and_reason(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    container = with_policy(database_url, tmp_path, clock, "hold")
    seed(container)
    with container.uow() as uow:
        add_account(uow.conn, "active")
        add_credit(uow.conn, "active", 900, GRANTED)
        uow.commit()
    close_through(container, date(2026, 4, 1))
    runner = CliRunner()

    result = runner.invoke(
        cli, ["billing", "credits", "--account", "paused", "--json"], obj=container
    )
    [paused] = json.loads(result.stdout)
    assert (paused["state"], paused["amount"], paused["applied"]) == ("held", "0.24", "0.00")
    assert paused["reason"] == "account paused: held until the account is active again"
    result = runner.invoke(
        cli, ["billing", "credits", "--account", "active", "--json"], obj=container
    )
    [active] = json.loads(result.stdout)
    assert (active["state"], active["applied"]) == ("partly_applied", "7.99")
    assert runner.invoke(cli, ["billing", "credits"], obj=container).exit_code == 2
    container.engine.dispose()


class ScriptedConnector:
    """Answers each posting from a script (refused, then acknowledged), as a billing system."""

    name = "scripted"

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)

    def send(self, posting: Posting) -> Outcome:
        state = self.answers.pop(0) if self.answers else "acked"
        if state == "acked":
            return Outcome("acked", external_id=f"ext-{posting.idempotency_key}")
        return Outcome(state, error=f"scripted {state}")


def test_a_paid_out_credit_is_never_posted_by_a_later_push(
    database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    # Found by the ledger property test: a posting the billing system refused was sent again
    # after the paused account's credit had been paid out, and crediting it twice.
    container = with_policy(database_url, tmp_path, clock, "payout")
    with container.uow() as uow:
        add_plan(uow.conn)
        add_account(uow.conn, "later-paused")
        add_credit(uow.conn, "later-paused", 24, GRANTED)
        uow.commit()
    refused = push(container, connector=ScriptedConnector("failed"), sleep=lambda _: None)
    assert (refused.created, refused.failed) == (1, 1)
    set_status(container, "later-paused", "paused")

    push(container, connector=ScriptedConnector(), sleep=lambda _: None)

    with container.uow() as uow:
        kinds = uow.conn.execute(
            sa.select(ledger_entries.c.kind, ledger_entries.c.amount_minor).order_by(
                ledger_entries.c.kind
            )
        ).all()
        postings = uow.conn.execute(sa.select(connector_postings.c.state)).scalars().all()
    assert sorted(kinds) == [("granted", 24), ("paid_out", -24)]
    assert postings == ["cancelled"]
    assert state_of(container)["later-paused"][0] == "paid_out"
    container.engine.dispose()
