"""One rule picks the language of every message to a subscriber (issue 15, item 5): a locale
gets its language when we have it (es-MX -> es), and otherwise the whole message is the
fallback's: words, number and date formats, `lang` and Content-Language; the money keeps its
currency."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from jinja2 import Environment, meta
from pydantic import ValidationError

from makegood.domain.languages import LANGUAGES, LocaleChoice, match_locale
from makegood.notify.mime import compose_email
from makegood.notify.render import render_offer_email, render_short_text
from makegood.services.claims import Evidence, OfferView
from makegood.services.inapp import InappMessage
from makegood.settings import Settings
from makegood.web.api_messages import message_public
from makegood.web.pages import Pages
from tests.factories.notices import LINK, SETTINGS, notice

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (["es-MX"], LocaleChoice("es", "es-MX")),
        (["pt-PT"], LocaleChoice("pt", "pt-PT")),
        (["pt_BR"], LocaleChoice("pt", "pt-BR")),
        (["ar-EG"], LocaleChoice("ar", "ar-EG")),
        (["KO-kr"], LocaleChoice("ko", "KO-kr")),
        (["zh-TW"], LocaleChoice("en", "en")),
        (["nb"], LocaleChoice("en", "en")),
        (["nb-NO", "nl-BE"], LocaleChoice("nl", "nl-BE")),  # the first one we have wins
        (["", "*", "x-private", None], LocaleChoice("en", "en")),
        ([], LocaleChoice("en", "en")),
    ],
)
def test_a_locale_gets_the_best_language_we_have(
    candidates: list[str | None], expected: LocaleChoice
) -> None:
    assert match_locale(candidates, LANGUAGES, "en") == expected


def test_twelve_languages_and_only_arabic_right_to_left() -> None:
    assert len(LANGUAGES) >= 12
    rtl = [lang for lang in LANGUAGES if LocaleChoice(lang, lang).direction == "rtl"]
    assert rtl == ["ar"]


def test_the_fallback_must_be_a_language_we_have() -> None:
    assert Settings(fallback_locale="de").fallback_locale == "de"
    assert Settings(fallback_locale="en_GB").fallback_locale == "en-GB"
    with pytest.raises(ValidationError, match=r"MAKEGOOD_FALLBACK_LOCALE='zh-TW'.*en, es"):
        Settings(fallback_locale="zh-TW")


# A subscriber whose language we lack: before, English sentences with Chinese (or Norwegian)
# dates and amounts, under lang="zh-TW". Now all of it is English.
@pytest.mark.parametrize("locale", ["zh-TW", "nb-NO", "sw-KE", "he-IL"])
def test_email_in_a_language_we_lack_is_wholly_the_fallbacks(locale: str) -> None:
    mail = render_offer_email(notice(locale), SETTINGS)

    assert (mail.language, mail.locale) == ("en", "en")
    assert "€0.30" in mail.subject
    for part in (mail.text, mail.html):
        assert "€0.30" in part  # the account's currency, written the English way
        assert "March 30, 2026, 9:00 AM UTC" in part
        assert "March 22, 2026, 6:05 PM UTC" in part
    assert 'lang="en"' in mail.html
    assert f'lang="{locale}"' not in mail.html
    assert 'dir="ltr"' in mail.html
    composed = compose_email(
        mail,
        outbox_id="msg_1",
        recipient="a@example.com",
        locale=locale,
        settings=SETTINGS,
        now=NOW,
    )
    assert message_from_bytes(composed.data, policy=policy.default)["Content-Language"] == "en"
    assert render_short_text(notice(locale), SETTINGS).text.count("March 30, 2026") == 1


def test_the_fallback_setting_makes_it_german_throughout() -> None:
    settings = SETTINGS.model_copy(update={"fallback_locale": "de-DE"})
    mail = render_offer_email(notice("zh-TW"), settings)

    assert (mail.language, mail.locale) == ("de", "de-DE")
    assert mail.text.startswith("Hallo")
    assert "0,30 €" in mail.text
    assert "30. März 2026, 09:00 UTC" in mail.text
    assert 'lang="de-DE"' in mail.html


def test_a_regional_variant_keeps_its_own_formats() -> None:
    mail = render_offer_email(notice("es-MX", "MXN", 1250), SETTINGS)

    assert (mail.language, mail.locale) == ("es", "es-MX")
    assert "$12.50" in mail.text  # Mexican pesos as Mexico writes them
    assert 'lang="es-MX"' in mail.html


def offer_view(locale: str) -> OfferView:
    first = datetime(2026, 3, 22, 18, 5, tzinfo=UTC)
    return OfferView(
        offer_id="off_1",
        state="open",
        masked_email="a***@example.com",
        locale=locale,
        amount_minor=30,
        currency="EUR",
        plan_name="Standard",
        incident_title="Playback outage",
        incident_starts_at=first - timedelta(hours=1),
        incident_ends_at=first + timedelta(hours=2),
        evidence=Evidence(3, first, first + timedelta(minutes=30)),
        expires_at=datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
        credited_at=None,
        statement_date=date(2026, 4, 1),
    )


@pytest.mark.parametrize("locale", ["zh-TW", "nb-NO"])
def test_claim_page_in_a_language_we_lack_is_wholly_the_fallbacks(locale: str) -> None:
    pages = Pages(Settings())
    view = offer_view(locale)
    page = pages.render(
        "offer.html", status=200, language=pages.language_for(view, None), view=view, csrf_token="x"
    )
    html = bytes(page.body).decode()

    assert '<html lang="en" dir="ltr">' in html
    assert page.headers["Content-Language"] == "en"
    assert "<bdi>€0.30</bdi>" in html
    assert "March 30, 2026, 9:00 AM UTC" in html


def inapp_message(
    locale: str, currency: str, amount_minor: int, *, template: str, claimable: bool
) -> InappMessage:
    return InappMessage(
        id="msg_1",
        offer_id="off_1",
        template=template,
        state="unread",
        created_at=NOW,
        locale=locale,
        amount_minor=amount_minor,
        currency=currency,
        plan_name="Standard",
        incident_title="Playback outage",
        expires_at=datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
        statement_date=date(2026, 4, 1),
        claimable=claimable,
    )


def test_in_app_message_in_a_language_we_lack_is_wholly_the_fallbacks() -> None:
    message = inapp_message("zh-TW", "EUR", 30, template="offer_claim", claimable=True)
    public = message_public("acc_1", message, "en")

    assert public.language == "en"
    assert public.amount == "€0.30"
    assert "March 30, 2026, 9:00 AM UTC" in public.body
    assert message_public("acc_1", message, "fr").amount == "0,30 €"


def test_arabic_email_is_right_to_left_with_its_values_isolated() -> None:
    mail = render_offer_email(notice("ar-EG", "EGP", 1250), SETTINGS)

    assert (mail.language, mail.locale) == ("ar", "ar-EG")
    assert '<html lang="ar-EG" dir="rtl">' in mail.html
    assert "text-align:right" in mail.html
    amount = "\u200f12.50 ج.م.\u200f"
    assert f"<bdi>{amount}</bdi>" in mail.html
    assert f"\u2068{amount}\u2069" in mail.text
    assert f"\u2068{amount}\u2069" in mail.subject
    assert "\u2066+1 800 555 0199\u2069" in mail.text  # the phone reads left to right
    assert f"\n{LINK}\n" in mail.text  # the link alone on its line, never wrapped
    assert f'href="{LINK}"' in mail.html


TEMPLATES = Path(__file__).parents[2] / "src/makegood/notify/templates"


def template_names(language: str) -> set[str]:
    return {p.name for p in (TEMPLATES / language).iterdir() if p.suffix in (".txt", ".html")}


def variables(path: Path) -> set[str]:
    env = Environment(autoescape=True)
    return set(meta.find_undeclared_variables(env.parse(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_language_has_every_email_template_with_englishs_values(language: str) -> None:
    english = template_names("en")
    assert template_names(language) == english
    for name in sorted(english):
        # The same values as English's: none left out (a missing amount), none invented.
        assert variables(TEMPLATES / language / name) == variables(TEMPLATES / "en" / name), name


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ["offer_claim", "offer_granted", "offer_reminder"])
def test_every_language_renders_in_its_own_words(language: str, template: str) -> None:
    extra: dict[str, object] = {"template": template}
    if template == "offer_granted":
        extra.update(claim_token=None, statement_date=date(2026, 4, 1))
    mail = render_offer_email(notice(language, **extra), SETTINGS)  # type: ignore[arg-type]
    short = render_short_text(notice(language, **extra), SETTINGS).text  # type: ignore[arg-type]

    assert mail.language == language
    english = render_offer_email(notice("en", **extra), SETTINGS)  # type: ignore[arg-type]
    assert language == "en" or (mail.subject != english.subject and mail.text != english.text)
    assert short
    assert "{{" not in short


def test_arabic_in_app_message_isolates_its_values() -> None:
    message = inapp_message("ar-EG", "EGP", 1250, template="offer_granted", claimable=False)
    public = message_public("acc_1", message, "en")

    amount = "\u200f12.50 ج.م.\u200f"
    assert public.language == "ar"
    assert public.amount == amount  # the field itself is left plain for the app
    assert f"\u2068{amount}\u2069" in public.body
    assert "«\u2068Playback outage\u2069»" in public.body


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_every_page_text_with_englishs_placeholders(language: str) -> None:
    """Every text of the subscriber pages (claim, /credits, appeal...) in every language, with
    the same values to fill as English's."""
    from makegood.web.texts import TEXTS

    english = TEXTS["en"]
    assert set(TEXTS[language]) == set(english)
    for key, text in english.items():
        assert _placeholders(TEXTS[language][key]) == _placeholders(text), key
