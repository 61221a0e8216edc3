"""Where a write's pending launch e-mails lie (store.offers.email_ranges): per campaign, its
lowest to highest offer id whose e-mail is pending, stamped with that campaign's first row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from makegood.store.offers import LAUNCH_COLUMNS, EmailRange, email_ranges

AT = datetime(2026, 3, 22, 9, 0, tzinfo=UTC)


def _row(offer_id: str, campaign_id: str, email: str | None, at: datetime = AT) -> tuple[Any, ...]:
    values: dict[str, Any] = {
        "id": offer_id,
        "campaign_id": campaign_id,
        "created_at": at,
        "email_state": email,
    }
    return tuple(values.get(c) for c in LAUNCH_COLUMNS)


def test_one_range_per_campaign_over_its_pending_emails_only() -> None:
    later = AT + timedelta(seconds=1)
    rows = [
        _row("off_05", "cmp_a", "pending"),
        _row("off_01", "cmp_a", None),  # no e-mail: outside the range
        _row("off_09", "cmp_b", "pending", later),
        _row("off_02", "cmp_a", "pending", later),
        _row("off_07", "cmp_a", "pending"),
        _row("off_03", "cmp_b", "pending"),
    ]
    assert email_ranges(rows) == [
        EmailRange("cmp_a", "off_02", "off_07", AT),
        EmailRange("cmp_b", "off_03", "off_09", later),
    ]


def test_no_pending_email_no_range() -> None:
    assert email_ranges([_row("off_01", "cmp_a", None)]) == []
    assert email_ranges([]) == []
