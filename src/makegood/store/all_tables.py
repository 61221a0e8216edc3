"""Every table module, imported so that `metadata` knows the whole schema (migrations, checks).

Each area keeps its tables in its own module on the shared `metadata`; add one import line here.
"""

from makegood.store import (
    partial_indexes,  # noqa: F401 - on messages
    tables,
    tables_appeals,  # noqa: F401 - appeal links and appeals
    tables_billing,  # noqa: F401 - ledger, postings, reversals
    tables_notify,  # noqa: F401 - delivery events, suppressions
    tables_web,  # noqa: F401 - console users, sessions, API keys
)
from makegood.store.tables_base import metadata

__all__ = ["metadata", "tables"]
