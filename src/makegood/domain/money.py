"""Money as integer minor units of an ISO 4217 currency; Decimal arithmetic, one rounding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from makegood.domain.currencies import exponent, is_known_currency


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
        """Read a major-unit decimal ("7.99") exactly; more decimals than the currency has fail."""
        check_currency(currency)
        try:
            value = Decimal(text.strip())
        except (InvalidOperation, AttributeError):
            raise MoneyError(f"{text!r} is not a decimal amount (write it like 7.99)") from None
        if not value.is_finite():
            raise MoneyError(f"{text!r} is not a finite amount")
        exp = exponent(currency)
        scaled = value.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{text!r} has more decimals than {currency} allows ({exp})")
        return cls(currency, int(scaled))

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
