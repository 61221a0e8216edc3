"""The appeal e-mails in every language: what the logs hold (counts, first and last instants in
the account's language, UTC), and an agent's decline with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from makegood.notify.appeal_email import AppealNotice, render_appeal_email
from makegood.notify.formatting import format_datetime_utc
from makegood.telemetry.account_log import AccountLog
from tests.factories.notices import LOCALES, SETTINGS

START = datetime(2026, 3, 22, 20, 0, tzinfo=UTC)
LOG = AccountLog(
    successful_attempts=5,
    first_success_at=START + timedelta(minutes=10),
    last_success_at=START + timedelta(minutes=100),
)


def notice(language: str, template: str, log: AccountLog = LOG) -> AppealNotice:
    return AppealNotice(
        template=template,
        locale=LOCALES[language],
        incident_title="Evening outage",
        incident_starts_at=START,
        incident_ends_at=START + timedelta(hours=3),
        log=log,
        reason="No failed plays in our logs" if template == "appeal_declined" else None,
    )


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_what_the_logs_hold_in_each_language(language: str) -> None:
    mail = render_appeal_email(notice(language, "appeal_review"), SETTINGS)
    english = render_appeal_email(notice("en", "appeal_review"), SETTINGS)
    locale = LOCALES[language]
    assert mail.language == language
    for part in (mail.text, mail.html):
        assert "{{" not in part
        assert "5" in part
        assert format_datetime_utc(LOG.first_success_at, locale) in part
        assert format_datetime_utc(LOG.last_success_at, locale) in part
        assert "Evening outage" in part
    assert language == "en" or (mail.subject != english.subject and mail.text != english.text)


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_a_decline_gives_the_reason_in_each_language(language: str) -> None:
    mail = render_appeal_email(notice(language, "appeal_declined"), SETTINGS)
    english = render_appeal_email(notice("en", "appeal_declined"), SETTINGS)
    assert "No failed plays in our logs" in mail.text
    assert "No failed plays in our logs" in mail.html
    assert language == "en" or mail.subject != english.subject


def test_failures_and_nothing_at_all_are_told_too() -> None:
    failed = AccountLog(
        failed_attempts=2,
        first_failure_at=START + timedelta(minutes=5),
        last_failure_at=START + timedelta(minutes=5),
    )
    text = render_appeal_email(notice("en", "appeal_review", failed), SETTINGS).text
    when = format_datetime_utc(START + timedelta(minutes=5), "en-US")
    assert f"Failed attempts to play: 2 ({when})." in text  # one instant, named once
    nothing = render_appeal_email(notice("en", "appeal_review", AccountLog()), SETTINGS).text
    assert "No attempt to play in that time." in nothing


def test_arabic_isolates_the_values() -> None:
    mail = render_appeal_email(notice("ar", "appeal_review"), SETTINGS)
    assert 'dir="rtl"' in mail.html
    assert "<bdi>Evening outage</bdi>" in mail.html
    assert "\u2068Evening outage\u2069" in mail.text
