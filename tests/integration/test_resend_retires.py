"""A support resend retires the offer's earlier unsent e-mails: the real dispatch then sends
only the new link, never the one the resend revoked (issue 12, item 9). The launch e-mail is
still on its offer when the first test resends (no worker has taken it): it is retired all
the same."""

from __future__ import annotations

import re

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.tokens import hash_token
from makegood.services.dispatch import dispatch_pending
from makegood.services.support import resend_link
from makegood.store import tables as t
from tests.factories.outbox import Subscriber, message_row, seed_campaign
from tests.harness.settings import with_settings
from tests.harness.smtp import RecordingHandler, body


def test_resend_sends_only_the_new_link(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    [offer] = seed_campaign(box.engine, [Subscriber("acc-resend")], now=box.now())
    # The launch's e-mail is still queued (the worker has not reached it) when support resends.
    resent = resend_link(box, offer.offer_id, actor="agent@care.example.com")

    report = dispatch_pending(box)

    assert report.sent == 1
    [mail] = handler.messages_to(offer.address)
    text = body(mail, "plain")
    assert offer.token is not None
    assert offer.token not in text  # the revoked link never goes out
    assert mail["Message-ID"] == f"<{resent.message_id}@claims.test>"
    # The e-mail carries the link the resend issued: the offer's one live link.
    [mailed] = re.findall(r"/claim/([A-Za-z0-9_-]+)", text)
    with box.uow() as uow:
        assert uow.offers.live_link_hashes() == {hash_token(mailed)}
        assert uow.offers.offer_for_link(hash_token(mailed)) == (offer.offer_id, False)
    old = message_row(box.engine, offer.email_message_id)
    assert (old.state, old.claim_token) == ("dead", None)
    assert "replaced by a resend" in old.last_error
    assert message_row(box.engine, offer.inapp_message_id).state == "unread"  # in-app untouched


def test_resend_retires_a_failed_retry_too_and_leaves_sent_mail_alone(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    first, second = seed_campaign(
        box.engine, [Subscriber("acc-a"), Subscriber("acc-b")], now=box.now()
    )
    handler.replies[first.address] = "451 4.3.0 try later"
    dispatch_pending(box)  # a's e-mail failed (to be retried), b's went out
    handler.replies.clear()
    assert message_row(box.engine, first.email_message_id).state == "failed"

    resend_link(box, first.offer_id, actor="agent@care.example.com")
    resend_link(box, second.offer_id, actor="agent@care.example.com")
    dispatch_pending(box)

    assert len(handler.messages_to(first.address)) == 1  # only the new link
    assert len(handler.messages_to(second.address)) == 2  # the sent one stays sent
    assert message_row(box.engine, first.email_message_id).state == "dead"
    assert message_row(box.engine, second.email_message_id).state == "sent"
    with box.engine.connect() as conn:
        live = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.messages)
            .where(t.messages.c.claim_token.is_not(None))
        ).scalar_one()
    assert live == 0  # no raw token is left behind in a retired row
