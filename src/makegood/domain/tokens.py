"""Claim tokens: random, URL-safe, only their SHA-256 hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh claim token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256); lookups go by this hash, never by the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
