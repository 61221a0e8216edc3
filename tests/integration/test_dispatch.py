"""`dispatch` against a real SMTP server (aiosmtpd, in-process) and the .eml folder transport."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.tokens import hash_token
from makegood.notify.template_source import TemplateFault
from makegood.notify.tracking import address_hash
from makegood.services.dispatch import dispatch_pending
from makegood.store import offers as offers_store
from makegood.store import tables as t
from makegood.store.deliveries import Deliveries
from makegood.store.tables_notify import message_events
from tests.factories.outbox import (
    SeededOffer,
    Subscriber,
    message_row,
    seed_campaign,
    take_launch_emails,
)
from tests.harness.net import free_port
from tests.harness.settings import with_settings
from tests.harness.smtp import RecordingHandler, body

SUBSCRIBERS = [
    Subscriber("acc-us", locale="en-US", currency="USD", amount_minor=24),
    Subscriber("acc-fr", locale="fr-FR", currency="EUR", amount_minor=30),
    Subscriber("acc-jp", locale="ja-JP", currency="JPY", amount_minor=30),
]


def seed(container: Container, subscribers: list[Subscriber] = SUBSCRIBERS) -> list[SeededOffer]:
    return seed_campaign(container.engine, subscribers, now=container.now())


def test_all_accepted_are_marked_sent_with_token_erased(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    offers = seed(box)

    report = dispatch_pending(box)

    assert (report.due, report.sent, report.failed, report.dead) == (3, 3, 0, 0)
    assert report.ok
    for offer in offers:
        row = message_row(box.engine, offer.email_message_id)
        assert (row.state, row.attempts, row.claim_token) == ("sent", 1, None)
        assert row.sent_at == box.now()
        assert message_row(box.engine, offer.inapp_message_id).state == "unread"
        [mail] = handler.messages_to(offer.address)
        assert offer.token is not None
        link = f"http://claims.test/claim/{offer.token}"
        assert link in body(mail, "plain")
        assert f'href="{link}"' in body(mail, "html")
        assert mail["Message-ID"] == f"<{offer.email_message_id}@claims.test>"
        assert mail["Auto-Submitted"] == "auto-generated"
    # The database keeps only the hash of each token.
    with box.engine.connect() as conn:
        hashes = offers_store.Offers(conn).live_link_hashes()
    assert hashes == {hash_token(o.token) for o in offers if o.token}
    french = handler.messages_to("acc-fr@example.com")[0]
    assert "0,30 €" in body(french, "plain")
    japanese = handler.messages_to("acc-jp@example.com")[0]
    assert "￥30" in body(japanese, "html")

    again = dispatch_pending(box)

    assert (again.due, again.sent) == (0, 0)
    assert again.ok
    assert len(handler.received) == 3


def test_temporary_failure_holds_back_no_one_and_the_next_run_sends_it(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    offers = seed(box)
    handler.replies["acc-fr@example.com"] = "451 4.3.0 mailbox busy for acc-fr@example.com"

    first = dispatch_pending(box)

    assert (first.sent, first.failed, first.dead) == (2, 1, 0)
    assert not first.ok
    failed = message_row(box.engine, offers[1].email_message_id)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error.startswith("451 4.3.0 mailbox busy")
    assert "@" not in failed.last_error
    assert failed.claim_token == offers[1].token  # still needed to render the retry
    assert failed.next_attempt_at > box.now()

    handler.replies.clear()
    second = dispatch_pending(box)  # no time has passed: the command retries failures at once

    assert (second.due, second.sent, second.failed) == (1, 1, 0)
    assert second.ok
    assert message_row(box.engine, offers[1].email_message_id).claim_token is None
    for offer in offers:
        assert len(handler.messages_to(offer.address)) == 1


def test_permanent_refusal_is_dead_at_once_suppressed_and_the_inapp_marked_urgent(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url, dispatch_max_attempts=3)
    offers = seed(box)
    handler.replies["acc-jp@example.com"] = "550 5.1.1 <acc-jp@example.com>: no such user"
    jp = offers[2]

    first = dispatch_pending(box)

    assert (first.sent, first.failed, first.dead) == (2, 0, 1)
    row = message_row(box.engine, jp.email_message_id)
    assert (row.state, row.attempts, row.claim_token) == ("dead", 1, None)
    assert row.last_error == "550 5.1.1 <<address>>: no such user"
    assert message_row(box.engine, jp.inapp_message_id).urgent is True
    assert message_row(box.engine, offers[0].inapp_message_id).urgent is False
    with box.engine.connect() as conn:
        assert Deliveries(conn).is_suppressed(address_hash("ACC-JP@example.com "))
        kinds = conn.execute(sa.select(message_events.c.message_id, message_events.c.kind)).all()
    assert sorted(k for m, k in kinds) == ["accepted", "accepted", "bounced"]
    assert (jp.email_message_id, "bounced") in kinds

    handler.replies.clear()
    after = dispatch_pending(box)

    assert (after.due, after.sent) == (0, 0)
    assert handler.messages_to("acc-jp@example.com") == []
    assert len(handler.received) == 2


def test_temporary_failures_are_dead_after_the_attempt_limit(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url, dispatch_max_attempts=3)
    offers = seed(box, SUBSCRIBERS[:1])
    handler.replies[offers[0].address] = "452 4.2.2 mailbox full"

    reports = [dispatch_pending(box) for _ in range(3)]

    assert [(r.sent, r.failed, r.dead) for r in reports] == [(0, 1, 0), (0, 1, 0), (0, 0, 1)]
    row = message_row(box.engine, offers[0].email_message_id)
    assert (row.state, row.attempts) == ("dead", 3)
    assert row.last_error == "gave up after 3 attempts: 452 4.2.2 mailbox full"
    assert message_row(box.engine, offers[0].inapp_message_id).urgent is True


def test_a_message_that_cannot_be_made_is_dead_at_once_without_a_bounce(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    """Composing happens on the sending thread, just before each message goes out; a message
    that cannot be made there (no token to render its link) or here (an address no header can
    hold) is dead with its reason, reaches no server, suppresses nothing, and holds back no one.
    """
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    offers = seed(
        box,
        [
            Subscriber("acc-ok"),
            Subscriber("acc-bad-address", email="no address at all"),
            Subscriber("acc-no-token"),
        ],
    )
    ok, bad_address, no_token = offers
    take_launch_emails(box.engine, [no_token])  # a stored message that lost its token
    with box.engine.begin() as conn:
        conn.execute(
            sa.update(t.messages)
            .where(t.messages.c.id == no_token.email_message_id)
            .values(claim_token=None)
        )

    report = dispatch_pending(box)

    assert (report.sent, report.failed, report.dead, report.skipped) == (1, 0, 2, 0)
    assert len(handler.received) == 1
    assert handler.messages_to(ok.address) != []
    for offer, reason in (
        (bad_address, "the account's e-mail address is malformed or not plain ASCII"),
        (no_token, "claim notice without its claim token"),
    ):
        row = message_row(box.engine, offer.email_message_id)
        assert (row.state, row.attempts, row.last_error) == ("dead", 1, reason)
        assert message_row(box.engine, offer.inapp_message_id).urgent is True
    with box.engine.connect() as conn:
        kinds = conn.execute(sa.select(message_events.c.message_id, message_events.c.kind)).all()
        assert not Deliveries(conn).is_suppressed(address_hash("no address at all"))
    assert kinds == [(ok.email_message_id, "accepted")]


def test_a_template_that_fails_stops_the_run_after_recording_what_was_accepted(
    container: Container, smtp: tuple[RecordingHandler, str], tmp_path: Path
) -> None:
    """An operator's override that fails at render time (here only for Japanese) is not the
    message's fault: that message stays queued as it was, the messages the server accepted
    in the same batch are marked sent (not sent again later), and the run stops with the
    template's error. Fixed, the next run sends only the Japanese one."""
    handler, url = smtp
    override = tmp_path / "templates"
    (override / "ja").mkdir(parents=True)
    (override / "ja" / "offer.txt").write_text(
        "{% set subject %}x{% endset %}{{ amount.no_such_method() }}\n", encoding="utf-8"
    )
    box = with_settings(container, smtp_url=url, template_dir=override)
    offers = seed(box)
    jp = offers[2]

    with pytest.raises(TemplateFault, match=r"ja/offer\.txt"):
        dispatch_pending(box)

    assert sorted(r for rcpts, _ in handler.received for r in rcpts) == [
        "acc-fr@example.com",
        "acc-us@example.com",
    ]
    for offer in offers[:2]:
        assert message_row(box.engine, offer.email_message_id).state == "sent"
    row = message_row(box.engine, jp.email_message_id)
    assert (row.state, row.attempts, row.claim_token) == ("pending", 0, jp.token)
    with box.engine.connect() as conn:
        kinds = conn.execute(sa.select(message_events.c.message_id, message_events.c.kind)).all()
    assert sorted(kinds) == sorted((o.email_message_id, "accepted") for o in offers[:2])

    again = dispatch_pending(with_settings(box, template_dir=None))  # the override removed

    assert (again.due, again.sent) == (1, 1)
    assert sorted(r for rcpts, _ in handler.received for r in rcpts) == [
        "acc-fr@example.com",
        "acc-jp@example.com",
        "acc-us@example.com",
    ]


def test_suppressed_address_is_not_mailed(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    offers = seed(box, SUBSCRIBERS[:2])
    with box.engine.begin() as conn:
        Deliveries(conn).suppress(
            address_hash(offers[1].address),
            reason="complained",
            message_id=None,
            now=box.now(),
        )

    report = dispatch_pending(box)

    assert (report.sent, report.skipped) == (1, 1)
    assert handler.messages_to(offers[1].address) == []
    assert message_row(box.engine, offers[1].email_message_id).state == "dead"
    assert message_row(box.engine, offers[1].inapp_message_id).urgent is True


def test_continuous_worker_honours_back_off(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = with_settings(container, smtp_url=url, dispatch_retry_seconds=60)
    offers = seed(box, SUBSCRIBERS[:1])
    handler.replies[offers[0].address] = "421 4.7.0 slow down"
    dispatch_pending(box)
    handler.replies.clear()

    early = dispatch_pending(box, retry_failed_now=False)
    box.clock.advance(seconds=61)  # type: ignore[attr-defined]
    later = dispatch_pending(box, retry_failed_now=False)

    assert (early.due, early.sent) == (0, 0)
    assert (later.due, later.sent) == (1, 1)


def test_unreachable_server_stops_the_run_and_leaves_the_rest_queued(
    container: Container,
) -> None:
    box = with_settings(container, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    subs = [Subscriber(f"acc-{n}") for n in range(5)]
    offers = seed(box, subs)

    report = dispatch_pending(box)

    assert (report.sent, report.failed) == (0, 3)
    assert report.stopped is not None
    assert not report.ok
    states = [message_row(box.engine, o.email_message_id).state for o in offers]
    assert sorted(states) == ["failed", "failed", "failed", "pending", "pending"]
    row = message_row(box.engine, offers[0].email_message_id)
    assert row.last_error.startswith("cannot reach mail server 127.0.0.1:")


def test_an_outage_longer_than_the_attempt_limit_kills_nothing(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    """Not reaching the server is not the message's fault: however many runs fail to connect,
    no message is dead, and once the server is back every one goes out once."""
    handler, url = smtp
    down = with_settings(
        container, smtp_url=f"smtp://127.0.0.1:{free_port()}", dispatch_max_attempts=2
    )
    offers = seed(down, [Subscriber(f"acc-{n}") for n in range(4)])

    reports = [dispatch_pending(down) for _ in range(5)]

    assert all(r.dead == 0 and r.sent == 0 for r in reports)
    rows = [message_row(down.engine, o.email_message_id) for o in offers]
    assert {r.state for r in rows} <= {"failed", "pending"}
    assert max(r.attempts for r in rows) >= 5  # well past the limit of 2
    assert all(r.claim_token is not None for r in rows)

    back = dispatch_pending(with_settings(down, smtp_url=url))

    assert (back.sent, back.dead) == (4, 0)
    for offer in offers:
        assert len(handler.messages_to(offer.address)) == 1


def test_an_outage_uses_no_attempt_so_a_later_refusal_finds_them_all(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    down = with_settings(
        container, smtp_url=f"smtp://127.0.0.1:{free_port()}", dispatch_max_attempts=2
    )
    [offer] = seed(down, SUBSCRIBERS[:1])
    for _ in range(3):
        dispatch_pending(down)
    handler.replies[offer.address] = "452 4.2.2 mailbox full"
    up = with_settings(down, smtp_url=url)

    first = dispatch_pending(up)
    second = dispatch_pending(up)

    # Before one rule served every channel, the three tries of the outage counted against the
    # limit, and the first 452 made the message dead.
    assert (first.failed, first.dead) == (1, 0)
    assert second.dead == 1
    row = message_row(up.engine, offer.email_message_id)
    assert (row.state, row.attempts) == ("dead", 5)
    assert row.last_error == "gave up after 2 attempts: 452 4.2.2 mailbox full"


def test_a_message_the_server_never_answers_is_dead_after_the_maximum_age(
    container: Container,
) -> None:
    down = with_settings(
        container, smtp_url=f"smtp://127.0.0.1:{free_port()}", dispatch_max_age_hours=48
    )
    # A granted credit's e-mail: no claim deadline would ever retire it.
    [offer] = seed_campaign(down.engine, SUBSCRIBERS[:1], now=down.now(), mode="auto")

    first = dispatch_pending(down)
    down.clock.advance(hours=47, minutes=59)  # type: ignore[attr-defined]
    before = dispatch_pending(down)
    down.clock.advance(minutes=1)  # type: ignore[attr-defined]
    after = dispatch_pending(down)

    assert [(r.failed, r.dead) for r in (first, before, after)] == [(1, 0), (1, 0), (0, 1)]
    row = message_row(down.engine, offer.email_message_id)
    assert row.state == "dead"
    assert row.last_error.startswith(
        "gave up: no answer from the server within 48 h of queueing: cannot reach mail server"
    )
    assert message_row(down.engine, offer.inapp_message_id).urgent is True


def test_lost_connection_is_reopened_for_the_next_message(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    from makegood.notify.transports import SmtpTransport

    handler, url = smtp
    box = with_settings(container, smtp_url=url)
    offers = seed(box, SUBSCRIBERS[:2])
    transport = SmtpTransport(url, timeout=5)
    sent: list[int] = []

    def cut_connection_after_first_batch(report: Any) -> None:
        sent.append(report.sent)
        conn = transport._conn  # the server hanging up on an idle connection
        if conn is not None and conn.sock is not None:
            conn.sock.close()

    report = dispatch_pending(
        box, progress=cut_connection_after_first_batch, transport=transport, batch_size=1
    )
    transport.close()

    assert (report.sent, report.failed) == (2, 0)
    assert sent == [1, 2]
    for offer in offers:
        assert len(handler.messages_to(offer.address)) == 1


def test_file_transport_writes_eml_files_named_by_message_id(container: Container) -> None:
    offers = seed(container)
    mail_dir = Path(container.settings.mail_dir)

    report = dispatch_pending(container)

    assert (report.sent, report.failed) == (3, 0)
    names = sorted(p.name for p in mail_dir.iterdir())
    assert names == sorted(f"{o.email_message_id}.eml" for o in offers)
    for offer in offers:
        raw = (mail_dir / f"{offer.email_message_id}.eml").read_bytes()
        mail = message_from_bytes(raw, policy=policy.default)
        assert mail["To"] == offer.address
        assert f"http://claims.test/claim/{offer.token}" in body(mail, "plain")
        assert f"http://claims.test/claim/{offer.token}" in body(mail, "html")
        assert message_row(container.engine, offer.email_message_id).claim_token is None

    again = dispatch_pending(container)

    assert again.sent == 0
    assert sorted(p.name for p in mail_dir.iterdir()) == names


def test_granted_offer_email_needs_no_claim_link(container: Container) -> None:
    [offer] = seed_campaign(
        container.engine,
        [Subscriber("acc-auto", locale="de-DE", currency="EUR", amount_minor=30)],
        now=container.now(),
        mode="auto",
    )

    report = dispatch_pending(container)

    assert report.sent == 1
    raw = (Path(container.settings.mail_dir) / f"{offer.email_message_id}.eml").read_bytes()
    text = body(message_from_bytes(raw, policy=policy.default), "plain")
    assert "0,30 €" in text
    assert "1. April 2026" in text  # granted before 1 April 00:00 UTC: lands on that statement
    assert "/claim/" not in text


def test_expired_or_already_claimed_offers_are_not_mailed(container: Container) -> None:
    offers = seed(container)
    with container.engine.begin() as conn:
        conn.execute(
            sa.update(t.offers)
            .where(t.offers.c.id == offers[0].offer_id)
            .values(state="claimed", credited_at=container.now(), credited_via="inapp")
        )
    container.clock.advance(days=7, seconds=1)  # type: ignore[attr-defined]

    report = dispatch_pending(container)

    assert (report.sent, report.skipped, report.failed, report.dead) == (0, 3, 0, 0)
    assert report.ok
    for offer in offers:
        row = message_row(container.engine, offer.email_message_id)
        assert (row.state, row.claim_token) == ("dead", None)
        assert row.last_error.startswith("not sent:")
    assert not Path(container.settings.mail_dir).exists()
