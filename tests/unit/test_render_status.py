"""The status e-mail ("where is my credit?") in every shipped language: one paragraph per
incident status, the fresh link in both parts, the reason in words, the account's locale."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from makegood.notify.render import template_languages
from makegood.notify.status_email import StatusNotice, render_status_email
from makegood.store.credit_status import STATUSES, AccountCredits, IncidentCredit
from tests.factories.notices import LOCALES, SETTINGS

START = datetime(2026, 3, 22, 20, 0, tzinfo=UTC)


def _entry(status: str, index: int) -> IncidentCredit:
    offered = status in ("offered", "claimed", "granted", "applied", "expired", "revoked")
    return IncidentCredit(
        incident_id=f"inc_{index}",
        title=f"Outage number {index}",
        starts_at=START - timedelta(days=index),
        ends_at=START - timedelta(days=index) + timedelta(hours=3),
        status=status,
        reason="plan_not_eligible" if status == "excluded" else None,
        amount_minor=24 if offered else None,
        currency="USD" if offered else None,
        failed_attempts=None if status == "not_affected" else 3,
        first_failure_at=None,
        last_failure_at=None,
        impact_minutes=None,
        statement_date=date(2026, 4, 1) if status in ("claimed", "granted", "applied") else None,
        offer_id=f"ofr_{index}" if offered else None,
        offer_expires_at=START + timedelta(days=7) if offered else None,
    )


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_every_status_reads_in_each_language(language: str) -> None:
    assert language in template_languages()
    entries = [_entry(status, i) for i, status in enumerate(STATUSES)]
    credits = AccountCredits("acc_1", "sam@example.com", LOCALES[language], entries)
    offered = STATUSES.index("offered")
    mail = render_status_email(StatusNotice(credits, {f"ofr_{offered}": "T" * 43}), SETTINGS)

    assert mail.language == language
    assert mail.subject
    link = f"{SETTINGS.public_base}/claim/{'T' * 43}"
    assert link in mail.text
    assert f'href="{link}"' in mail.html
    assert f'lang="{LOCALES[language]}"' in mail.html
    assert mail.locale == LOCALES[language]
    for part in (mail.text, mail.html):
        assert "{{" not in part
        assert "{%" not in part
        for i in range(len(STATUSES)):
            assert f"Outage number {i}" in part
        assert "+1 800 555 0199" in part


def test_reasons_and_the_no_incident_case_are_in_words() -> None:
    excluded = AccountCredits("acc_1", "a@example.com", "en-GB", [_entry("excluded", 1)])
    mail = render_status_email(StatusNotice(excluded, {}), SETTINGS)
    assert "your plan was not part of this make-good" in mail.text
    assert "plan_not_eligible" not in mail.text
    nothing = AccountCredits("acc_1", "a@example.com", "de-DE", [])
    assert (
        "Für die letzten 90 Tage" in render_status_email(StatusNotice(nothing, {}), SETTINGS).text
    )


def test_a_locale_we_lack_gets_the_fallback_throughout() -> None:
    entries = [_entry("claimed", 1)]
    mail = render_status_email(
        StatusNotice(AccountCredits("acc_1", "a@example.com", "zh-TW", entries), {}), SETTINGS
    )
    assert (mail.language, mail.locale) == ("en", "en")
    assert "April 1, 2026" in mail.text  # English dates under English words, not Chinese ones
    assert 'lang="en"' in mail.html


def test_arabic_status_email_isolates_each_incidents_values() -> None:
    entries = [_entry("claimed", 1)]
    credits = AccountCredits("acc_1", "a@example.com", "ar-EG", entries)
    mail = render_status_email(StatusNotice(credits, {}), SETTINGS)

    amount = "\u200f0.24 US$"
    assert mail.language == "ar"
    assert 'dir="rtl"' in mail.html
    # laid out from the right in clients that ignore `dir` (the frame every e-mail shares)
    assert "text-align:right" in mail.html
    assert f"<bdi>{amount}</bdi>" in mail.html
    assert f"\u2068{amount}\u2069" in mail.text
    assert "\u2068Outage number 1\u2069" in mail.text


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_not_affected_carries_the_appeal_link_in_each_language(language: str) -> None:
    """The marked place of issue 15, item 3: an appeal link and its closing date, in the
    account's own words; without a link nothing about appeals is said."""
    from makegood.notify.status_email import appeal_key, appeal_until_key

    entries = [_entry("not_affected", 1)]
    credits = AccountCredits("acc_1", "a@example.com", LOCALES[language], entries)
    links = {appeal_key("inc_1"): "A" * 43, appeal_until_key("inc_1"): "2026-04-21T09:00:00+00:00"}
    mail = render_status_email(StatusNotice(credits, links), SETTINGS)
    bare = render_status_email(StatusNotice(credits, {}), SETTINGS)
    english = render_status_email(
        StatusNotice(AccountCredits("acc_1", "a@example.com", "en-US", entries), links), SETTINGS
    )

    link = f"{SETTINGS.public_base}/appeal/{'A' * 43}"
    assert link in mail.text
    assert f'href="{link}"' in mail.html
    assert "/appeal/" not in bare.text
    assert "/appeal/" not in bare.html
    assert len(mail.text) > len(bare.text)
    if language != "en":  # its own words, not English's
        assert "check our logs again" not in mail.text
    else:
        assert "check our logs again" in english.text
    for part in (mail.text, mail.html):
        assert "{{" not in part
