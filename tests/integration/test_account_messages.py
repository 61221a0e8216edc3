"""Support's list of an account's messages finds every kind, now that the indexes on
`messages` leave launch e-mails out (migration 0007): `ix_messages_account_id` holds only
messages of no offer (status e-mails), `ix_messages_offer_id` an offer's messages but its
launch e-mail (found by its id). The launch e-mail, a reminder and the in-app message are found
through the account's offer, the status e-mail by account; and so is an offer's history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.notify.history import offer_messages
from makegood.services.console_queries import messages_for
from makegood.services.launch import launch_campaign
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.engine import make_engine
from tests.conftest import make_settings
from tests.integration.test_launch_resume import CAMPAIGN, EXCLUDED, NOW, seed


def test_an_accounts_messages_are_its_launch_email_reminder_in_app_message_and_status_email(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    seed(engine, members=5)
    container = Container(
        settings=make_settings(database_url, tmp_path), engine=engine, clock=lambda: NOW
    )
    launch_campaign(container, CAMPAIGN)
    account, neighbour = f"acc{EXCLUDED:08d}", f"acc{EXCLUDED + 1:08d}"
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        offer_id = conn.execute(
            sa.select(t.offers.c.id).where(t.offers.c.account_id == account)
        ).scalar_one()
        others = (
            (account, None, "msg_status_mine", "credit_status"),
            (neighbour, None, "msg_status_other", "credit_status"),
            (account, offer_id, "msg_reminder_mine", "offer_reminder"),
        )
        for who, offer, message_id, template in others:
            outbox.queue(
                conn,
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
        listed = {(m["id"], m["offer_id"], m["channel"]) for m in messages_for(uow, account)}
        history = {m.id for m in offer_messages(uow.conn, offer_id)}

    of_the_offer = {
        (outbox.launch_email_id(offer_id), offer_id, "email"),
        ("msg_reminder_mine", offer_id, "email"),
        ("app_" + offer_id.partition("_")[2], offer_id, "inapp"),
    }
    assert listed == {("msg_status_mine", None, "email"), *of_the_offer}
    assert history == {message_id for message_id, _, _ in of_the_offer}
    engine.dispose()
