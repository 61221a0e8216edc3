"""Offer e-mails read right in every shipped language, and fall back to English otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from makegood.notify.formatting import babel_locale, format_datetime_utc, format_money
from makegood.notify.render import RenderError, render_offer_email
from tests.factories.notices import CASES, LINK, SETTINGS, notice


@pytest.mark.parametrize(("locale", "currency", "minor", "amount", "expiry", "language"), CASES)
def test_claim_email_in_each_language(
    locale: str, currency: str, minor: int, amount: str, expiry: str, language: str
) -> None:
    mail = render_offer_email(notice(locale, currency, minor), SETTINGS)

    assert mail.language == language
    assert amount in mail.subject
    for part in (mail.text, mail.html):
        assert amount in part
        assert expiry in part
        assert "Unlimited HD" in part
        assert "Playback outage" in part
        assert "4" in part  # the evidence: four failed attempts
        assert "+1 800 555 0199" in part
        assert "{{" not in part
        assert "{%" not in part
    assert LINK in mail.text
    assert f'href="{LINK}"' in mail.html
    assert f'lang="{locale}"' in mail.html


def test_each_language_has_its_own_words() -> None:
    subjects = {render_offer_email(notice(c[0]), SETTINGS).subject for c in CASES}
    assert len(subjects) == len(CASES)


@pytest.mark.parametrize(
    ("locale", "amount", "expiry"),
    [
        ("sw-KE", "€0.30", "March 30, 2026, 9:00 AM UTC"),
        ("zh-TW", "€0.30", "March 30, 2026, 9:00 AM UTC"),
        ("zz-Qaaa-ZZ", "€0.30", "March 30, 2026, 9:00 AM UTC"),  # well formed, unknown to Babel
    ],
)
def test_language_without_templates_falls_back_to_english_formats_included(
    locale: str, amount: str, expiry: str
) -> None:
    mail = render_offer_email(notice(locale), SETTINGS)

    assert mail.language == "en"
    assert "credit" in mail.text
    for part in (mail.text, mail.html):
        assert amount in part
        assert expiry in part
    assert LINK in mail.text
    assert LINK in mail.html


def test_granted_email_says_credit_applied_and_on_which_statement() -> None:
    granted = notice(
        "en-GB",
        "GBP",
        24,
        template="offer_granted",
        claim_token=None,
        statement_date=date(2026, 4, 1),
    )
    mail = render_offer_email(granted, SETTINGS)

    for part in (mail.text, mail.html):
        assert "£0.24" in part
        assert "1 April 2026" in part
        assert "/claim/" not in part
    assert "nothing you need to do" in mail.text


def test_html_escapes_what_came_from_data_and_text_keeps_it() -> None:
    mail = render_offer_email(notice("en-US", incident_title="<b>CDN</b> & co"), SETTINGS)

    assert "&lt;b&gt;CDN&lt;/b&gt; &amp; co" in mail.html
    assert "<b>CDN</b>" not in mail.html
    assert "<b>CDN</b> & co" in mail.text


def test_single_failed_attempt_is_stated_at_its_instant() -> None:
    moment = datetime(2026, 3, 22, 19, 0, tzinfo=UTC)
    one = notice("en-GB", failed_attempts=1, first_failure_at=moment, last_failure_at=moment)
    mail = render_offer_email(one, SETTINGS)

    assert "1 failed attempt to play" in mail.text
    assert "at 22 March 2026, 19:00 UTC" in mail.text
    assert "between 22 March 2026, 19:00" not in mail.text


def test_claim_email_without_token_cannot_be_rendered() -> None:
    with pytest.raises(RenderError):
        render_offer_email(notice("en-US", claim_token=None), SETTINGS)


def test_unknown_template_is_refused() -> None:
    with pytest.raises(RenderError):
        render_offer_email(notice("en-US", template="newsletter"), SETTINGS)


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (30, "EUR", "fr-FR", "0,30 €"),
        (30, "JPY", "ja-JP", "￥30"),
        (24, "USD", "en-US", "$0.24"),
        (105, "KWD", "en-US", "KWD0.105"),
        (123456, "EUR", "fr-FR", "1 234,56 €"),  # no-break spaces become plain spaces
        (-24, "USD", "en-US", "-$0.24"),
        (30, "EUR", None, "€0.30"),
    ],
)
def test_format_money(minor: int, currency: str, locale: str | None, expected: str) -> None:
    assert format_money(minor, currency, locale) == expected


def test_format_datetime_utc_converts_to_utc_and_refuses_naive() -> None:
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 30, 11, 0, tzinfo=paris)
    assert format_datetime_utc(moment, "en-GB") == "30 March 2026, 09:00 UTC"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime_utc(datetime(2026, 3, 30, 9, 0), "en-GB")  # noqa: DTZ001


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("pt-BR", "pt_BR"), ("en_US", "en_US"), ("de-CH-1996", "de_CH"), ("", "en"), ("x-y", "en")],
)
def test_babel_locale_takes_longest_known_prefix(tag: str, expected: str) -> None:
    assert str(babel_locale(tag)) == expected
