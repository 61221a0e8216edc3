"""Query parameters that page through lists, shared by the API and the console so both refuse
the same values (a cursor beyond BIGINT would reach the database and fail there)."""

# No `from __future__ import annotations`: FastAPI must see the Annotated aliases.

from typing import Annotated

from fastapi import Query

# Audit entry ids are BIGINT; 2**62 leaves room below the type's limit on every database.
MAX_AUDIT_ID = 2**62

AuditBefore = Annotated[
    int | None,
    Query(ge=1, le=MAX_AUDIT_ID, description="An audit entry id: entries older than it."),
]
