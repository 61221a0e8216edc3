"""The policy file: the contract's example reads as documented; every mistake names the file,
line and key; unknown keys and amounts beyond the bounds are refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from makegood.domain.errors import InvalidInput
from makegood.domain.money import Money
from makegood.domain.policy import (
    Cap,
    CreditPolicy,
    FixedAmount,
    Measure,
    PercentOfPrice,
    ProRata,
    StatusAt,
    single,
)
from makegood.domain.policy_document import PolicyError, from_document, from_stored, to_document
from makegood.domain.policy_text import read_policy

EXAMPLE = """\
measure = "impact_minutes"        # what tiers compare: impact_minutes | failed_attempts
[[tier]]
at_least = 1
percent = 3                       # 3 % of the monthly price
[[tier]]
at_least = 60
prorata = { unit = "day", of = "impact" }   # price x days / days in the month
[[tier]]
at_least = 240
fixed = { USD = "5.00", EUR = "5.00", JPY = "700" }

[cap]                             # at most, per account: the smaller of those given
percent = 100                     # of the monthly price
amounts = { USD = "10.00" }
[floor]                           # at least, per account
amounts = { USD = "1.00", JPY = "100" }

[eligibility]
plans = ["basic_usd", "premium_usd"]   # default: every plan
status_at = "incident"                 # "launch" (default) | "incident"
"""


def test_the_issue_example_reads_as_documented() -> None:
    policy = read_policy(EXAMPLE, "policy.toml")
    assert policy.measure is Measure.IMPACT_MINUTES
    assert [t.at_least for t in policy.tiers] == [1, 60, 240]
    assert policy.tiers[0].basis == PercentOfPrice(Decimal(3))
    assert policy.tiers[1].basis == ProRata("day", "impact")
    assert policy.tiers[2].basis == FixedAmount(
        {"USD": Money("USD", 500), "EUR": Money("EUR", 500), "JPY": Money("JPY", 700)}
    )
    assert policy.cap == Cap(Decimal(100), {"USD": Money("USD", 1_000)})
    assert policy.floor == {"USD": Money("USD", 100), "JPY": Money("JPY", 100)}
    assert policy.eligibility.plans == ("basic_usd", "premium_usd")
    assert policy.eligibility.status_at is StatusAt.INCIDENT


def test_json_and_toml_are_the_same_document() -> None:
    policy = read_policy(EXAMPLE, "policy.toml")
    document = to_document(policy)
    assert read_policy(json.dumps(document, indent=2), "policy.json") == policy
    assert from_document(json.loads(json.dumps(document))) == policy
    assert document["tier"][2] == {
        "at_least": 240,
        "fixed": {"USD": "5.00", "EUR": "5.00", "JPY": "700"},
    }


def test_a_file_without_tiers_holds_one_basis() -> None:
    assert read_policy("percent = 2.5\n", "p.toml") == single(PercentOfPrice(Decimal("2.5")))
    fixed = read_policy('fixed = { USD = "5", JPY = 500 }\n', "p.toml")
    assert fixed == single(FixedAmount({"USD": Money("USD", 500), "JPY": Money("JPY", 500)}))
    prorata = read_policy('prorata = { unit = "hour", of = "outage" }\n', "p.toml")
    assert prorata == single(ProRata("hour", "outage"))


def test_shortcuts_are_equivalent_documents() -> None:
    assert to_document(single(PercentOfPrice())) == {"percent": "3"}
    fixed = single(FixedAmount({"USD": Money("USD", 500)}))
    assert to_document(fixed) == {"fixed": {"USD": "5.00"}}
    assert from_document(to_document(fixed)) == fixed


def test_campaigns_stored_before_documents_still_read() -> None:
    assert from_stored({"kind": "percent", "percent": "3"}) == single(PercentOfPrice())
    stored = {"kind": "fixed", "amounts": {"JPY": 500}}
    assert from_stored(stored) == single(FixedAmount({"JPY": Money("JPY", 500)}))


def _error(text: str, source: str = "policy.toml") -> str:
    with pytest.raises(InvalidInput) as caught:
        read_policy(text, source)
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("percent = 100", "percnt = 100", "policy.toml:13: key cap.percnt: unknown key"),
        ('of = "impact"', 'of = "impakt"', "policy.toml:7: key tier[1].prorata.of: 'impakt'"),
        ('status_at = "incident"', 'status = "x"', "policy.toml:20: key eligibility.status:"),
        ('JPY = "700"', 'JPY = "70000"', "policy.toml:10: key tier[2].fixed.JPY: fixed amount"),
        ('JPY = "700"', 'JPY = "7.5"', "policy.toml:10: key tier[2].fixed.JPY: '7.5' has more"),
        (
            'EUR = "5.00"',
            'EURO = "5.00"',
            "policy.toml:10: key tier[2].fixed.EURO: unknown currency",
        ),
        (
            "percent = 3 ",
            "percent = 101 ",
            "policy.toml:4: key tier[0].percent: percent must be at most 100",
        ),
        (
            "percent = 100 ",
            "percent = -1 ",
            "policy.toml:13: key cap.percent: percent must be at least 0",
        ),
        (
            'USD = "10.00"',
            'USD = "10000.01"',
            "policy.toml:14: key cap.amounts.USD: cap 10000.01 USD is more than 10000 USD",
        ),
        ("at_least = 60", "at_least = 1", "policy.toml:6: key tier[1].at_least: two tiers start"),
        ("at_least = 60", "at_least = 1.5", "policy.toml:6: key tier[1].at_least: must be a whole"),
        ("at_least = 60", "at_least = -5", "policy.toml:6: key tier[1].at_least: must be between"),
        ('measure = "impact_minutes"', 'measure = "minutes"', "policy.toml:1: key measure:"),
        (
            "percent = 3 ",
            "percent = 3\nfixed = { USD = 1 }",
            "policy.toml:5: key tier[0].fixed: give one basis",
        ),
        ("percent = 3 ", "unit = 3 ", "policy.toml:4: key tier[0].unit: unknown key"),
        (
            'plans = ["basic_usd", "premium_usd"]',
            "plans = []",
            "policy.toml:19: key eligibility.plans",
        ),
        ("[floor]", "[flor]", "policy.toml:15: key flor: unknown key"),
    ],
)
def test_mistakes_name_file_line_and_key(old: str, new: str, where: str) -> None:
    assert old in EXAMPLE
    assert where in _error(EXAMPLE.replace(old, new, 1))


def test_a_tier_without_basis_and_a_file_without_any() -> None:
    assert "policy.toml:1: key tier[0]: give the tier a basis" in _error("[[tier]]\nat_least = 1\n")
    assert "policy.toml:1: key (the document): give tiers" in _error('measure = "impact_minutes"\n')
    both = "percent = 3\n[[tier]]\nat_least = 1\npercent = 4\n"
    assert "policy.toml:1: key percent: a file with tiers" in _error(both)
    prorata = 'prorata = { unit = "day" }\n'
    assert "policy.toml:1: key prorata.of: missing" in _error(prorata)


def test_syntax_errors_name_the_line() -> None:
    assert _error("percent = 3\ncap = [\n").startswith("policy.toml:2: not valid TOML")
    assert _error('{"percent": 3,\n "fixed": }', "p.json").startswith("p.json:2: not valid JSON")


def test_json_errors_name_the_line_of_the_key() -> None:
    text = json.dumps(to_document(read_policy(EXAMPLE, "p.toml")), indent=2)
    bad = text.replace('"week"', "x").replace('"day"', '"week"')
    line = next(i for i, s in enumerate(bad.splitlines(), 1) if '"week"' in s)
    assert f"p.json:{line}: key tier[1].prorata.unit: 'week' is not one of day | hour" in _error(
        bad, "p.json"
    )


def test_a_bool_is_not_a_number() -> None:
    with pytest.raises(PolicyError) as caught:
        from_document({"percent": True})
    assert caught.value.path == ("percent",)
    with pytest.raises(PolicyError) as caught:
        from_document({"tier": [{"at_least": True, "percent": 1}]})
    assert caught.value.path == ("tier", 0, "at_least")


def test_a_zero_percent_in_a_document_is_allowed() -> None:
    assert from_document({"percent": 0}) == CreditPolicy(basis=PercentOfPrice(Decimal(0), True))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "measure",
        "tier",
        "percent",
        "fixed",
        "prorata",
        "cap",
        "floor",
        "eligibility",
        "at_least",
        "unit",
        "of",
        "amounts",
        "plans",
        "status_at",
        "USD",
        "JPY",
    ]
)
near_documents = st.recursive(
    json_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=16,
)


@given(near_documents)
def test_any_json_is_a_policy_or_a_policy_error(document: object) -> None:
    """Whatever an API caller sends, the answer is a policy or a PolicyError naming a path
    (a 422), never another exception (a 500)."""
    try:
        policy = from_document(document)
    except PolicyError:
        return
    assert from_document(to_document(policy)) == policy


def test_the_number_of_tiers_and_plans_is_bounded() -> None:
    tiers = [{"at_least": i, "percent": 1} for i in range(101)]
    with pytest.raises(PolicyError, match="at most 100 tiers"):
        from_document({"tier": tiers})
    assert len(from_document({"tier": tiers[:100]}).tiers) == 100
    plans = [f"p{i}" for i in range(10_001)]
    with pytest.raises(PolicyError, match="at most 10000 plans"):
        from_document({"percent": 3, "eligibility": {"plans": plans}})
