""" "Where is my credit?": take a request from the public page, later turn it into status e-mails.

No enumeration: `request_status` does the same work for every address (one INSERT into
`credit_status_requests` and a commit), so neither the page nor its timing says whether the
address belongs to a subscriber. The worker (and `makegood dispatch`) run
`queue_status_emails` before draining the outbox: for each request it finds the accounts with
that address, and for each one that had no status e-mail in the last hour it writes one
`credit_status` e-mail in the outbox, with a fresh claim link for each open offer (earlier
links keep working until the offer expires: the claim checks the offer's expiry whatever the
link) and a fresh appeal link for each incident where it was not found affected, while that
campaign takes appeals. The request row, and with it the address, is then deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from makegood.domain.tokens import new_tokens_with_hashes
from makegood.notify.status_email import TEMPLATE as STATUS_TEMPLATE
from makegood.notify.status_email import appeal_key, appeal_until_key
from makegood.services.appeals import APPEALABLE
from makegood.services.appeals import issue_links as issue_appeal_links
from makegood.store.uow import UnitOfWork

ONE_PER = timedelta(hours=1)  # at most one status e-mail per account in this time
MAX_EMAIL_LENGTH = 320
BATCH = 200


def request_status(uow: UnitOfWork, email: str, now: datetime) -> None:
    """Queue a status request for `email` in the caller's unit of work (the caller commits);
    the same for any address."""
    uow.status_requests.add(new_id("csr"), email.strip()[:MAX_EMAIL_LENGTH], now)


def queue_status_emails(container: Container) -> int:
    """Turn every waiting request into status e-mails (or nothing); returns e-mails queued.

    Requests are taken in batches with SKIP LOCKED on PostgreSQL, so several workers share
    them; each batch commits with the e-mails it queued and the requests it deleted.
    """
    queued = 0
    while True:
        with container.uow() as uow:
            requests = uow.status_requests.take(BATCH)
            if not requests:
                return queued
            now = container.now()
            for _, email in requests:
                queued += _queue_for_address(uow, email, now)
            uow.status_requests.delete([request_id for request_id, _ in requests])
            uow.commit()


def _queue_for_address(uow: UnitOfWork, email: str, now: datetime) -> int:
    # One status e-mail per account per hour: the account row is the lock that makes the
    # check below and the insert one step for concurrent workers.
    return sum(
        _queue_for_account(uow, account_id, now)
        for account_id in uow.accounts.ids_with_email(email, lock=True)
    )


def _queue_for_account(uow: UnitOfWork, account_id: str, now: datetime) -> int:
    if uow.outbox.has_recent(account_id, STATUS_TEMPLATE, now - ONE_PER):
        return 0
    credits = uow.reports.account_credits(account_id, now)
    if credits is None:
        return 0
    offered = [e.offer_id for e in credits.incidents if e.status == "offered" and e.offer_id]
    links: dict[str, str] = {}
    if offered:
        pairs = new_tokens_with_hashes(len(offered))
        uow.offers.add_links(
            [
                {"token_hash": digest, "offer_id": offer_id, "created_at": now}
                for offer_id, (_, digest) in zip(offered, pairs, strict=True)
            ],
        )
        links = {offer_id: token for offer_id, (token, _) in zip(offered, pairs, strict=True)}
    # An incident where the snapshot did not find the account: a fresh appeal link while the
    # campaign's appeal window is open (services/appeals.py stores only its hash).
    missed = [e.incident_id for e in credits.incidents if e.status in APPEALABLE]
    appeal_tokens = issue_appeal_links(uow, account_id, missed, now)
    for incident_id, (token, until) in appeal_tokens.items():
        links[appeal_key(incident_id)] = token
        links[appeal_until_key(incident_id)] = until.isoformat()
    message_id = new_id("msg")
    uow.outbox.queue_one(
        {
            "id": message_id,
            "offer_id": None,
            "account_id": account_id,
            "channel": "email",
            "template": STATUS_TEMPLATE,
            "state": "pending",
            "next_attempt_at": now,
            "created_at": now,
            "status_links": links or None,
        }
    )
    uow.audit.record(
        at=now,
        actor="subscriber:status",
        action="status.queued",
        subject_type="account",
        subject_id=account_id,
        detail={
            "message_id": message_id,
            "fresh_links": len(links) - 2 * len(appeal_tokens),
            "appeal_links": len(appeal_tokens),
        },
    )
    return 1
