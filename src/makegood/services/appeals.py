"""Appeals, the subscriber's side: links for the status e-mail, the page, filing once.

A subscriber the snapshot did not find affected gets, in their status e-mail, an appeal link
per incident whose campaign's appeal window is open (`appeal_days` from launch). GET shows
the page (`view_appeal`, read only); POST files the appeal (`file_appeal`): at most one per
account per incident, held by UNIQUE (account_id, incident_id) and an INSERT that does
nothing on conflict, so a second POST, or a POST through a second link, shows the appeal
already filed. Processing (services/appeal_processing.py) and the agent's decision
(services/appeal_decisions.py) come after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from makegood.domain import errors
from makegood.domain.appeals import (
    AppealState,
    appeal_window_ends,
    check_window_open,
    clean_note,
)
from makegood.domain.ids import new_id
from makegood.domain.tokens import hash_token, new_tokens_with_hashes
from makegood.store.repository import RowMapping
from makegood.store.uow import UnitOfWork

# Real tokens are 43 characters; anything far longer is not a link we issued.
MAX_TOKEN_LENGTH = 256
APPEALABLE = ("not_affected",)  # the status-e-mail statuses that carry an appeal link


@dataclass(frozen=True, slots=True)
class AppealPage:
    """What the appeal page shows: no e-mail address, no token."""

    locale: str
    incident_title: str
    incident_starts_at: datetime
    incident_ends_at: datetime
    expires_at: datetime
    state: str | None  # the appeal already filed for this account and incident, or None
    filed_at: datetime | None
    closed: bool  # the appeal window has closed (an appeal filed before still shows)


def issue_links(
    uow: UnitOfWork, account_id: str, incident_ids: list[str], now: datetime
) -> dict[str, tuple[str, datetime]]:
    """A fresh appeal link (incident id -> raw token and the instant the window closes) for
    each of these incidents whose
    newest launched campaign's appeal window is still open and that the account has not
    appealed yet; only the hashes are stored."""
    campaigns = uow.campaigns.newest_launched(incident_ids)
    open_windows = {
        incident_id: (c["id"], appeal_window_ends(c["launched_at"], c["appeal_days"]))
        for incident_id, c in campaigns.items()
        if now < appeal_window_ends(c["launched_at"], c["appeal_days"])
        and uow.appeals.appeal_of(account_id, incident_id) is None
    }
    if not open_windows:
        return {}
    pairs = new_tokens_with_hashes(len(open_windows))
    rows: list[dict[str, object]] = []
    tokens: dict[str, tuple[str, datetime]] = {}
    for (incident_id, (campaign_id, ends)), (token, digest) in zip(
        open_windows.items(), pairs, strict=True
    ):
        rows.append(
            {
                "token_hash": digest,
                "account_id": account_id,
                "incident_id": incident_id,
                "campaign_id": campaign_id,
                "created_at": now,
                "expires_at": ends,
            }
        )
        tokens[incident_id] = (token, ends)
    uow.appeals.add_links(rows)
    return tokens


def _link(uow: UnitOfWork, token: str) -> RowMapping:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise errors.AppealLinkInvalid("this link is not valid")
    row = uow.appeals.link(hash_token(token))
    if row is None:
        raise errors.AppealLinkInvalid("this link is not valid")
    return row


def view_appeal(uow: UnitOfWork, token: str, now: datetime) -> AppealPage:
    """Read only: what the link's page shows (`closed` once its window has closed).
    AppealLinkInvalid for an unknown link."""
    link = _link(uow, token)
    existing = uow.appeals.appeal_of(link["account_id"], link["incident_id"])
    return AppealPage(
        locale=link["locale"],
        incident_title=link["incident_title"],
        incident_starts_at=link["incident_starts_at"],
        incident_ends_at=link["incident_ends_at"],
        expires_at=link["expires_at"],
        state=None if existing is None else existing["state"],
        filed_at=None if existing is None else existing["created_at"],
        closed=now >= link["expires_at"],
    )


def file_appeal(uow: UnitOfWork, token: str, note: str | None, now: datetime) -> AppealPage:
    """File the account's appeal for the link's incident once, in the caller's unit of work
    (the caller commits); an appeal already filed (through this link or another) is shown,
    never doubled, and its note is kept.
    AppealLinkInvalid for an unknown link, AppealWindowClosed once its window has closed."""
    link = _link(uow, token)
    account_id, incident_id = link["account_id"], link["incident_id"]
    if uow.appeals.appeal_of(account_id, incident_id) is None:
        check_window_open(link["expires_at"], now)
        appeal_id = new_id("apl")
        filed = uow.appeals.file(
            {
                "id": appeal_id,
                "account_id": account_id,
                "incident_id": incident_id,
                "campaign_id": link["campaign_id"],
                "state": AppealState.QUEUED,
                "note": clean_note(note),
                "created_at": now,
            },
        )
        if filed:
            uow.audit.record(
                now,
                "subscriber:appeal",
                "appeal.filed",
                "appeal",
                appeal_id,
                {
                    "account_id": account_id,
                    "incident_id": incident_id,
                    "campaign_id": link["campaign_id"],
                    "note": note is not None and clean_note(note) is not None,
                },
            )
    return view_appeal(uow, token, now)
