"""Stripe: one customer balance transaction per credit, through the official `stripe` library.

A credit becomes a negative balance transaction in the account's currency (lower-case, minor
units), which Stripe applies to the customer's next invoice; a reversal is the positive one.
The idempotency key is the posting's (`makegood-{campaign}-{account}`), so a retry or a resume
after a crash returns Stripe's first answer instead of crediting twice. The library's own
retries are off: push retries with backoff, counts attempts and keeps the last error.
"""

from __future__ import annotations

from typing import Any

import stripe
from limits.storage import MemoryStorage

from makegood.billing.connectors import Outcome
from makegood.domain.errors import InvalidInput
from makegood.rate_limits import Pacer
from makegood.settings import Settings
from makegood.store.postings import Posting

DESCRIPTION_MAX = 350  # Stripe's limit for balance transaction descriptions


class StripeConnector:
    name = "stripe"

    def __init__(self, settings: Settings, pacer: Pacer | None = None) -> None:
        if not settings.stripe_api_key:
            raise InvalidInput(
                "MAKEGOOD_STRIPE_API_KEY is not set: the stripe connector needs a secret key"
            )
        self.client = stripe.StripeClient(
            settings.stripe_api_key,
            base_addresses={"api": settings.stripe_api_base.rstrip("/")},
            max_network_retries=0,
        )
        # Stripe's limit is per account: with a shared rate-limit store, every process that
        # pushes postings shares this one rate.
        self.pacer = pacer or Pacer(MemoryStorage(), "stripe", settings.stripe_rate_per_second)

    def send(self, posting: Posting) -> Outcome:
        if not posting.stripe_customer_id:
            return Outcome(
                "skipped",
                error=f"account {posting.account_id} has no stripe_customer_id: import it "
                "in the accounts file, then run `makegood billing push` again",
            )
        self.pacer.acquire()
        try:
            txn = self.client.v1.customers.balance_transactions.create(
                posting.stripe_customer_id,
                params=request_params(posting),
                options={"idempotency_key": posting.idempotency_key},
            )
        except stripe.APIConnectionError as exc:  # no answer (network, timeout)
            return Outcome("unreached", error=_describe(exc))
        except stripe.RateLimitError as exc:
            return Outcome("retry", error=_describe(exc))
        except stripe.StripeError as exc:
            status = exc.http_status or 0
            state = "retry" if status >= 500 or status in (409, 429) else "failed"
            return Outcome(state, error=_describe(exc))
        return Outcome("acked", external_id=str(txn.id))


def request_params(posting: Posting) -> Any:
    """The form fields of POST /v1/customers/{id}/balance_transactions for `posting`."""
    head = "Make-good credit" if posting.purpose == "credit" else "Reversal of make-good credit"
    description = f"{head}: {posting.label}"
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 1] + "…"
    return {
        "amount": posting.amount_minor,
        "currency": posting.currency.lower(),
        "description": description,
        "metadata": {
            "makegood_credit_id": posting.credit_id,
            "makegood_campaign_id": posting.campaign_id,
            "makegood_account_id": posting.account_id,
            "makegood_purpose": posting.purpose,
        },
    }


def _describe(exc: stripe.StripeError) -> str:
    status = exc.http_status or "no response"
    return f"stripe {status}: {exc.user_message or exc.__class__.__name__}"
