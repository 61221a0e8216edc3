"""The bulk id and token makers used by launch give exactly what the one-at-a-time ones give."""

from __future__ import annotations

import base64
import re

from makegood.domain.ids import new_id, new_ids
from makegood.domain.tokens import hash_token, new_token, new_tokens_with_hashes

ID_SHAPE = re.compile(r"ofr_[0-9a-hjkmnp-tv-z]{26}")


def test_bulk_ids_have_new_ids_shape_time_prefix_and_are_distinct() -> None:
    single = new_id("ofr")
    many = new_ids("ofr", 5_000)
    assert len(set(many)) == 5_000
    assert all(ID_SHAPE.fullmatch(i) for i in many)
    # The first 10 digits are the milliseconds (so ids sort by time): their leading 6 digits
    # change every 2**20 ms, so ids made a moment apart share them.
    assert {i[4:10] for i in many} == {single[4:10]}


def test_bulk_ids_ascend_within_a_call() -> None:
    """A launch's chunk is written in the order of its ids: ascending ids append to the right
    edge of the primary key rather than to random pages (bench/launch.py measures it). Calls
    in later milliseconds follow (the time digits lead)."""
    for _ in range(3):
        ids = new_ids("ofr", 3_000)
        assert ids == sorted(ids)


def test_bulk_ids_use_every_digit() -> None:
    digits = set("".join(i[-16:] for i in new_ids("msg", 2_000)))
    assert digits == set("0123456789abcdefghjkmnpqrstvwxyz")


def test_bulk_tokens_look_like_new_token_and_carry_their_hash() -> None:
    pairs = new_tokens_with_hashes(1_000)
    assert len({token for token, _ in pairs}) == 1_000
    assert all(len(token) == len(new_token()) for token, _ in pairs)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", token) for token, _ in pairs)
    assert all(hash_token(token) == digest for token, digest in pairs)


def test_bulk_tokens_are_32_bytes_each_and_no_byte_of_one_is_fixed() -> None:
    """Tokens are cut from one base64 text of the whole chunk: each must still be exactly 32
    random bytes of its own, none of them (the 32nd included) fixed by how they were cut."""
    tokens = [token for token, _ in new_tokens_with_hashes(2_000)]
    raw = [base64.urlsafe_b64decode(token + "=") for token in tokens]
    assert all(len(r) == 32 for r in raw)
    assert all(
        base64.urlsafe_b64encode(r).rstrip(b"=").decode() == t
        for r, t in zip(raw, tokens, strict=True)
    )
    for position in range(32):
        assert len({r[position] for r in raw}) > 200  # 2,000 draws of 256 values
