""" "An offer can be claimed" is one rule: `domain.offers.claimable`, and its SQL form
`store.offers.claimable_clause` (with `CLAIMABLE_SQL` for PostgreSQL's one-statement claim).

The guard reads every module of the package with `ast`: a comparison of an offer's state with
"open" (or `OfferState.OPEN`) anywhere else is the rule written by hand once more.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import pytest
import sqlalchemy as sa

from makegood.domain import errors
from makegood.domain.offers import OfferState, check_claimable, claimable
from makegood.store import offers
from makegood.store import tables as t
from makegood.store.engine import make_engine

PACKAGE = Path(offers.__file__).resolve().parents[1]
HOMES = {PACKAGE / "domain" / "offers.py", PACKAGE / "store" / "offers.py"}
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
OFFSETS = (timedelta(seconds=-1), timedelta(0), timedelta(microseconds=1), timedelta(days=3))


class OfferRow(TypedDict):
    id: int
    state: str
    expires_at: datetime


def _is_open(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value == "open"
    return isinstance(node, ast.Attribute) and node.attr == "OPEN"


_OPEN_SQL = re.compile(r"state\s*(=|<>|!=)\s*'open'", re.IGNORECASE)


def _where(path: Path, line: int) -> str:
    shown = path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else path.name
    return f"{shown}:{line}"


def open_comparisons(path: Path) -> list[str]:
    """Places in `path` that compare a state with "open": in Python or in SQL text."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            sides += [e for s in sides if isinstance(s, ast.Tuple | ast.List) for e in s.elts]
            if any(_is_open(s) for s in sides):
                found.append(_where(path, node.lineno))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _OPEN_SQL.search(node.value)
        ):
            found.append(_where(path, node.lineno) + " (SQL)")
    return found


def test_the_open_state_is_compared_only_where_the_rule_lives() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]
    elsewhere = [hit for p in sorted(modules) if p not in HOMES for hit in open_comparisons(p)]
    assert elsewhere == [], (
        "an offer's claimable rule is written by hand here; use domain.offers.claimable or "
        f"store.offers.claimable_clause: {elsewhere}"
    )
    assert all(open_comparisons(home) for home in HOMES)  # the guard does see the rule


def test_the_guard_sees_a_rule_written_by_hand(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "ok = row['state'] == 'open'\nq = \"WHERE state = 'open'\"\nr = s != OfferState.OPEN\n"
    )
    assert len(open_comparisons(sample)) == 3


@pytest.mark.parametrize("state", list(OfferState))
@pytest.mark.parametrize("offset", OFFSETS)
def test_claimable_is_open_and_before_the_window_ends(state: OfferState, offset: timedelta) -> None:
    expires_at = NOW + offset
    assert claimable(state, expires_at, NOW) == (state == "open" and expires_at > NOW)
    assert claimable(state, expires_at, NOW, even_after_expiry=True) == (state == "open")
    assert claimable(state, expires_at, None, even_after_expiry=True) == (state == "open")


def test_check_claimable_explains_exactly_the_refusals() -> None:
    past = NOW - timedelta(seconds=1)
    check_claimable(OfferState.OPEN, past, NOW, even_after_expiry=True)
    with pytest.raises(errors.OfferExpired):
        check_claimable(OfferState.OPEN, past, NOW)
    with pytest.raises(errors.OfferAlreadyClaimed):
        check_claimable(OfferState.GRANTED, past, NOW, even_after_expiry=True)
    with pytest.raises(errors.OfferRevoked):
        check_claimable(OfferState.REVOKED, NOW + timedelta(days=1), NOW)


def test_the_sql_clause_selects_what_the_predicate_accepts(tmp_path: Path) -> None:
    table = sa.Table(
        "offers",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", t.offers.c.state.type),
        sa.Column("expires_at", t.offers.c.expires_at.type),
    )
    rows: list[OfferRow] = [
        {"id": i, "state": state.value, "expires_at": NOW + offset}
        for i, (state, offset) in enumerate(
            (state, offset) for state in OfferState for offset in OFFSETS
        )
    ]
    engine = make_engine(f"sqlite:///{tmp_path / 'rule.db'}")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
        for late in (False, True):
            chosen = set(
                conn.execute(
                    sa.select(table.c.id).where(
                        offers.claimable_clause(table, NOW, even_after_expiry=late)
                    )
                ).scalars()
            )
            wanted = {
                r["id"]
                for r in rows
                if claimable(r["state"], r["expires_at"], NOW, even_after_expiry=late)
            }
            assert chosen == wanted
    engine.dispose()
    assert offers.CLAIMABLE_SQL == "state = 'open' AND expires_at > :now"
