"""Money rules: exact parsing, one half-up rounding, ISO 4217 exponents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.currencies import EXPONENTS
from makegood.domain.money import MAX_MAJOR, Money, MoneyError, format_major, parse_amount


@pytest.mark.parametrize(
    ("price", "currency", "expected"),
    [
        ("7.99", "USD", "0.24"),
        ("990", "JPY", "30"),
        ("3.500", "KWD", "0.105"),
        ("9.99", "EUR", "0.30"),
    ],
)
def test_three_percent_of_the_origin_prices(price: str, currency: str, expected: str) -> None:
    assert str(Money.parse(price, currency).percent(Decimal(3))) == expected


def test_exponents_follow_iso_4217() -> None:
    assert (EXPONENTS["JPY"], EXPONENTS["USD"], EXPONENTS["KWD"], EXPONENTS["CLF"]) == (0, 2, 3, 4)


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("7.999", "USD"),
        ("1.5", "JPY"),
        ("abc", "USD"),
        ("NaN", "USD"),
        ("Infinity", "EUR"),
        ("1", "XYZ"),
    ],
)
def test_parse_refuses_what_is_not_exact_money(text: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text, currency)


def test_money_refuses_mixed_currencies_and_floats() -> None:
    with pytest.raises(MoneyError):
        Money("USD", 1) + Money("EUR", 1)
    with pytest.raises(MoneyError):
        Money("USD", 1.5)  # type: ignore[arg-type]


def test_format_major_keeps_the_currency_exponent() -> None:
    assert format_major(-24, "USD") == "-0.24"
    assert format_major(30, "JPY") == "30"
    assert format_major(105, "KWD") == "0.105"
    assert format_major(500, "USD") == "5.00"


currencies = st.sampled_from(sorted(EXPONENTS))
percents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)


@given(currencies, st.integers(min_value=0, max_value=10**12))
def test_parse_and_format_round_trip(currency: str, minor: int) -> None:
    assert Money.parse(format_major(minor, currency), currency) == Money(currency, minor)


@given(currencies, st.integers(min_value=0, max_value=10**12), percents)
def test_percent_is_rounded_once_half_up(currency: str, minor: int, percent: Decimal) -> None:
    credit = Money(currency, minor).percent(percent)
    exact = Decimal(minor) * percent / 100
    # Never more than half a minor unit away from the exact value, ties going up.
    assert abs(Decimal(credit.minor) - exact) <= Decimal("0.5")
    assert credit.minor == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert 0 <= credit.minor <= minor


@given(
    currencies, st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9)
)
def test_addition_is_exact(currency: str, a: int, b: int) -> None:
    total = Money(currency, a) + Money(currency, b)
    assert total.to_decimal() == Money(currency, a).to_decimal() + Money(currency, b).to_decimal()


@pytest.mark.parametrize(
    "text",
    [
        "1e600000",  # quadratic in the exponent through Decimal -> int
        "1e10000000",  # decimal.Overflow
        "1e30",
        "1E2",
        "99999999999999999999",  # over the maximum
        "1000000000000.01",
        "1_000",
        "\u0661\u0662.\u0663\u0664",  # Arabic-Indic digits
        "\uff17.\uff19\uff19",  # full-width digits
        "+1",
        "-1",
        "0x10",
        "1,000",
        "7,99",
        ".5",
        "5.",
        "1.2.3",
        "7 99",
        "NaN",
        "",
        "0" * 41,
    ],
)
def test_parse_amount_refuses_everything_but_plain_bounded_decimals(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text, "USD")


def test_parse_amount_says_what_is_wrong() -> None:
    with pytest.raises(MoneyError, match="must not be negative"):
        parse_amount("-7.99", "USD")
    with pytest.raises(MoneyError, match="largest amount"):
        parse_amount("1" + "0" * 30, "USD")
    with pytest.raises(MoneyError, match="no sign, exponent"):
        parse_amount("1e600000", "USD")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("7.99", "USD", 799),
        (" 7.99 ", "USD", 799),
        ("7.990", "USD", 799),  # a trailing zero is not a third decimal
        ("3.500", "KWD", 3500),
        ("990", "JPY", 990),
        ("990.0", "JPY", 990),
        ("0", "EUR", 0),
        ("000012", "USD", 1200),
        ("1000000000000", "CLF", 10**16),  # the maximum, with the most decimals there are
    ],
)
def test_parse_amount_reads_plain_decimals_exactly(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == Money(currency, minor)
    assert MAX_MAJOR * 10**4 < 2**63 // 100  # far below a signed 64-bit column
