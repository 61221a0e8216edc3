"""One row in every makegood table a database holds, whatever migration it is at: the rows an
older makegood could have written, for the tests that upgrade such a database with data in it.

A row names every column any revision gives its table; only the columns the table has at the
database's revision are written (a column added later is nullable or has a server default).
Rows refer to each other (the account's plan, the offer's campaign...), so each reference is one
that the foreign keys of any revision accept."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

AT = "2026-03-23 09:00:00"
LATER = "2026-03-30 09:00:00"

# In an order where each row's references come before it.
ROWS: dict[str, dict[str, Any]] = {
    "plans": {
        "plan_id": "basic",
        "name": "Basic",
        "monthly_price_minor": 799,
        "currency": "EUR",
        "updated_at": AT,
    },
    "accounts": {
        "account_id": "acc_1",
        "email": "ada@example.com",
        "plan_id": "basic",
        "status": "active",
        "country": "FR",
        "locale": "fr-FR",
        "next_bill_date": "2026-04-01",
        "billing_day": 1,
        "updated_at": AT,
    },
    "incidents": {
        "id": "inc_1",
        "title": "Outage",
        "starts_at": AT,
        "ends_at": LATER,
        "regions": "[]",
        "devices": "[]",
        "created_at": AT,
        "created_by": "ops@example.com",
    },
    "incident_detections": {
        "incident_id": "inc_1",
        "bucket": "5m",
        "bucket_seconds": 300,
        "by_columns": "[]",
        "rule": "{}",
        "window": "{}",
        "window_start": AT,
        "window_end": LATER,
        "series": "[]",
        "created_at": AT,
    },
    "campaigns": {
        "id": "cmp_1",
        "incident_id": "inc_1",
        "state": "launched",
        "mode": "claim",
        "policy": "{}",
        "claim_days": 7,
        "events_source": "logs.csv",
        "affected_count": 1,
        "created_at": AT,
        "created_by": "ops@example.com",
        "launched_at": AT,
        "launched_by": "ops@example.com",
    },
    "campaign_builds": {
        "campaign_id": "cmp_1",
        "request": '{"min_failures": 2}',
        "state": "done",
        "decided": 1,
        "attempts": 1,
        "created_at": AT,
    },
    "cohort_members": {
        "campaign_id": "cmp_1",
        "account_id": "acc_1",
        "failed_attempts": 3,
        "first_failure_at": AT,
        "last_failure_at": AT,
        "plan_id": "basic",
        "currency": "EUR",
        "amount_minor": 266,
    },
    "offers": {
        "id": "off_1",
        "campaign_id": "cmp_1",
        "incident_id": "inc_1",
        "account_id": "acc_1",
        "state": "claimed",
        "amount_minor": 266,
        "currency": "EUR",
        "plan_id": "basic",
        "created_at": AT,
        "expires_at": LATER,
        "credited_at": AT,
        "credited_via": "claim",
    },
    # Revoked: 0004_launch moves an offer's live link onto the offer and deletes its row.
    "claim_tokens": {
        "token_hash": "a" * 64,
        "offer_id": "off_1",
        "created_at": AT,
        "revoked_at": AT,
    },
    "credits": {
        "id": "crd_1",
        "offer_id": "off_1",
        "account_id": "acc_1",
        "campaign_id": "cmp_1",
        "amount_minor": 266,
        "currency": "EUR",
        "granted_at": AT,
    },
    "credit_states": {
        "credit_id": "crd_1",
        "state": "held",
        "reason": "account paused",
        "updated_at": AT,
    },
    "connector_postings": {
        "id": "pst_1",
        "credit_id": "crd_1",
        "connector": "webhook",
        "purpose": "credit",
        "account_id": "acc_1",
        "amount_minor": 266,
        "currency": "EUR",
        "idempotency_key": "crd_1:credit",
        "state": "acked",
        "created_at": AT,
        "updated_at": AT,
    },
    "campaign_reversals": {
        "id": "rev_1",
        "campaign_id": "cmp_1",
        "reason": "wrong window",
        "actor": "ops@example.com",
        "created_at": AT,
        "summary": "{}",
    },
    # E-mail: 0004_launch moves in-app messages onto their offer and deletes their rows.
    "messages": {
        "id": "msg_1",
        "offer_id": "off_1",
        "account_id": "acc_1",
        "channel": "email",
        "template": "offer",
        "state": "sent",
        "attempts": 1,
        "next_attempt_at": AT,
        "created_at": AT,
        "sent_at": AT,
    },
    "message_events": {
        "id": 1,
        "message_id": "msg_1",
        "kind": "accepted",
        "source": "smtp",
        "at": AT,
    },
    "suppressions": {
        "address_hash": "b" * 64,
        "reason": "bounced",
        "created_at": AT,
        "message_id": "msg_1",
    },
    "statements": {
        "id": "stm_1",
        "account_id": "acc_1",
        "statement_date": "2026-04-01",
        "currency": "EUR",
        "total_minor": 533,
        "created_at": AT,
    },
    "statement_lines": {
        "statement_id": "stm_1",
        "position": 1,
        "kind": "credit",
        "amount_minor": -266,
        "description": "Outage credit",
        "credit_id": "crd_1",
        "campaign_id": "cmp_1",
    },
    "ledger_entries": {
        "id": 1,
        "account_id": "acc_1",
        "currency": "EUR",
        "kind": "granted",
        "amount_minor": 266,
        "credit_id": "crd_1",
        "statement_id": "stm_1",
        "dedupe_key": "crd_1:granted",
        "created_at": AT,
        "actor": "ops@example.com",
    },
    "users": {
        "id": "usr_1",
        "email": "admin@example.com",
        "password_hash": "$argon2id$not-a-real-hash",
        "role": "admin",
        "grant_limits": "{}",
        "created_at": AT,
    },
    "web_sessions": {
        "id_hash": "c" * 64,
        "user_id": "usr_1",
        "csrf_secret": "d" * 64,
        "created_at": AT,
        "expires_at": LATER,
    },
    "api_keys": {
        "id": "key_1",
        "name": "billing",
        "key_hash": "e" * 64,
        "scopes": "[]",
        "created_at": AT,
        "owner_user_id": "usr_1",
    },
    "credit_status_requests": {
        "id": "csr_1",
        "email": "ada@example.com",
        "requested_at": AT,
    },
    "appeal_links": {
        "token_hash": "f" * 64,
        "account_id": "acc_1",
        "incident_id": "inc_1",
        "campaign_id": "cmp_1",
        "created_at": AT,
        "expires_at": LATER,
    },
    "appeals": {
        "id": "apl_1",
        "account_id": "acc_1",
        "incident_id": "inc_1",
        "campaign_id": "cmp_1",
        "state": "queued",
        "created_at": AT,
    },
    "audit_log": {
        "id": 1,
        "at": AT,
        "actor": "ops@example.com",
        "action": "campaign.launch",
        "subject_type": "campaign",
        "subject_id": "cmp_1",
        "detail": "{}",
    },
}


def fill_every_table(conn: sa.Connection) -> set[str]:
    """One row of ROWS in each makegood table the database has (an error names a table it has
    and ROWS lacks); the names of the tables written."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names()) - {"alembic_version"}
    unknown = present - set(ROWS)
    assert not unknown, f"add a row for {sorted(unknown)} to tests/factories/every_table.py"
    for name, row in ROWS.items():
        if name not in present:
            continue
        columns = {column["name"] for column in inspector.get_columns(name)}
        values = {key: value for key, value in row.items() if key in columns}
        table = sa.table(name, *(sa.column(key) for key in values))
        conn.execute(sa.insert(table).values(values))
    return present


def count_rows(conn: sa.Connection, names: set[str]) -> dict[str, int]:
    """How many rows each named table holds."""
    return {
        name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
        for name in sorted(names)
    }
