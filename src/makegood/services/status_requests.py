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

import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.ids import new_id
from makegood.domain.tokens import new_tokens_with_hashes
from makegood.notify.status_email import TEMPLATE as STATUS_TEMPLATE
from makegood.notify.status_email import appeal_key, appeal_until_key
from makegood.services.appeals import APPEALABLE
from makegood.services.appeals import issue_links as issue_appeal_links
from makegood.store import offers
from makegood.store import tables as t
from makegood.store.uow import UnitOfWork

ONE_PER = timedelta(hours=1)  # at most one status e-mail per account in this time
MAX_EMAIL_LENGTH = 320
BATCH = 200


def request_status(uow: UnitOfWork, email: str, now: datetime) -> None:
    """Queue a status request for `email` and commit; the same for any address."""
    uow.conn.execute(
        t.credit_status_requests.insert().values(
            id=new_id("csr"), email=email.strip()[:MAX_EMAIL_LENGTH], requested_at=now
        )
    )
    uow.commit()


def queue_status_emails(container: Container) -> int:
    """Turn every waiting request into status e-mails (or nothing); returns e-mails queued.

    Requests are taken in batches with SKIP LOCKED on PostgreSQL, so several workers share
    them; each batch commits with the e-mails it queued and the requests it deleted.
    """
    queued = 0
    r = t.credit_status_requests
    while True:
        with container.uow() as uow:
            rows = uow.conn.execute(
                sa.select(r.c.id, r.c.email)
                .order_by(r.c.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return queued
            now = container.now()
            for row in rows:
                queued += _queue_for_address(uow, row.email, now)
            uow.conn.execute(r.delete().where(r.c.id.in_([row.id for row in rows])))
            uow.commit()


def _queue_for_address(uow: UnitOfWork, email: str, now: datetime) -> int:
    a = t.accounts
    query = sa.select(a.c.account_id).where(sa.func.lower(a.c.email) == email.lower())
    if uow.dialect == "postgresql":
        # One status e-mail per account per hour: the account row is the lock that makes
        # the check below and the insert one step for concurrent workers.
        query = query.with_for_update()
    queued = 0
    for account_id in uow.conn.execute(query.order_by(a.c.account_id)).scalars().all():
        queued += _queue_for_account(uow, account_id, now)
    return queued


def _queue_for_account(uow: UnitOfWork, account_id: str, now: datetime) -> int:
    m = t.messages
    recent = uow.conn.execute(
        sa.select(sa.func.count())
        .select_from(m)
        .where(
            m.c.offer_id.is_(None),  # a status e-mail: ix_messages_account_id holds only those
            m.c.account_id == account_id,
            m.c.template == STATUS_TEMPLATE,
            m.c.created_at > now - ONE_PER,
        )
    ).scalar_one()
    if recent:
        return 0
    credits = uow.reports.account_credits(account_id, now)
    if credits is None:
        return 0
    offered = [e.offer_id for e in credits.incidents if e.status == "offered" and e.offer_id]
    links: dict[str, str] = {}
    if offered:
        pairs = new_tokens_with_hashes(len(offered))
        offers.add_links(
            uow.conn,
            [
                {"token_hash": digest, "offer_id": offer_id, "created_at": now}
                for offer_id, (_, digest) in zip(offered, pairs, strict=True)
            ],
        )
        links = {offer_id: token for offer_id, (token, _) in zip(offered, pairs, strict=True)}
    # An incident where the snapshot did not find the account: a fresh appeal link while the
    # campaign's appeal window is open (services/appeals.py stores only its hash).
    missed = [e.incident_id for e in credits.incidents if e.status in APPEALABLE]
    appeal_tokens = issue_appeal_links(uow.conn, account_id, missed, now)
    for incident_id, (token, until) in appeal_tokens.items():
        links[appeal_key(incident_id)] = token
        links[appeal_until_key(incident_id)] = until.isoformat()
    message_id = new_id("msg")
    uow.conn.execute(
        m.insert().values(
            id=message_id,
            offer_id=None,
            account_id=account_id,
            channel="email",
            template=STATUS_TEMPLATE,
            state="pending",
            next_attempt_at=now,
            created_at=now,
            status_links=links or None,
        )
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
