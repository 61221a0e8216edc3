"""The launch's COPY text, written per column for speed, is what the generic encoder writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from makegood.services.launch_rows import LaunchTerms, chunk_rows
from makegood.store.bulk_insert import encode_rows
from makegood.store.offers import Member

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
    assert rows.emails_copy == ["".join(encode_rows(rows.emails))]
    assert all(line.count("\t") == 13 for line in rows.offers_copy[0].splitlines())
