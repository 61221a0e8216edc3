"""`makegood dispatch`: exit status, summary on stderr, nothing private printed."""

from __future__ import annotations

from dataclasses import replace

from click.testing import CliRunner, Result

from makegood.bootstrap import Container
from makegood.cli.main import cli
from tests.factories.outbox import Subscriber, message_row, seed_campaign
from tests.harness.smtp import RecordingHandler


def run(container: Container, *args: str) -> Result:
    return CliRunner().invoke(cli, ["dispatch", *args], obj=container, catch_exceptions=False)


def test_dispatch_exits_1_when_a_message_failed_then_0_once_it_went_out(
    container: Container, smtp: tuple[RecordingHandler, str]
) -> None:
    handler, url = smtp
    box = replace(container, settings=container.settings.model_copy(update={"smtp_url": url}))
    offers = seed_campaign(box.engine, [Subscriber("acc-a"), Subscriber("acc-b")], now=box.now())
    handler.replies["acc-b@example.com"] = "451 4.3.0 try later"

    first = run(box)

    assert first.exit_code == 1
    assert first.stdout == ""
    assert "1 sent, 1 failed" in first.stderr
    assert "@" not in first.stderr  # no addresses
    for offer in offers:
        assert offer.token is not None
        assert offer.token not in first.stderr

    handler.replies.clear()
    second = run(box, "--json")

    assert second.exit_code == 0, second.stderr
    assert '"sent": 1' in second.stdout
    assert '"failed": 0' in second.stdout
    assert message_row(box.engine, offers[1].email_message_id).state == "sent"

    third = run(box)

    assert third.exit_code == 0
    assert "0 sent" in third.stderr
    assert len(handler.received) == 2


def test_dispatch_without_smtp_writes_the_mail_folder(container: Container) -> None:
    [offer] = seed_campaign(container.engine, [Subscriber("acc-a")], now=container.now())

    result = run(container)

    assert result.exit_code == 0, result.stderr
    assert "1 sent" in result.stderr
    assert (container.settings.mail_dir / f"{offer.email_message_id}.eml").is_file()


def test_dispatch_refuses_a_malformed_smtp_url(container: Container) -> None:
    box = replace(container, settings=container.settings.model_copy(update={"smtp_url": "mail"}))

    result = CliRunner().invoke(cli, ["dispatch"], obj=box)

    assert result.exit_code == 2
    assert "smtp://host:port" in result.stderr
