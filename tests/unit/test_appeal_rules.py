"""Appeal rules (domain/appeals.py): states move one way, the window closes, notes stay plain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from makegood.domain import errors
from makegood.domain.appeals import (
    AppealState,
    appeal_window_ends,
    check_appeal_days,
    check_transition,
    check_window_open,
    clean_note,
    clean_reason,
)

LAUNCH = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("queued", AppealState.OFFERED),
        ("queued", AppealState.NEEDS_REVIEW),
        ("needs_review", AppealState.GRANTED),
        ("needs_review", AppealState.DECLINED),
    ],
)
def test_allowed_moves(current: str, wanted: AppealState) -> None:
    check_transition(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("queued", AppealState.GRANTED),  # an agent decides only after the logs were read
        ("queued", AppealState.DECLINED),
        ("offered", AppealState.DECLINED),
        ("declined", AppealState.GRANTED),
        ("granted", AppealState.DECLINED),
        ("needs_review", AppealState.OFFERED),
    ],
)
def test_refused_moves_say_which_state_is_needed(current: str, wanted: AppealState) -> None:
    with pytest.raises(errors.InvalidState, match=f"the appeal is {current}"):
        check_transition(current, wanted)


def test_the_window_is_appeal_days_from_launch_and_closes_at_its_end() -> None:
    ends = appeal_window_ends(LAUNCH, 30)
    assert ends == LAUNCH + timedelta(days=30)
    check_window_open(ends, ends - timedelta(microseconds=1))
    with pytest.raises(errors.AppealWindowClosed):
        check_window_open(ends, ends)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_appeal_days_out_of_range_are_refused_naming_the_field(days: int) -> None:
    with pytest.raises(errors.InvalidInput, match="appeal_days"):
        check_appeal_days(days)


def test_the_note_is_one_bounded_line_of_plain_text() -> None:
    assert clean_note("around 20:30\r\n on the TV\x00") == "around 20:30 on the TV"
    assert clean_note("   \n ") is None
    assert clean_note(None) is None
    assert len(clean_note("x" * 1000) or "") == 200


def test_a_decision_needs_a_reason() -> None:
    with pytest.raises(errors.InvalidInput, match="reason"):
        clean_reason("  \n")
    assert clean_reason("No failed plays\nin the logs") == "No failed plays in the logs"
