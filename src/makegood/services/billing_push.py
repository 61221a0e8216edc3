"""`makegood billing push`: hand every ready credit (and reversal) to the configured connector.

Idempotent and resumable: postings are created and committed before anything is sent, each
answer is committed as soon as it arrives, and a resend always carries the same idempotency key.
Running push again sends only what is not acknowledged; a crash mid-run loses nothing.

Retries within a push follow domain/retry.py: a "not now" answer uses one of the posting's
MAKEGOOD_BILLING_MAX_ATTEMPTS for this push, no answer at all uses none, and after
UNREACHABLE_AFTER unanswered tries in a row the push stops (the rest stays for the next push).
A posting is never given up for good: what a push gives up on stays `pending` (or `failed`
when refused), and the next push tries it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from makegood.billing import inactive, postings
from makegood.billing.connectors import Connector, Outcome
from makegood.bootstrap import Container
from makegood.domain.retry import (
    UNREACHABLE_AFTER,
    Failure,
    Retry,
    RetryPolicy,
    Tries,
    UnreachableStreak,
    decide,
)
from makegood.store.uow import UnitOfWork

Progress = Callable[[int, int], None]  # (postings handled, acknowledged)


@dataclass
class PushSummary:
    connector: str
    created: int = 0
    acked: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # one per failed or skipped posting

    def document(self) -> dict[str, object]:
        return {
            "connector": self.connector,
            "created": self.created,
            "acked": self.acked,
            "failed": self.failed,
            "skipped": self.skipped,
            "requests": self.requests,
            "errors": self.errors,
        }


def push(
    container: Container,
    campaign_id: str | None = None,
    connector: Connector | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PushSummary:
    """Post every ready credit of `campaign_id` (or all) and every pending reversal; commits."""
    connector = connector or container.open_billing_connector()
    settings = container.settings
    summary = PushSummary(connector.name)
    streak = UnreachableStreak()
    with container.uow() as uow:
        inactive.release_reactivated(uow, container.now())
        inactive.settle_inactive(uow, settings.billing_inactive_policy, container.now())
        summary.created = postings.create_credit_postings(
            uow.conn, connector.name, campaign_id, container.now()
        )
        uow.commit()
        after = ""
        handled = 0
        stopped = False
        while not stopped and (
            page := postings.resendable_page(uow.conn, connector.name, campaign_id, after)
        ):
            for posting in page:
                outcome = _send_with_retries(
                    uow, connector, posting, container, sleep, summary, streak
                )
                _record(uow, posting, outcome, container, summary)
                uow.commit()
                handled += 1
                if progress is not None:
                    progress(handled, summary.acked)
                stopped = streak.down
                if stopped:
                    summary.errors.append(
                        f"push stopped: the billing system did not answer {UNREACHABLE_AFTER} "
                        "tries in a row; what was not sent stays for the next push"
                    )
                    break
            after = page[-1].id
        uow.audit.record(
            container.now(),
            "cli",
            "billing.pushed",
            "connector",
            connector.name,
            {k: v for k, v in summary.document().items() if k != "errors"},
        )
        uow.commit()
    return summary


def billing_retry_policy(container: Container) -> RetryPolicy:
    """The retry limits of one posting within one push (no maximum age: see the module)."""
    settings = container.settings
    return RetryPolicy(
        settings.billing_max_attempts,
        settings.billing_retry_seconds,
        settings.billing_retry_cap_seconds,
    )


def _send_with_retries(
    uow: UnitOfWork,
    connector: Connector,
    posting: postings.Posting,
    container: Container,
    sleep: Callable[[float], None],
    summary: PushSummary,
    streak: UnreachableStreak,
) -> Outcome:
    """Send until acknowledged, refused, skipped, or retry says stop; the last outcome."""
    policy = billing_retry_policy(container)
    requests = posting.attempts  # every request ever made for the posting
    tries = Tries(attempts=0)  # this push's tries of it, by kind
    while True:
        outcome = connector.send(posting)
        if outcome.state == "skipped":
            return outcome
        requests += 1
        summary.requests += 1
        now = container.now()
        postings.mark(uow.conn, posting.id, now, attempts=requests, last_error=outcome.error)
        failure = outcome.failure
        if streak.note(failure) or failure is None:
            return outcome  # committed with its outcome by the caller: one commit per posting
        decision = decide(failure, outcome.error or "", tries, policy, now, container.rng)
        if not isinstance(decision, Retry):
            return outcome
        uow.commit()  # the failed attempt is durable before the next one
        sleep((decision.at - now).total_seconds())
        unreached = failure is Failure.UNREACHED
        tries = Tries(tries.attempts + (not unreached), tries.unreached + unreached)


def _record(
    uow: UnitOfWork,
    posting: postings.Posting,
    outcome: Outcome,
    container: Container,
    summary: PushSummary,
) -> None:
    now = container.now()
    if outcome.state == "acked":
        postings.acknowledge(
            uow.conn, posting, outcome.external_id, now, f"connector:{posting.connector}"
        )
        summary.acked += 1
        return
    state = {"skipped": "skipped", "failed": "failed"}.get(outcome.state, "pending")
    postings.mark(uow.conn, posting.id, now, state=state, last_error=outcome.error)
    if outcome.state == "skipped":
        summary.skipped += 1
    else:
        summary.failed += 1
    summary.errors.append(f"{posting.idempotency_key}: {outcome.error}")
