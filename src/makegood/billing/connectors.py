"""What a connector answers for one posting (pure parts; pacing is makegood.rate_limits.Pacer,
retry or dead is makegood.domain.retry).

A connector sends one posting and reports an Outcome; it never touches the database. `retry`
means the billing system answered "not now" (rate limited, conflict, server error); `unreached`
that no answer came (network error, timeout); both are tried again with the same idempotency
key, as domain/retry.py decides. `failed` is a refusal that retrying cannot fix (bad customer
id, validation); `skipped` means the posting cannot be sent yet (no Stripe customer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from makegood.domain.retry import Failure
from makegood.store.postings import Posting

CONNECTORS = ("statement", "stripe", "webhook", "export")


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # acked | retry | unreached | failed | skipped
    external_id: str | None = None
    error: str | None = None

    @property
    def failure(self) -> Failure | None:
        """The kind of failure for the retry rule; None when it was no failed try."""
        return _FAILURES.get(self.state)


_FAILURES = {
    "retry": Failure.TRANSIENT,
    "unreached": Failure.UNREACHED,
    "failed": Failure.PERMANENT,
}


class Connector(Protocol):
    name: str

    def send(self, posting: Posting) -> Outcome: ...
