"""Claim tokens: random, URL-safe, only their SHA-256 hash is ever stored."""

from __future__ import annotations

import base64
import hashlib
import secrets

TOKEN_BYTES = 32
# 32 random bytes and a zero byte make 33, a multiple of 3: base64 of many such blocks at once
# gives each block's 44 characters on their own, and the first 43 are exactly the token's
# URL-safe base64 without padding (the zero byte only fills the 44th, which would be `=`).
_BLOCK = TOKEN_BYTES + 1
_BLOCK_TEXT = _BLOCK // 3 * 4
_TEXT = 43


def new_token() -> str:
    """A fresh claim token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256); lookups go by this hash, never by the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_tokens_with_hashes(count: int) -> list[tuple[str, str]]:
    """`count` (token, hash) pairs exactly like `new_token()` / `hash_token()`, made in bulk."""
    return list(zip(*new_tokens_and_hashes(count), strict=True))


def new_tokens_and_hashes(count: int) -> tuple[list[str], list[str]]:
    """`count` tokens like `new_token()` and their `hash_token()`s, made in bulk."""
    blocks = bytearray(secrets.token_bytes(_BLOCK * count))
    blocks[TOKEN_BYTES::_BLOCK] = bytes(count)
    text = base64.urlsafe_b64encode(blocks)
    starts = range(0, _BLOCK_TEXT * count, _BLOCK_TEXT)
    chars = text.decode("ascii")
    sha256 = hashlib.sha256
    return [chars[i : i + _TEXT] for i in starts], [
        sha256(text[i : i + _TEXT]).hexdigest() for i in starts
    ]
