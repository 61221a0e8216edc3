"""Request and response bodies of /api/v1 (XCreate in, XPublic out); the OpenAPI document is
generated from these, so it matches the code by construction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorPublic(BaseModel):
    error: str = Field(description="Machine-readable kind, e.g. not_found, invalid_state.")
    detail: str = Field(description="What went wrong and what to do.")


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    starts_at: datetime = Field(description="ISO 8601; without an offset it is taken as UTC.")
    ends_at: datetime
    regions: list[str] = Field(default_factory=list, max_length=100)
    devices: list[str] = Field(default_factory=list, max_length=100)


class IncidentPublic(BaseModel):
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    regions: list[str]
    devices: list[str]
    created_at: datetime
    created_by: str


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: str = Field(min_length=1, max_length=64)
    events: str = Field(
        min_length=1,
        max_length=1000,
        description="Playback attempt logs readable by the server: a file, directory or glob.",
    )
    percent: str | None = Field(
        default=None, max_length=20, description="Percent of the plan price (default 3)."
    )
    fixed: dict[str, str] | None = Field(
        default=None, description='Fixed amount per currency in major units: {"USD": "5"}.'
    )
    policy: dict[str, Any] | None = Field(
        default=None,
        description="A policy document (docs/policies.md) as JSON; instead of percent/fixed.",
    )
    claim_days: int = Field(default=7, ge=1, le=365)
    plans: list[str] | None = Field(default=None, max_length=1000)
    mode: Literal["claim", "auto"] = "claim"
    pay_within_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Every credit claimed or granted must be applied (on a statement, or "
        "acknowledged by the billing connector) within this many days; null: no deadline.",
    )
    appeal_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Days from launch during which a subscriber the snapshot did not find "
        "affected may appeal through the status e-mail's link.",
    )


class LaunchProgress(BaseModel):
    issued: int = Field(description="Offers issued so far (committed).")
    total: int = Field(description="Eligible accounts the launch offers.")


class CampaignBuildPublic(BaseModel):
    """How a campaign submitted through the API or console is being built by a worker."""

    state: Literal["pending", "running", "done", "failed"]
    phase: str | None = Field(description="What the build is doing now, while it runs.")
    decided: int = Field(description="Snapshot rows (affected accounts) written so far.")
    attempts: int = Field(description="Times a worker took it up (more after a restart).")
    reason: str | None = Field(description="Why it failed, when it did.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class CampaignPublic(BaseModel):
    id: str
    incident_id: str
    state: str = Field(
        description="building (a worker computes its snapshot), failed (see build.reason), "
        "draft, approved, launching (offers are being issued, see launch_progress) or launched."
    )
    mode: str
    policy: dict[str, Any]
    claim_days: int
    pay_within_days: int | None
    appeal_days: int = Field(description="Days from launch during which appeals are taken.")
    eligible_plans: list[str] | None
    affected_count: int
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    launched_at: datetime | None
    build: CampaignBuildPublic | None = Field(
        default=None, description="Its build job; null for a campaign built by the CLI."
    )
    launch_progress: LaunchProgress | None = Field(
        default=None, description="Once a launch started: offers issued so far of how many."
    )


class TierPublic(BaseModel):
    at_least: int
    eligible: int
    liability: dict[str, str]


class PreviewPublic(BaseModel):
    campaign: str
    incident: str
    state: str
    mode: str
    policy: dict[str, Any]
    claim_days: int
    appeal_days: int = 30
    plans: list[str] | None
    affected: int
    eligible: int
    excluded: dict[str, int] = Field(description="Reason -> number of accounts.")
    liability: dict[str, str] = Field(description="Currency -> amount in major units.")
    tiers: list[TierPublic] = Field(description="The policy's tiers, in its order.")
    amounts: dict[str, dict[str, int]] = Field(
        description="Currency -> amount in major units -> eligible accounts."
    )
    launch_progress: LaunchProgress | None = None


class LaunchPublic(BaseModel):
    campaign_id: str
    offers: int
    already_launched: bool
    expires_at: datetime | None


class ReportPublic(BaseModel):
    campaign: str
    incident: str
    state: str
    mode: str
    launched_at: str | None
    affected: int
    eligible: int
    excluded: dict[str, int]
    offered: int
    notified: int
    claimed: int
    granted_automatically: int
    applied: int
    claim_rate: float
    liability: dict[str, str]
    claimed_amount: dict[str, str]
    applied_amount: dict[str, str]
    messages: dict[str, int]
    pay_within_days: int | None
    applied_on_time: int | None = Field(
        description="Credits applied within pay_within_days of their claim or grant (null "
        "without a deadline); likewise applied_late and unapplied_overdue."
    )
    applied_late: int | None
    unapplied_overdue: int | None


class OfferPublic(BaseModel):
    id: str
    campaign_id: str
    incident_id: str
    account_id: str
    state: str
    amount_minor: int
    currency: str
    amount: str = Field(description="Major units, e.g. 0.24.")
    created_at: datetime
    expires_at: datetime
    credited_at: datetime | None
    credited_via: str | None


class AccountPublic(BaseModel):
    account_id: str
    email: str
    plan_id: str
    plan_name: str
    currency: str
    status: str
    country: str
    locale: str
    next_bill_date: date


CreditStatusName = Literal[
    "not_affected", "excluded", "offered", "claimed", "granted", "applied", "expired", "revoked"
]


class IncidentCreditPublic(BaseModel):
    incident_id: str
    title: str
    status: CreditStatusName = Field(
        description="not_affected (no failed attempt in the window), excluded (affected, not "
        "eligible: see reason), offered (open, unexpired), claimed / granted (credited, not yet "
        "applied), applied (on a statement or acknowledged by the billing connector), expired, "
        "revoked."
    )
    reason: str | None = Field(
        description="The exclusion reason (e.g. not_active, plan_not_eligible; not_offered_yet "
        "while the campaign has not offered anything yet), else null."
    )
    amount: str | None = Field(description='Decimal string in major units ("0.24"), or null.')
    currency: str | None
    failed_attempts: int | None
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    impact_minutes: int | None = Field(description="Null when not affected.")
    statement_date: date | None = Field(
        description="The statement the credit landed on (applied) or lands on (claimed, "
        "granted); null otherwise, and when only the billing connector posted it."
    )


class AccountCreditsPublic(BaseModel):
    account_id: str
    incidents: list[IncidentCreditPublic] = Field(
        description="One entry per incident that ended in the last 90 days, newest first."
    )


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any]


class MessageAction(BaseModel):
    name: Literal["claim", "dismiss"]
    method: Literal["POST"] = "POST"
    href: str
    label: str


class MessagePublic(BaseModel):
    id: str
    offer_id: str
    kind: Literal["claim", "credit"]
    state: str
    created_at: datetime
    language: str
    title: str
    body: str
    amount: str = Field(description="Formatted for the account's locale.")
    amount_minor: int
    currency: str
    expires_at: datetime
    actions: list[MessageAction]


class ClaimPublic(BaseModel):
    offer_id: str
    credit_id: str
    amount_minor: int
    currency: str
    amount: str
    granted_at: datetime
    statement_date: date
