"""Pure billing rules: charge-backs on drafts, dedupe keys, webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime

from makegood.billing.webhook_connector import sign, verify
from makegood.domain.statements import ChargeBack, PlanCharge, add_charge_backs, draft_statements
from makegood.store.ledger import Entry

BASIC = PlanCharge("basic", "Basic", 799, "USD")


def charge_back(at: datetime, currency: str = "USD") -> ChargeBack:
    return ChargeBack("crd_1", "cmp_1", currency, 24, at, "Evening outage")


def test_a_charge_back_lands_on_the_first_statement_after_the_reversal_in_its_currency() -> None:
    drafts = draft_statements(BASIC, 1, [date(2026, 4, 1), date(2026, 5, 1)], [])
    reversed_at = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # at midnight: too late for April 1

    april, may = add_charge_backs(drafts, [charge_back(reversed_at)])

    assert [(line.kind, line.amount_minor) for line in april.lines] == [("charge", 799)]
    assert [(line.kind, line.amount_minor, line.credit_id) for line in may.lines] == [
        ("charge", 799, None),
        ("charge", 24, "crd_1"),
    ]
    assert may.total_minor == 823
    assert may.lines[1].description == "Reversal of make-good credit: Evening outage"


def test_a_charge_back_in_another_currency_or_too_late_waits() -> None:
    drafts = draft_statements(BASIC, 1, [date(2026, 4, 1)], [])
    late = datetime(2026, 4, 2, tzinfo=UTC)
    early = datetime(2026, 3, 2, tzinfo=UTC)
    assert add_charge_backs(drafts, [charge_back(late), charge_back(early, "EUR")]) == drafts


def test_dedupe_keys_make_each_application_once_per_statement_or_posting() -> None:
    assert Entry("granted", "c", "a", "USD", 5).dedupe_key == "granted:c"
    assert Entry("applied", "c", "a", "USD", -5, statement_id="s").dedupe_key == "applied:c:s"
    assert Entry("posted", "c", "a", "USD", -5, posting_id="p").dedupe_key == "posted:c"
    assert Entry("clawback", "c", "a", "USD", -5, posting_id="p").dedupe_key == "clawback:c:p"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"amount":"-0.24"}'
    header = sign("secret", 1_700_000_000, body)
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("secret", header, body, now=1_700_000_100)
    assert not verify("secret", header, body + b" ", now=1_700_000_100)
    assert not verify("other", header, body, now=1_700_000_100)
    assert not verify("secret", header, body, now=1_700_001_000)  # stale
    assert not verify("secret", "garbage", body, now=1_700_000_000)
