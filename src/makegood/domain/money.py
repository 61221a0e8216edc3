"""Money as integer minor units of an ISO 4217 currency; Decimal arithmetic, one rounding."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from makegood.domain.currencies import exponent, is_known_currency

# The largest amount any field accepts, in major units of its currency (a plan price, a fixed
# credit, a grant limit). With at most four decimals (CLF) it is 10^16 minor units, three orders
# of magnitude below a signed 64-bit column, so sums over many offers stay representable too.
MAX_MAJOR = 10**12
# The one syntax of an amount written by a person or a file: ASCII digits, at most one point
# with digits on both sides. No sign, exponent, underscore, thousands separator or non-ASCII
# digit (Python's Decimal() accepts "1e600000", "1_000" and Arabic-Indic digits; we do not).
AMOUNT_PATTERN = r"[0-9]+(?:\.[0-9]+)?"
_AMOUNT = re.compile(AMOUNT_PATTERN)
# Longer text cannot be a valid amount: refusing it first keeps the parser's cost bounded.
_MAX_TEXT = 40


class MoneyError(ValueError):
    """A currency code or an amount that cannot be money."""


def check_currency(code: str) -> str:
    """Return `code` when it is a known ISO 4217 code, else raise MoneyError."""
    if not is_known_currency(code):
        raise MoneyError(f"unknown currency {code!r}: use an ISO 4217 code such as USD, EUR or JPY")
    return code


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An exact amount: `minor` integer units of `currency` (799 USD = 7.99 USD)."""

    currency: str
    minor: int

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("money is held in integer minor units")

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Read a major-unit amount ("7.99") exactly; see `parse_amount`."""
        return parse_amount(text, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(currency, 0)

    @property
    def exponent(self) -> int:
        return exponent(self.currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, with exactly the currency's number of decimals."""
        return to_major(self.minor, self.currency)

    def __str__(self) -> str:
        return format_major(self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.minor + other.minor)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.minor - other.minor)

    def __neg__(self) -> Money:
        return Money(self.currency, -self.minor)

    def percent(self, percent: Decimal) -> Money:
        """`percent` % of this amount, exact, then rounded once, half up, to a minor unit."""
        exact = Decimal(self.minor) * percent / Decimal(100)
        return Money(self.currency, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units to a Decimal in major units with the currency's exponent (799 -> 7.99)."""
    exp = exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_major(minor: int, currency: str) -> str:
    """Minor units as a plain decimal string for files and JSON ("-0.24", "30", "0.105")."""
    return f"{to_major(minor, currency):f}"


def parse_amount(text: object, currency: str) -> Money:
    """The one reader of amounts typed or imported: "7.99" in `currency` -> Money(799).

    ASCII digits with at most one point and at most the currency's decimals (trailing zeros
    beyond them are fine: "3.500" KWD, "7.990" USD), from 0 up to MAX_MAJOR major units.
    Anything else raises MoneyError saying what to write; the cost is bounded by the length
    check, whatever the input.
    """
    check_currency(currency)
    if not isinstance(text, str):
        raise MoneyError(f"{text!r} is not a decimal amount (write it like 7.99)")
    body = text.strip()
    if len(body) > _MAX_TEXT:
        raise MoneyError(
            f"is too long for an amount; at most {MAX_MAJOR:,} {currency}, written like 7.99"
        )
    if body.startswith("-") and _AMOUNT.fullmatch(body[1:]):
        raise MoneyError("must not be negative")
    if not _AMOUNT.fullmatch(body):
        raise MoneyError(
            f"{body!r} is not a decimal amount: write digits with at most one point, "
            "like 7.99 (no sign, exponent, separators or spaces)"
        )
    whole, _, fraction = body.partition(".")
    fraction = fraction.rstrip("0")
    exp = exponent(currency)
    if len(fraction) > exp:
        raise MoneyError(f"{body!r} has more decimals than {currency} allows ({exp})")
    if int(whole) > MAX_MAJOR or (int(whole) == MAX_MAJOR and fraction):
        raise MoneyError(f"{body!r} is more than the largest amount, {MAX_MAJOR:,} {currency}")
    return Money(currency, int(whole) * 10**exp + int(fraction.ljust(exp, "0") or "0"))
