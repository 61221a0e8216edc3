"""The launch's COPY text, written per column for speed, is what the generic encoder writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from makegood.domain.tokens import hash_token
from makegood.services.launch_rows import LaunchTerms, chunk_rows
from makegood.store.bulk_insert import encode_rows
from makegood.store.offers import LAUNCH_COLUMNS, Member

NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
MEMBERS: list[Member] = [
    ("acc-1", 24, "USD", "pln_a"),
    ("acc\t2\\x", 30, "JPY", "pln\nb"),  # values from the database are escaped
]


@pytest.mark.parametrize("members", [MEMBERS, MEMBERS[:1]], ids=["to-escape", "plain"])
@pytest.mark.parametrize("auto", [False, True])
def test_copy_text_equals_the_generic_encoding(auto: bool, members: list[Member]) -> None:
    terms = LaunchTerms("cmp_1", "inc_1", NOW + timedelta(days=7), auto)
    rows = chunk_rows(members, members[-1][0], terms, NOW, copy=True)
    assert rows.offers_copy == ["".join(encode_rows(rows.offers))]
    assert all(line.count("\t") == 15 for line in rows.offers_copy[0].splitlines())


@pytest.mark.parametrize("auto", [False, True])
def test_each_offer_carries_its_launch_email_and_only_that_holds_the_raw_link(auto: bool) -> None:
    terms = LaunchTerms("cmp_1", "inc_1", NOW + timedelta(days=7), auto)
    rows = chunk_rows(MEMBERS, MEMBERS[-1][0], terms, NOW, copy=True)
    columns = [dict(zip(LAUNCH_COLUMNS, row, strict=True)) for row in rows.offers]
    assert [c["email_state"] for c in columns] == ["pending", "pending"]
    if auto:
        assert [c["email_token"] for c in columns] == [None, None]
        return
    for c in columns:
        assert hash_token(c["email_token"]) == c["token_hash"]


def test_an_offer_without_its_launch_email_carries_no_link() -> None:
    terms = LaunchTerms("cmp_1", "inc_1", NOW + timedelta(days=7), False)
    rows = chunk_rows(MEMBERS, MEMBERS[-1][0], terms, NOW, copy=True, email=False)
    columns = [dict(zip(LAUNCH_COLUMNS, row, strict=True)) for row in rows.offers]
    assert [(c["email_state"], c["email_token"]) for c in columns] == [(None, None)] * 2
    assert rows.offers_copy == ["".join(encode_rows(rows.offers))]
