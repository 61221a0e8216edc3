"""Locale-aware money and date text for subscribers (e-mails, claim pages), built on Babel.

Locales arrive as BCP 47 tags (``pt-BR``, ``ja-JP``, ``sw-KE``, ``en-US-u-ca-gregory``). A tag
Babel does not know falls back to its shorter prefixes, then to English, so formatting never
fails for a well-formed tag. Babel's no-break spaces are written as ordinary spaces so that the
text reads and searches the way people type it ("0,30 €").
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency

from makegood.domain.languages import language_of
from makegood.domain.money import to_major

DEFAULT_LOCALE = "en"
__all__ = ["babel_locale", "format_date_long", "format_datetime_utc", "format_money", "language_of"]

# NO-BREAK SPACE and NARROW NO-BREAK SPACE, which CLDR puts around currency signs and AM/PM.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


@lru_cache(maxsize=512)
def babel_locale(tag: str | None) -> Locale:
    """The Babel locale for a BCP 47 tag: the longest prefix Babel knows, else English."""
    subtags = (tag or "").replace("_", "-").split("-")
    for end in range(len(subtags), 0, -1):
        candidate = "-".join(subtags[:end])
        if not candidate:
            continue
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=4096)  # a campaign repeats a few amounts and instants over many messages
def format_money(minor: int, currency: str, locale: str | None) -> str:
    """An amount in minor units as a subscriber reads it (30, "EUR", "fr-FR" -> "0,30 €")."""
    text = format_currency(to_major(minor, currency), currency, locale=babel_locale(locale))
    return str(text).translate(_SPACES)


@lru_cache(maxsize=4096)
def format_datetime_utc(moment: datetime, locale: str | None) -> str:
    """An instant as a long local-language date and time in UTC, zone always shown.

    ("en-GB" -> "30 March 2026, 09:00 UTC"; "ja-JP" -> "2026年3月30日 9:00 UTC").
    """
    if moment.tzinfo is None:
        raise ValueError("format_datetime_utc needs a timezone-aware datetime")
    loc = babel_locale(locale)
    utc = moment.astimezone(UTC)
    date_text = format_date(utc.date(), "long", locale=loc)
    time_text = format_time(utc, "short", tzinfo=UTC, locale=loc)
    glue = str(loc.datetime_formats.get("long", "{1}, {0}"))
    # CLDR quotes literal words ("{1} 'at' {0}"); '' is a literal apostrophe.
    glue = glue.replace("''", "\0").replace("'", "").replace("\0", "'")
    text = glue.replace("{1}", str(date_text)).replace("{0}", str(time_text))
    return f"{text} UTC".translate(_SPACES)


def format_date_long(day: date, locale: str | None) -> str:
    """A calendar date (a ``date``, or the UTC date of an aware ``datetime``) in long form."""
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date()
    return str(format_date(day, "long", locale=babel_locale(locale))).translate(_SPACES)
