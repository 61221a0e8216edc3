"""Support actions on one offer: resend the link, extend the window, grant as goodwill.

Each action checks the offer's state, changes it, writes its audit entry and commits, all in one
transaction, so a failed action leaves nothing behind. `actor` is the signed-in user's e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput, InvalidState, MakegoodError, NotFound
from makegood.domain.ids import new_id
from makegood.domain.money import format_major
from makegood.domain.offers import claimable
from makegood.domain.tokens import hash_token, new_token
from makegood.services.claims import ClaimResult, grant_offer
from makegood.store import outbox
from makegood.store.repository import RowMapping
from makegood.store.uow import UnitOfWork

# Why an agent grants without a claim; the console offers exactly these.
REASON_CODES = ("never_received", "link_expired", "claim_failed", "service_recovery", "other")
MAX_EXTEND_DAYS = 90


class GrantLimitExceeded(MakegoodError):
    """The goodwill grant is larger than the agent's limit for that currency."""


@dataclass(frozen=True, slots=True)
class Resent:
    offer_id: str
    message_id: str
    expires_at: datetime


def _open_offer(uow: UnitOfWork, offer_id: str, now: datetime) -> RowMapping:
    row = uow.offers.lock_for_change(offer_id)
    if row is None:
        raise NotFound(f"no offer {offer_id!r}")
    if not claimable(row["state"], row["expires_at"], now, even_after_expiry=True):
        raise InvalidState(f"offer {offer_id} is {row['state']}; only open offers can change")
    return row


def resend_link(container: Container, offer_id: str, actor: str) -> Resent:
    """Revoke every earlier link of the offer, issue a new one with a fresh claim window, and
    queue an e-mail carrying it; the offer must still be open (an expired one reopens).

    The offer's earlier e-mails not yet sent are retired in the same transaction: they carry a
    link this resend revokes, so only the new one goes out."""
    now = container.now()
    with container.uow() as uow:
        offer = _open_offer(uow, offer_id, now)
        expires_at = now + timedelta(days=offer["claim_days"])
        token = new_token()
        uow.offers.replace_links(offer_id, hash_token(token), now)
        uow.outbox.write_launch_emails([offer_id])  # one still on the offer is retired too
        retired = uow.outbox.retire_unsent_emails(offer_id, "replaced by a resend")
        uow.offers.set_expiry(offer_id, expires_at)
        message_id = new_id("msg")
        uow.outbox.queue(
            [
                outbox.new_message(
                    message_id,
                    offer["account_id"],
                    "offer_claim",
                    now,
                    offer_id=offer_id,
                    claim_token=token,
                )
            ],
        )
        uow.audit.record(
            now,
            actor,
            "offer.resent",
            "offer",
            offer_id,
            {
                "account_id": offer["account_id"],
                "message_id": message_id,
                "expires_at": expires_at.isoformat(),
                "retired_messages": retired,
            },
        )
        uow.commit()
    return Resent(offer_id, message_id, expires_at)


def extend_offer(container: Container, offer_id: str, days: int, actor: str) -> datetime:
    """Push the claim window `days` further (from now if it had closed); returns the expiry."""
    if not 1 <= days <= MAX_EXTEND_DAYS:
        raise InvalidInput(f"days: give a number from 1 to {MAX_EXTEND_DAYS}")
    now = container.now()
    with container.uow() as uow:
        offer = _open_offer(uow, offer_id, now)
        expires_at: datetime = max(offer["expires_at"], now) + timedelta(days=days)
        uow.offers.set_expiry(offer_id, expires_at)
        uow.audit.record(
            now,
            actor,
            "offer.extended",
            "offer",
            offer_id,
            {
                "account_id": offer["account_id"],
                "from": offer["expires_at"].isoformat(),
                "to": expires_at.isoformat(),
            },
        )
        uow.commit()
    return expires_at


def check_grant_limit(amount_minor: int, currency: str, limits: dict[str, int] | None) -> None:
    """GrantLimitExceeded when a grant of `amount_minor` `currency` is above the agent's limit
    (`limits`: currency -> largest grant in minor units; None: no limit, admins)."""
    if limits is None:
        return
    limit = limits.get(currency, 0)
    if amount_minor > limit:
        raise GrantLimitExceeded(
            f"this credit is {format_major(amount_minor, currency)} {currency}; your limit is "
            f"{format_major(limit, currency)}: ask an admin"
        )


def goodwill_grant(
    container: Container,
    offer_id: str,
    reason: str,
    actor: str,
    limits: dict[str, int] | None,
) -> ClaimResult:
    """Credit an open offer for the subscriber (even after its window closed), exactly once.

    `limits` maps currency -> largest grant in minor units; None means no limit (admins).
    """
    if reason not in REASON_CODES:
        raise InvalidInput(f"reason: use one of {', '.join(REASON_CODES)}")
    now = container.now()
    with container.uow() as uow:
        offer = _open_offer(uow, offer_id, now)
        check_grant_limit(offer["amount_minor"], offer["currency"], limits)
        uow.audit.record(
            now,
            actor,
            "offer.goodwill",
            "offer",
            offer_id,
            {"account_id": offer["account_id"], "reason": reason},
        )
        # A goodwill grant is exactly for the subscriber who missed the window.
        result = grant_offer(uow, offer_id, now, via="agent", actor=actor, even_after_expiry=True)
        uow.commit()
        return result
