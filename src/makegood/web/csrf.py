"""CSRF protection for the claim form, without a login or a server-side session.

GET gives the browser a random nonce in a cookie (HttpOnly, SameSite=Lax, Path=/claim) and puts
HMAC-SHA256(secret, nonce + ":" + token_hash) in the form. POST must bring both, and the two must
match: another site can make a browser send the cookie (or not, SameSite) but cannot read it, so
it cannot compute the form field; the HMAC binds the pair to one link.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

NONCE_COOKIE = "mg_claim_nonce"
COOKIE_PATH = "/claim"
_NONCE_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


class CsrfRejected(Exception):
    """The form came without the page's CSRF token, or with one that does not match."""


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def usable_nonce(value: str | None) -> bool:
    """True for a nonce we could have issued (so an open tab's form keeps working)."""
    return value is not None and 32 <= len(value) <= 64 and set(value) <= _NONCE_CHARS


def csrf_token(secret_key: str, nonce: str, token_hash: str) -> str:
    """The hidden form field for this browser (nonce) and this link (token hash)."""
    message = f"{nonce}:{token_hash}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def check_csrf(secret_key: str, nonce: str | None, token_hash: str, submitted: str | None) -> None:
    """Raise CsrfRejected unless `submitted` is the form field issued with cookie `nonce`."""
    if not usable_nonce(nonce) or not submitted:
        raise CsrfRejected("missing CSRF token or cookie")
    assert nonce is not None  # usable_nonce checked it
    expected = csrf_token(secret_key, nonce, token_hash)
    if not hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "replace")):
        raise CsrfRejected("CSRF token does not match")
