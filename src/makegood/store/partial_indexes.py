"""The partial indexes (an entry only for the rows their WHERE selects, on SQLite and
PostgreSQL alike), added to `tables.offers` and `tables.messages` when imported.

No query names an index, so only the schema's users need these: `all_tables.py` imports this
module for the migrations and their checks. Declared in `tables.py`, their `postgresql_where`
would make SQLAlchemy load its PostgreSQL dialect (to check the option) in every command, on
SQLite too: about 0.03 s of a no-work command's start-up (issue 13, item 4;
`tests/integration/test_cli_startup_imports.py`).
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables import EMAIL_PENDING, NOT_LAUNCH_EMAIL, messages, offers

# The launch e-mails not taken yet, oldest first (offer ids sort by time): one entry per offer
# at launch, gone once its e-mail is taken (migration 0009).
offers_email_pending = sa.Index(
    "ix_offers_email_pending",
    offers.c.id,
    postgresql_where=sa.text(EMAIL_PENDING),
    sqlite_where=sa.text(EMAIL_PENDING),
)

# An offer's messages but its launch e-mail, which its id finds (`msg_` + the offer id's body;
# store/outbox.py `of_offer`): a launch adds no entry here (migration 0008).
messages_offer_id = sa.Index(
    None,
    messages.c.offer_id,
    postgresql_where=sa.text(NOT_LAUNCH_EMAIL),
    sqlite_where=sa.text(NOT_LAUNCH_EMAIL),
)

# Only messages of no offer (status e-mails) are found by account here; an offer's are found
# through the offer (store/outbox.py `account_messages`): a launch's e-mails add no entry to
# this index (migration 0008).
messages_account_id = sa.Index(
    None,
    messages.c.account_id,
    postgresql_where=sa.text("offer_id IS NULL"),
    sqlite_where=sa.text("offer_id IS NULL"),
)
