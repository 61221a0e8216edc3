"""The indexes declared with a dialect's options, added to `tables.offers` and
`tables.messages` when imported: the partial ones (an entry only for the rows their WHERE
selects, on SQLite and PostgreSQL alike) and the hash index of the offers' claim links.

No query names an index, so only the schema's users need these: `all_tables.py` imports this
module for the migrations and their checks. Declared in `tables.py`, their `postgresql_where`
or `postgresql_using` would make SQLAlchemy load its PostgreSQL dialect (to check the option)
in every command, on SQLite too: about 0.03 s of a no-work command's start-up (issue 13, item
4; `tests/integration/test_cli_startup_imports.py`).
"""

from __future__ import annotations

import sqlalchemy as sa

from makegood.store.tables import NOT_LAUNCH_EMAIL, messages, offers

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

# The claim link of each offer's launch e-mail, found by equality only (a claim, a link's
# page): on PostgreSQL a hash index, whose entry holds a 4-byte hash code where a B-tree's held
# the 64 characters at a random place of the tree (and none in automatic mode, whose offers
# have no link). It was a UNIQUE B-tree, a fifth of the server's work in a launch; a link is 32
# random bytes, so two offers never share one (migration 0011). SQLite gets an ordinary index.
offers_token_hash = sa.Index("ix_offers_token_hash", offers.c.token_hash, postgresql_using="hash")
