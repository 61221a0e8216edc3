"""What the claim page says about the outage, in every language it has (issue 12, item 17):
the evidence sentence reads naturally for one attempt and for attempts within one minute, and
the incident title is quoted as the e-mail quotes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from makegood.domain.languages import LocaleChoice
from makegood.notify.formatting import format_datetime_utc
from makegood.services.claims import Evidence, OfferView
from makegood.settings import Settings
from makegood.web.pages import Pages, offer_text
from makegood.web.texts import TEXTS
from tests.factories.notices import LOCALES

FIRST = datetime(2026, 3, 22, 17, 44, 5, tzinfo=UTC)
# The quotation marks each language's offer e-mail puts around the incident title.
QUOTES = {
    "en": ("\u201c", "\u201d"),
    "es": ("\u00ab", "\u00bb"),
    "fr": ("\u00ab\u00a0", "\u00a0\u00bb"),
    "de": ("\u201e", "\u201c"),
    "pt": ("\u201c", "\u201d"),
    "ja": ("\u300c", "\u300d"),
    "it": ("\u00ab", "\u00bb"),
    "nl": ("\u201c", "\u201d"),
    "pl": ("\u201e", "\u201d"),
    "tr": ("\u201c", "\u201d"),
    "ko": ("\u201c", "\u201d"),
    "ar": ("\u00ab", "\u00bb"),
}
TITLE = "Playback outage"


def view(language: str, count: int, spread: timedelta) -> OfferView:
    return OfferView(
        offer_id="off_1",
        state="open",
        masked_email="a***@example.com",
        locale=LOCALES[language],
        amount_minor=30,
        currency="USD",
        plan_name="Standard",
        incident_title=TITLE,
        incident_starts_at=FIRST - timedelta(hours=1),
        incident_ends_at=FIRST + timedelta(hours=2),
        evidence=Evidence(count, FIRST, FIRST + spread),
        expires_at=FIRST + timedelta(days=7),
        credited_at=None,
        statement_date=date(2026, 4, 1),
    )


def choice(language: str) -> LocaleChoice:
    return LocaleChoice(language, LOCALES[language])


def test_every_claim_page_language_is_checked_here() -> None:
    assert set(TEXTS) == set(LOCALES) == set(QUOTES)


@pytest.mark.parametrize("language", sorted(LOCALES))
@pytest.mark.parametrize(
    ("count", "spread"), [(1, timedelta(0)), (3, timedelta(seconds=40))], ids=["one", "same-minute"]
)
def test_one_moment_is_named_once(language: str, count: int, spread: timedelta) -> None:
    text = offer_text(view(language, count, spread), choice(language)).evidence
    assert text is not None
    when = format_datetime_utc(FIRST, LOCALES[language])
    assert text.count(when) == 1, text
    assert f"{count}," not in text, text  # "…: 1, between …" read as a list, not a count


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_a_span_names_both_ends(language: str) -> None:
    text = offer_text(view(language, 4, timedelta(minutes=30)), choice(language)).evidence
    assert text is not None
    locale = LOCALES[language]
    assert format_datetime_utc(FIRST, locale) in text
    assert format_datetime_utc(FIRST + timedelta(minutes=30), locale) in text
    assert "4" in text


@pytest.mark.parametrize("language", sorted(LOCALES))
def test_the_incident_title_is_quoted_as_in_the_email(language: str) -> None:
    page = Pages(Settings()).render(
        "offer.html",
        status=200,
        language=choice(language),
        view=view(language, 1, timedelta(0)),
        csrf_token="x",
    )
    html = bytes(page.body).decode()
    opening, closing = QUOTES[language]
    assert f"{opening}<bdi>{TITLE}</bdi>{closing}" in html  # the title isolated, as values are


@pytest.mark.parametrize("language", sorted(LOCALES))
@pytest.mark.parametrize("key", ["inapp_claim_body", "inapp_granted_body"])
def test_in_app_messages_quote_the_title_too(language: str, key: str) -> None:
    text = TEXTS[language][key].format(
        incident=TITLE, amount="$0.30", plan="Standard", expires="soon", date="April 1"
    )
    opening, closing = QUOTES[language]
    assert f"{opening}{TITLE}{closing}" in text
