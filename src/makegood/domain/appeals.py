"""Appeals (pure): the states, who may move them where, the appeal window, the note.

A subscriber the snapshot did not find affected may appeal once per incident while the
campaign's appeal window is open (`appeal_days` from launch, default 30). An appeal is
`queued`; processing re-reads the logs for that account and moves it to `offered` (failures
found and otherwise eligible: an offer like the launch's) or `needs_review`; an agent then
moves a `needs_review` appeal to `granted` or `declined` (with a reason).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from makegood.domain import errors

DEFAULT_APPEAL_DAYS = 30
MAX_APPEAL_DAYS = 365
MAX_NOTE_LENGTH = 200
MAX_REASON_LENGTH = 500
# Controls and line/paragraph separators become spaces: the note is shown on one line.
_NOT_PLAIN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class AppealState(StrEnum):
    QUEUED = "queued"  # filed; waiting for the logs to be read again
    OFFERED = "offered"  # the logs showed failures: an offer was issued (or granted)
    NEEDS_REVIEW = "needs_review"  # the logs did not: waiting for an agent
    GRANTED = "granted"  # an agent granted a credit
    DECLINED = "declined"  # an agent declined, with a reason


# Each state, and the states it may move to.
TRANSITIONS: dict[AppealState, tuple[AppealState, ...]] = {
    AppealState.QUEUED: (AppealState.OFFERED, AppealState.NEEDS_REVIEW),
    AppealState.NEEDS_REVIEW: (AppealState.GRANTED, AppealState.DECLINED),
    AppealState.OFFERED: (),
    AppealState.GRANTED: (),
    AppealState.DECLINED: (),
}


def check_transition(current: str, wanted: AppealState) -> None:
    """InvalidState unless an appeal in `current` may move to `wanted`."""
    allowed = TRANSITIONS.get(AppealState(current), ())
    if wanted not in allowed:
        raise errors.InvalidState(
            f"the appeal is {current}; only "
            + " or ".join(s for s, nexts in TRANSITIONS.items() if wanted in nexts)
            + f" appeals can become {wanted}"
        )


def appeal_window_ends(launched_at: datetime, appeal_days: int) -> datetime:
    """The instant the campaign's appeal window closes: `appeal_days` after launch."""
    return launched_at + timedelta(days=appeal_days)


def check_appeal_days(days: int) -> int:
    """`days` when it is a usable appeal window, else InvalidInput naming the field."""
    if not 1 <= days <= MAX_APPEAL_DAYS:
        raise errors.InvalidInput(f"appeal_days must be from 1 to {MAX_APPEAL_DAYS} days")
    return days


def check_window_open(expires_at: datetime, now: datetime) -> None:
    """AppealWindowClosed when the link's window has closed at `now`."""
    if now >= expires_at:
        raise errors.AppealWindowClosed("the appeal window for this outage has closed")


def clean_note(text: str | None) -> str | None:
    """The subscriber's note as one line of plain text, at most MAX_NOTE_LENGTH characters
    (control characters and line breaks become spaces); None when nothing is left."""
    if text is None:
        return None
    note = " ".join(_NOT_PLAIN.sub(" ", text).split())[:MAX_NOTE_LENGTH]
    return note or None


def clean_reason(text: str) -> str:
    """An agent's reason for a decision: required, one line, bounded."""
    reason = " ".join(_NOT_PLAIN.sub(" ", text).split())
    if not reason:
        raise errors.InvalidInput("reason: say why (the subscriber reads it)")
    if len(reason) > MAX_REASON_LENGTH:
        raise errors.InvalidInput(f"reason: at most {MAX_REASON_LENGTH} characters")
    return reason
