"""Support's list of an account's messages finds every kind, now that the index on
`messages.account_id` holds only messages of no offer (status e-mails; migration 0005): the
launch e-mail and in-app message through the account's offer, the status e-mail by account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.services.console_queries import messages_for
from makegood.services.launch import launch_campaign
from makegood.store import outbox
from makegood.store import tables as t
from makegood.store.engine import make_engine
from tests.conftest import make_settings
from tests.integration.test_launch_resume import CAMPAIGN, EXCLUDED, NOW, seed


def test_an_accounts_messages_are_its_launch_email_in_app_message_and_status_email(
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
        for who, message_id in ((account, "msg_status_mine"), (neighbour, "msg_status_other")):
            outbox.queue(
                conn,
                [
                    {
                        "id": message_id,
                        "offer_id": None,
                        "account_id": who,
                        "channel": "email",
                        "template": "credit_status",
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": later,
                        "created_at": later,
                    }
                ],
            )

    with container.uow() as uow:
        listed = {(m["id"], m["offer_id"], m["channel"]) for m in messages_for(uow, account)}

    assert listed == {
        ("msg_status_mine", None, "email"),
        (outbox.launch_email_id(offer_id), offer_id, "email"),
        ("app_" + offer_id.partition("_")[2], offer_id, "inapp"),
    }
    engine.dispose()
