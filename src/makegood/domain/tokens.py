"""Claim tokens: random, URL-safe, only their SHA-256 hash is ever stored."""

from __future__ import annotations

import base64
import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh claim token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256); lookups go by this hash, never by the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_tokens_with_hashes(count: int) -> list[tuple[str, str]]:
    """`count` (token, hash) pairs exactly like `new_token()` / `hash_token()`, made in bulk."""
    raw = secrets.token_bytes(TOKEN_BYTES * count)
    pairs = []
    sha256 = hashlib.sha256
    for i in range(0, TOKEN_BYTES * count, TOKEN_BYTES):
        encoded = base64.urlsafe_b64encode(raw[i : i + TOKEN_BYTES]).rstrip(b"=")
        pairs.append((encoded.decode("ascii"), sha256(encoded).hexdigest()))
    return pairs
