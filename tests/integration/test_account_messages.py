"""Support's list of an account's messages finds every kind, now that the indexes on
`messages` leave launch e-mails out (migration 0008): `ix_messages_account_id` holds only
messages of no offer (status e-mails), `ix_messages_offer_id` an offer's messages but its
launch e-mail (found by its id). The launch e-mail, a reminder and the in-app message are found
through the account's offer, the status e-mail by account; and so is an offer's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from makegood.bootstrap import Container
from makegood.notify.history import offer_messages
from makegood.services.console_queries import messages_for
from makegood.store import outbox
from makegood.store.engine import make_engine
from makegood.store.outbox import Outbox
from tests.factories.outbox import Subscriber, seed_campaign
from tests.harness.settings import make_settings

NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def test_an_accounts_messages_are_its_launch_email_reminder_in_app_message_and_status_email(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    mine, neighbours = seed_campaign(
        engine, [Subscriber("acc-mine"), Subscriber("acc-neighbour")], now=NOW
    )
    container = Container(
        settings=make_settings(database_url, tmp_path), engine=engine, clock=lambda: NOW
    )
    offer_id = mine.offer_id
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        others = (
            (mine.account_id, None, "msg_status_mine", "credit_status"),
            (neighbours.account_id, None, "msg_status_other", "credit_status"),
            (mine.account_id, offer_id, "msg_reminder_mine", "offer_reminder"),
        )
        for who, offer, message_id, template in others:
            Outbox(conn).queue(
                [
                    {
                        "id": message_id,
                        "offer_id": offer,
                        "account_id": who,
                        "channel": "email",
                        "template": template,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": later,
                        "created_at": later,
                    }
                ],
            )

    with container.uow() as uow:
        listed = {
            (m["id"], m["offer_id"], m["channel"]) for m in messages_for(uow, mine.account_id)
        }
        history = {m.id for m in offer_messages(uow, offer_id)}

    of_the_offer = {
        (mine.email_message_id, offer_id, "email"),
        ("msg_reminder_mine", offer_id, "email"),
        (mine.inapp_message_id, offer_id, "inapp"),
    }
    assert mine.email_message_id == outbox.launch_email_id(offer_id)
    assert listed == {("msg_status_mine", None, "email"), *of_the_offer}
    assert history == {message_id for message_id, _, _ in of_the_offer}
    engine.dispose()
