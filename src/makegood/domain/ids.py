"""Opaque, time-ordered identifiers with a readable prefix (inc_, cmp_, ofr_, msg_ ...)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str) -> str:
    """`prefix_` + 26 characters: 48 bits of milliseconds then 80 random bits (sorts by time)."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(reversed(chars))}"


# Byte -> one base32 digit from its low 5 bits: a uniform random byte gives a uniform digit.
_LOW_BITS_DIGIT = bytes(_ALPHABET.encode()[b & 31] for b in range(256))


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` ids like `new_id(prefix)`, made in bulk (a launch makes millions).

    new_id's 26 digits are 10 of milliseconds then 16 random ones (80 bits = 16 x 5): the time
    digits are computed once, the random ones by one C-level translate of random bytes.

    The ids of one call ascend (they share their millisecond; the random digits are sorted), and
    those of a call in a later millisecond follow them (two calls in the same millisecond
    interleave): a bulk write of them appends to the right edge of the primary-key index
    (PostgreSQL's fast path for ascending keys) instead of a random page of the chunk's range.
    Each id still carries its own 80 random bits.
    """
    millis = time.time_ns() // 1_000_000
    time_digits = []
    for _ in range(10):
        millis, rem = divmod(millis, 32)
        time_digits.append(_ALPHABET[rem])
    start = f"{prefix}_{''.join(reversed(time_digits))}"
    digits = secrets.token_bytes(16 * count).translate(_LOW_BITS_DIGIT).decode("ascii")
    return sorted([start + digits[i : i + 16] for i in range(0, 16 * count, 16)])
