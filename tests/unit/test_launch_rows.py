"""The launch's COPY stream, written per column for speed, is what the generic encoder writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from makegood.domain.tokens import hash_token
from makegood.services.launch_rows import LaunchTerms, chunk_rows
from makegood.store import tables as t
from makegood.store.bulk_insert import encode_binary
from makegood.store.offers import LAUNCH_COLUMNS, Member

NOW = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
MEMBERS: list[Member] = [
    ("acc-1", 24, "USD", "pln_a"),
    ("acc\t2\\x", 30, "JPY", "pln\nb"),  # COPY's text escapes mean nothing in binary
    ("acc-3", 24, "USD", "pln_a"),  # the same terms as the first: encoded once, reused
]
NOT_ASCII: list[Member] = [("acc-ü", 2_500, "EUR", "plän-日本"), ("acc-2", 1, "EUR", "pln")]


@pytest.mark.parametrize(
    "members", [MEMBERS, MEMBERS[:1], NOT_ASCII], ids=["many", "one", "not-ascii"]
)
@pytest.mark.parametrize("auto", [False, True])
def test_copy_stream_equals_the_generic_encoding(auto: bool, members: list[Member]) -> None:
    terms = LaunchTerms("cmp_1", "inc_1", NOW + timedelta(days=7), auto)
    rows = chunk_rows(members, members[-1][0], terms, NOW, copy=True)
    assert rows.offers_binary == encode_binary(t.offers, LAUNCH_COLUMNS, rows.offers)


@pytest.mark.parametrize("auto", [False, True])
def test_each_offer_carries_its_launch_email_and_only_that_holds_the_raw_link(auto: bool) -> None:
    terms = LaunchTerms("cmp_1", "inc_1", NOW + timedelta(days=7), auto)
    rows = chunk_rows(MEMBERS, MEMBERS[-1][0], terms, NOW, copy=True)
    columns = [dict(zip(LAUNCH_COLUMNS, row, strict=True)) for row in rows.offers]
    assert [c["email_state"] for c in columns] == ["pending"] * len(MEMBERS)
    if auto:
        assert [c["email_token"] for c in columns] == [None] * len(MEMBERS)
        return
    for c in columns:
        assert hash_token(c["email_token"]) == c["token_hash"]


def test_an_offer_without_its_launch_email_carries_no_link() -> None:
    terms = LaunchTerms("cmp_1", "inc_1", NOW + timedelta(days=7), False)
    rows = chunk_rows(MEMBERS, MEMBERS[-1][0], terms, NOW, copy=True, email=False)
    columns = [dict(zip(LAUNCH_COLUMNS, row, strict=True)) for row in rows.offers]
    assert [(c["email_state"], c["email_token"]) for c in columns] == [(None, None)] * len(MEMBERS)
    assert rows.offers_binary == encode_binary(t.offers, LAUNCH_COLUMNS, rows.offers)
