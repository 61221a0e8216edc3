"""Reaching everyone: reminders before expiry, and the "grant anyway at expiry" policy."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.services.claims import claim_offer
from makegood.services.dispatch import dispatch_pending
from makegood.services.worker import run_worker
from makegood.store import tables as t
from tests.factories.outbox import SeededOffer, Subscriber, seed_campaign
from tests.harness.clock import FrozenClock
from tests.harness.settings import with_settings

SUBSCRIBERS = [
    Subscriber("acc-en", locale="en-US"),
    Subscriber("acc-fr", locale="fr-FR", currency="EUR", amount_minor=30),
    Subscriber("acc-ja", locale="ja-JP", currency="JPY", amount_minor=30),
]


def launched(container: Container) -> list[SeededOffer]:
    """A claim campaign (7 days) whose first e-mails went out, with acc-en already claimed."""
    offers = seed_campaign(container.engine, SUBSCRIBERS, now=container.now(), claim_days=7)
    assert dispatch_pending(container).sent == 3
    with container.uow() as uow:
        assert offers[0].token is not None
        claim_offer(uow, offers[0].token, container.now())
        uow.commit()
    return offers


def messages_of(container: Container, template: str) -> list[sa.Row[tuple[object, ...]]]:
    with container.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(t.messages)
                .where(t.messages.c.template == template)
                .order_by(t.messages.c.account_id)
            )
        )


def mail_files(container: Container) -> dict[str, bytes]:
    folder = Path(container.settings.mail_dir)
    return {p.stem: p.read_bytes() for p in folder.glob("*.eml")}


def test_remind_queues_one_reminder_per_unclaimed_offer_with_a_working_link(
    container: Container, clock: FrozenClock
) -> None:
    offers = launched(container)
    clock.advance(days=5, hours=12)  # 1.5 days before the claim window closes

    first = CliRunner().invoke(cli, ["remind", "--days", "2"], obj=container)
    again = CliRunner().invoke(cli, ["remind", "--days", "2"], obj=container)

    assert (first.exit_code, first.stdout.strip()) == (0, "2")
    assert (again.exit_code, again.stdout.strip()) == (0, "0")  # once per offer
    reminders = messages_of(container, "offer_reminder")
    assert [r.account_id for r in reminders] == ["acc-fr", "acc-ja"]
    assert dispatch_pending(container).sent == 2
    files = mail_files(container)
    french = message_from_bytes(files[reminders[0].id], policy=policy.default)
    assert str(french["Subject"]).startswith("Rappel")
    assert "0,30 €" in str(french["Subject"])
    text = french.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = next(w for w in text.split() if "/claim/" in w)
    token = link.rsplit("/", 1)[1]
    assert token != offers[1].token  # a fresh link; only its hash is stored
    with container.uow() as uow:
        claimed = claim_offer(uow, token, container.now())
        uow.commit()
    assert claimed.offer_id == offers[1].offer_id


def test_remind_without_a_window_is_bad_input(container: Container) -> None:
    result = CliRunner().invoke(cli, ["remind"], obj=container)
    assert result.exit_code == 2
    assert "--days" in result.stderr


def test_offers_expire_grants_the_unclaimed_just_before_expiry_and_tells_them(
    container: Container, clock: FrozenClock
) -> None:
    offers = launched(container)
    clock.advance(days=6, hours=23, minutes=30)

    first = CliRunner().invoke(cli, ["offers", "expire", "--lead-minutes", "60"], obj=container)
    again = CliRunner().invoke(cli, ["offers", "expire", "--lead-minutes", "60"], obj=container)

    assert (first.exit_code, first.stdout.strip()) == (0, "2")
    assert again.stdout.strip() == "0"
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.offers.c.account_id, t.offers.c.state, t.offers.c.credited_via).order_by(
                t.offers.c.account_id
            )
        ).all()
        credits = conn.execute(sa.select(sa.func.count()).select_from(t.credits)).scalar_one()
    assert [tuple(r) for r in rows] == [
        ("acc-en", "claimed", "web"),
        ("acc-fr", "granted", "expiry"),
        ("acc-ja", "granted", "expiry"),
    ]
    assert credits == 3
    granted_mails = messages_of(container, "offer_granted")
    assert [m.account_id for m in granted_mails] == ["acc-fr", "acc-ja"]
    assert dispatch_pending(container).sent == 2
    assert offers[1].offer_id != offers[2].offer_id


def test_worker_applies_the_policies_the_settings_turn_on(
    container: Container, clock: FrozenClock
) -> None:
    launched(container)
    box = with_settings(container, reminder_days_before_expiry=2.0)
    clock.advance(days=6)

    totals = run_worker(box, threading.Event(), once=True)

    assert totals.sent == 2
    assert [m.state for m in messages_of(box, "offer_reminder")] == ["sent", "sent"]
