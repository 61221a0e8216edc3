"""The policy document (public contract, docs/policies.md): a mapping read from TOML or JSON.

`from_document` checks every key and value and raises PolicyError naming the key's path;
`to_document` gives back the document a campaign stores and shows. Keys not listed here are
refused: a typo must never change money.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.domain.money import (
    Money,
    MoneyError,
    check_currency,
    format_major,
    parse_amount,
)
from makegood.domain.policy import (
    MINUTES_PER,
    Basis,
    Cap,
    CreditPolicy,
    Eligibility,
    FixedAmount,
    Measure,
    PercentOfPrice,
    ProRata,
    StatusAt,
    Tier,
    check_amount,
    check_percent,
)

Path = tuple[str | int, ...]
BASES = ("percent", "fixed", "prorata")
TOP_KEYS = ("measure", "tier", *BASES, "cap", "floor", "eligibility")
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "tier": ("at_least", *BASES),
    "prorata": ("unit", "of"),
    "cap": ("percent", "amounts"),
    "floor": ("amounts",),
    "eligibility": ("plans", "status_at"),
}
MAX_AT_LEAST = 10**9
MAX_TIERS = 100  # each tier is a branch of the engines' query
MAX_PLANS = 10_000
PERCENT_DECIMALS = 6  # what the engines compute exactly (telemetry.policy_sql)
_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class PolicyError(InvalidInput):
    """A policy document that breaks the contract; `path` is the key ("tier", 1, "percent")."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{dotted(path)}: {problem}")
        self.path = path
        self.problem = problem


def dotted(path: Path, prefix: str = "") -> str:
    """`tier[1].percent` (indexes from 0, as in JSON paths)."""
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(the document)"


def _table(value: Any, path: Path, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(path, "must be a table (TOML) or an object (JSON)")
    for key in value:
        if key not in allowed:
            raise PolicyError(
                (*path, str(key)), f"unknown key; the keys here are {', '.join(allowed)}"
            )
    return value


def _number_text(value: Any, path: Path, example: str) -> str:
    """A number as plain decimal text, refusing at once what no amount or percent can be
    (a bool, 1e600000, a thousand digits): the cost stays bounded whatever the document."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise PolicyError(path, f"must be a number, e.g. {example}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 24 or not _PLAIN.fullmatch(text):
            raise PolicyError(
                path, f"{text[:24]!r} is not a plain decimal; write it like {example}"
            )
        return text
    if isinstance(value, int):
        if abs(value) > 10**15:
            raise PolicyError(path, f"is too large; write it like {example}")
        return str(value)
    number = Decimal(str(value))
    if not number.is_finite() or number.adjusted() > 15 or number.as_tuple().exponent < -12:  # type: ignore[operator]
        raise PolicyError(path, f"is not a plain decimal; write it like {example}")
    return format(number, "f")


def _decimal(value: Any, path: Path) -> Decimal:
    return Decimal(_number_text(value, path, '3 or "2.5"'))


def _percent(value: Any, path: Path) -> Decimal:
    number = _decimal(value, path)
    if -number.normalize().as_tuple().exponent > PERCENT_DECIMALS:  # type: ignore[operator]
        raise PolicyError(path, f"at most {PERCENT_DECIMALS} decimals, please")
    try:
        return check_percent(number)
    except MoneyError as exc:
        raise PolicyError(path, f"{exc}; write a percent of the monthly price") from None


def _amounts(value: Any, path: Path, what: str, required: bool) -> dict[str, Money]:
    if not isinstance(value, Mapping):
        raise PolicyError(path, 'must map currencies to amounts, e.g. { USD = "5.00" }')
    if required and not value:
        raise PolicyError(path, 'give at least one currency, e.g. { USD = "5.00" }')
    out: dict[str, Money] = {}
    for cur, amount in value.items():
        where = (*path, str(cur))
        try:
            check_currency(str(cur))
            text = _number_text(amount, where, '"5.00"')
            out[str(cur)] = check_amount(parse_amount(text, str(cur)), what)
        except MoneyError as exc:
            raise PolicyError(where, str(exc)) from None
    return out


def _choice(value: Any, path: Path, choices: Sequence[str]) -> str:
    if value not in choices:
        raise PolicyError(path, f"{value!r} is not one of {' | '.join(choices)}")
    return str(value)


def _basis(doc: Mapping[str, Any], path: Path) -> Basis | None:
    given = [key for key in BASES if key in doc]
    if len(given) > 1:
        raise PolicyError((*path, given[1]), f"give one basis, not {' and '.join(given)}")
    if not given:
        return None
    key = given[0]
    value, where = doc[key], (*path, key)
    if key == "percent":
        return PercentOfPrice(_percent(value, where), allow_zero=True)
    if key == "fixed":
        return FixedAmount(_amounts(value, where, "fixed amount", required=True))
    table = _table(value, where, TABLE_KEYS["prorata"])
    for part in ("unit", "of"):
        if part not in table:
            raise PolicyError(
                (*where, part), 'missing; write prorata = { unit = "day", of = "impact" }'
            )
    unit = _choice(table["unit"], (*where, "unit"), tuple(MINUTES_PER))
    return ProRata(unit, _choice(table["of"], (*where, "of"), ("impact", "outage")))


def _tiers(value: Any) -> tuple[Tier, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise PolicyError(("tier",), "must be a list of tiers ([[tier]] tables in TOML)")
    if len(value) > MAX_TIERS:
        raise PolicyError(("tier",), f"at most {MAX_TIERS} tiers, please")
    tiers: list[Tier] = []
    for i, raw in enumerate(value):
        table = _table(raw, ("tier", i), TABLE_KEYS["tier"])
        if "at_least" not in table:
            raise PolicyError(("tier", i, "at_least"), "missing; each tier starts at a measure")
        at_least = table["at_least"]
        if isinstance(at_least, bool) or not isinstance(at_least, int):
            raise PolicyError(("tier", i, "at_least"), "must be a whole number, e.g. 60")
        if not 0 <= at_least <= MAX_AT_LEAST:
            raise PolicyError(("tier", i, "at_least"), f"must be between 0 and {MAX_AT_LEAST}")
        if any(t.at_least == at_least for t in tiers):
            raise PolicyError(("tier", i, "at_least"), f"two tiers start at {at_least}")
        basis = _basis(table, ("tier", i))
        if basis is None:
            raise PolicyError(("tier", i), "give the tier a basis: percent, fixed or prorata")
        tiers.append(Tier(at_least, basis))
    return tuple(tiers)


def _eligibility(value: Any) -> Eligibility:
    table = _table(value, ("eligibility",), TABLE_KEYS["eligibility"])
    plans: tuple[str, ...] | None = None
    if "plans" in table:
        raw = table["plans"]
        where: Path = ("eligibility", "plans")
        if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
            raise PolicyError(
                where, 'must be a list of plan ids, e.g. ["basic_usd"]; leave it out for every plan'
            )
        if len(raw) > MAX_PLANS:
            raise PolicyError(where, f"at most {MAX_PLANS} plans; leave it out for every plan")
        if not all(isinstance(p, str) and p.strip() for p in raw):
            raise PolicyError(where, "each plan must be a non-empty plan id")
        plans = tuple(dict.fromkeys(raw))
    status_at = StatusAt.LAUNCH
    if "status_at" in table:
        status_at = StatusAt(
            _choice(table["status_at"], ("eligibility", "status_at"), tuple(StatusAt))
        )
    return Eligibility(plans, status_at)


def from_document(doc: Any) -> CreditPolicy:
    """The policy a document describes, or PolicyError naming the first wrong key."""
    doc = _table(doc, (), TOP_KEYS)
    measure = Measure.IMPACT_MINUTES
    if "measure" in doc:
        measure = Measure(_choice(doc["measure"], ("measure",), tuple(Measure)))
    basis = _basis(doc, ())
    tiers: tuple[Tier, ...] = ()
    if "tier" in doc:
        if basis is not None:
            raise PolicyError(
                (next(k for k in BASES if k in doc),),
                "a file with tiers gives each tier its basis; move it into a [[tier]]",
            )
        tiers = _tiers(doc["tier"])
    elif basis is None:
        raise PolicyError((), "give tiers ([[tier]]) or one basis: percent, fixed or prorata")
    cap = None
    if "cap" in doc:
        table = _table(doc["cap"], ("cap",), TABLE_KEYS["cap"])
        cap = Cap(
            _percent(table["percent"], ("cap", "percent")) if "percent" in table else None,
            _amounts(table.get("amounts", {}), ("cap", "amounts"), "cap", required=False),
        )
    floor: dict[str, Money] = {}
    if "floor" in doc:
        table = _table(doc["floor"], ("floor",), TABLE_KEYS["floor"])
        floor = _amounts(table.get("amounts", {}), ("floor", "amounts"), "floor", required=False)
    eligibility = _eligibility(doc["eligibility"]) if "eligibility" in doc else Eligibility()
    return CreditPolicy(
        tiers=tiers,
        basis=basis,
        measure=measure,
        cap=cap,
        floor=floor,
        eligibility=eligibility,
        given=frozenset(
            k for k in ("measure", "status_at") if k in doc or k in doc.get("eligibility", {})
        ),
    )


def _money_map(amounts: Mapping[str, Money]) -> dict[str, str]:
    return {cur: format_major(m.minor, cur) for cur, m in amounts.items()}


def _basis_document(basis: Basis) -> dict[str, Any]:
    if isinstance(basis, PercentOfPrice):
        return {"percent": str(basis.percent)}
    if isinstance(basis, FixedAmount):
        return {"fixed": _money_map(basis.amounts)}
    return {"prorata": {"unit": basis.unit, "of": basis.of}}


def to_document(policy: CreditPolicy) -> dict[str, Any]:
    """The document as a campaign stores and shows it: percents and amounts as decimal strings."""
    doc: dict[str, Any] = {}
    if policy.tiers or "measure" in policy.given:
        doc["measure"] = policy.measure.value
    if policy.tiers:
        doc["tier"] = [{"at_least": t.at_least, **_basis_document(t.basis)} for t in policy.tiers]
    elif policy.basis is not None:
        doc.update(_basis_document(policy.basis))
    if policy.cap is not None:
        cap: dict[str, Any] = {}
        if policy.cap.percent is not None:
            cap["percent"] = str(policy.cap.percent)
        if policy.cap.amounts:
            cap["amounts"] = _money_map(policy.cap.amounts)
        doc["cap"] = cap
    if policy.floor:
        doc["floor"] = {"amounts": _money_map(policy.floor)}
    eligibility: dict[str, Any] = {}
    if policy.eligibility.plans is not None:
        eligibility["plans"] = list(policy.eligibility.plans)
    if "status_at" in policy.given or policy.eligibility.status_at is not StatusAt.LAUNCH:
        eligibility["status_at"] = policy.eligibility.status_at.value
    if eligibility:
        doc["eligibility"] = eligibility
    return doc


def from_stored(data: Mapping[str, Any]) -> CreditPolicy:
    """A campaign's stored policy: a document, or the form stored before documents ("kind")."""
    if "kind" not in data:
        return from_document(data)
    if data["kind"] == "percent":
        return CreditPolicy(basis=PercentOfPrice(Decimal(data["percent"])))
    if data["kind"] == "fixed":
        amounts = {c: Money(c, int(v)) for c, v in data["amounts"].items()}
        return CreditPolicy(basis=FixedAmount(amounts))
    raise ValueError(f"unknown stored policy kind {data['kind']!r}")
