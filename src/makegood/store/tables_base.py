"""The schema's one metadata, with the naming convention its constraints and indexes are named
by (SQLite's batch migrations need named constraints), and the id types the tables share.

Every table module (tables.py, tables_*.py) declares its tables on this metadata;
all_tables.py imports them all, for the migrations and their checks.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(40)
ACCOUNT_ID = sa.String(64)
