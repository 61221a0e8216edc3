"""The "is this message genuine?" check: is a pasted link or code a real, open offer?

The answer says nothing about the account: no name, amount or state beyond "open or not". A
link vouches only when it points to our own address (MAKEGOOD_PUBLIC_URL: same scheme, host,
port and path prefix); a phishing page can carry a real token, so a live token on any other
host is "elsewhere", never "real". Unknown, replaced, expired, claimed and withdrawn all read
as "not confirmed".
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from urllib.parse import SplitResult, unquote, urlsplit

from makegood.domain.tokens import hash_token
from makegood.store.uow import UnitOfWork

MAX_INPUT = 2048
# A bare code: the token alphabet (URL-safe base64) and nothing else.
_CODE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Verdict(StrEnum):
    REAL = "real"  # an open offer, from a link to our address or a bare code
    UNKNOWN = "unknown"  # no open offer by that code (or nothing readable)
    ELSEWHERE = "elsewhere"  # a link that does not point to our address


def _origin(parts: SplitResult) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a link, or None when it has none or carries a user name."""
    try:
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def read_pasted(text: str, public_url: str) -> tuple[Verdict, str | None]:
    """What a pasted text is: a bare code or a link to our claim pages (UNKNOWN with the token
    to look up), a link elsewhere (ELSEWHERE), or nothing readable (UNKNOWN, None)."""
    text = text.strip()
    if not text or len(text) > MAX_INPUT:
        return Verdict.UNKNOWN, None
    if _CODE.fullmatch(text):
        return Verdict.UNKNOWN, text
    ours = urlsplit(public_url)
    link = urlsplit(text)
    # Browsers read a backslash as a slash and ignore whitespace: what they would open is
    # not what we parsed, so such a link is not ours.
    if any(c == "\\" or c.isspace() for c in text) or _origin(link) != _origin(ours):
        return Verdict.ELSEWHERE, None
    prefix = ours.path.rstrip("/") + "/claim/"
    if not link.path.startswith(prefix):
        return Verdict.ELSEWHERE, None
    token = unquote(link.path[len(prefix) :].removesuffix("/").removesuffix("/done"))
    return Verdict.UNKNOWN, token if _CODE.fullmatch(token) else None


def check_pasted(uow: UnitOfWork, text: str, public_url: str, now: datetime) -> Verdict:
    """REAL when `text` is a code or a link to our address of an offer open at `now`."""
    verdict, token = read_pasted(text, public_url)
    if token is None:
        return verdict
    found = uow.offers.offer_for_link(hash_token(token))
    if found is None or found[1]:  # unknown or replaced
        return Verdict.UNKNOWN
    return Verdict.REAL if uow.offers.is_claimable(found[0], now) else Verdict.UNKNOWN
