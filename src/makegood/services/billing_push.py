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

from makegood.billing import inactive
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
from makegood.store.postings import Posting
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
    policy = billing_retry_policy(container)
    summary = PushSummary(connector.name)
    streak = UnreachableStreak()
    with container.uow() as uow:
        inactive.release_reactivated(uow, container.now())
        inactive.settle_inactive(uow, settings.billing_inactive_policy, container.now())
        summary.created = uow.postings.create_for_ready_credits(
            connector.name, campaign_id, container.now()
        )
        uow.commit()
        after = ""
        handled = 0
        stopped = False
        while not stopped and (
            page := uow.postings.resendable_page(connector.name, campaign_id, after)
        ):
            for posting in page:
                sending = _Sending(posting.attempts)
                while True:
                    outcome, wait = _send(
                        uow, connector, posting, sending, policy, container, summary, streak
                    )
                    if wait is None:
                        break
                    uow.commit()  # the failed attempt is durable before the next one
                    sleep(wait)
                _record(uow, posting, outcome, container, summary)
                uow.commit()  # one commit per posting: its answer is durable before the next
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


@dataclass
class _Sending:
    """One posting's sending in this push: every request ever made for it, and this push's
    tries of it, by kind."""

    requests: int
    tries: Tries = field(default_factory=lambda: Tries(attempts=0))


def _send(
    uow: UnitOfWork,
    connector: Connector,
    posting: Posting,
    sending: _Sending,
    policy: RetryPolicy,
    container: Container,
    summary: PushSummary,
    streak: UnreachableStreak,
) -> tuple[Outcome, float | None]:
    """Send once and note the attempt on the posting; the outcome, and the seconds to wait
    before sending again (None: acknowledged, refused, skipped, or retry says stop). The
    caller commits the attempt before waiting."""
    outcome = connector.send(posting)
    if outcome.state == "skipped":
        return outcome, None
    sending.requests += 1
    summary.requests += 1
    now = container.now()
    uow.postings.mark(posting.id, now, attempts=sending.requests, last_error=outcome.error)
    failure = outcome.failure
    if streak.note(failure) or failure is None:
        return outcome, None
    decision = decide(failure, outcome.error or "", sending.tries, policy, now, container.rng)
    if not isinstance(decision, Retry):
        return outcome, None
    unreached = failure is Failure.UNREACHED
    sending.tries = Tries(
        sending.tries.attempts + (not unreached), sending.tries.unreached + unreached
    )
    return outcome, (decision.at - now).total_seconds()


def _record(
    uow: UnitOfWork,
    posting: Posting,
    outcome: Outcome,
    container: Container,
    summary: PushSummary,
) -> None:
    now = container.now()
    if outcome.state == "acked":
        uow.postings.acknowledge(
            posting, outcome.external_id, now, f"connector:{posting.connector}"
        )
        summary.acked += 1
        return
    state = {"skipped": "skipped", "failed": "failed"}.get(outcome.state, "pending")
    uow.postings.mark(posting.id, now, state=state, last_error=outcome.error)
    if outcome.state == "skipped":
        summary.skipped += 1
    else:
        summary.failed += 1
    summary.errors.append(f"{posting.idempotency_key}: {outcome.error}")
