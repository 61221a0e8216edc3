"""The "is this message genuine?" check: is a pasted link or code a real, open offer?

The answer is one bit and says nothing about the account: no name, amount or state beyond
"open or not". Unknown, replaced, expired, claimed and withdrawn all read as "not confirmed".
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from makegood.domain.offers import OfferState
from makegood.domain.tokens import hash_token
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

MAX_INPUT = 2048


def token_from_text(text: str) -> str | None:
    """The claim token in a pasted link (`.../claim/TOKEN[/done]`) or the bare code itself."""
    text = text.strip()
    if not text or len(text) > MAX_INPUT:
        return None
    path = urlsplit(text).path if "://" in text else text.split("?")[0].split("#")[0]
    if "/claim/" in path:
        path = path.split("/claim/", 1)[1]
    token = unquote(path.strip("/").removesuffix("/done"))
    if not token or "/" in token or len(token) > 256:
        return None
    return token


def is_open_offer(uow: UnitOfWork, text: str, now: datetime) -> bool:
    """True when `text` holds a live link to an offer that can still be claimed at `now`."""
    token = token_from_text(text)
    if token is None:
        return False
    ct, o = t.claim_tokens, t.offers
    found = uow.conn.execute(
        sa.select(o.c.id)
        .join(ct, ct.c.offer_id == o.c.id)
        .where(
            ct.c.token_hash == hash_token(token),
            ct.c.revoked_at.is_(None),
            o.c.state == OfferState.OPEN,
            o.c.expires_at > now,
        )
    ).first()
    return found is not None
