"""Every table module, imported so that `metadata` knows the whole schema (migrations, checks).

Each area keeps its tables in its own module on the shared `metadata`; add one import line here.
"""

from makegood.store import tables
from makegood.store.tables import metadata

__all__ = ["metadata", "tables"]
