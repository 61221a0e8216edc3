"""REST API /api/v1 for operators' tools: incidents, campaigns, offers, accounts, audit.

A separate FastAPI application mounted at /api/v1, so its OpenAPI document
(/api/v1/openapi.json) describes the API only. Route bodies only parse, call a service and
shape the answer; errors are mapped in api_errors.
"""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput, NotFound
from makegood.domain.money import format_major
from makegood.domain.policy_document import to_document
from makegood.services import console_queries as q
from makegood.services.build_jobs import build_status
from makegood.services.campaigns import get_campaign, launch_progress, preview
from makegood.services.console_campaigns import (
    approve_as,
    create_command,
    create_for_remote,
    policy_from_request,
)
from makegood.services.incidents import create_incident
from makegood.services.launch import launch_campaign
from makegood.services.reports import campaign_report
from makegood.services.users import ApiKey
from makegood.store import credit_status
from makegood.web import api_schemas as s
from makegood.web.api_errors import install_api_errors
from makegood.web.api_messages import add_message_routes
from makegood.web.auth import Auth, AuthenticateFirst, api_actor
from makegood.web.paging import AuditBefore

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": s.ErrorPublic} for code in (401, 403, 404, 409, 422)
}


def _utc(value: datetime, name: str) -> datetime:
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{name}: {value!r} is out of range") from None


def offer_public(row: dict[str, Any]) -> s.OfferPublic:
    return s.OfferPublic(
        id=row["id"],
        campaign_id=row["campaign_id"],
        incident_id=row["incident_id"],
        account_id=row["account_id"],
        state=row["state"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        amount=format_major(row["amount_minor"], row["currency"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        credited_at=row["credited_at"],
        credited_via=row["credited_via"],
    )


def incident_credit_public(entry: credit_status.IncidentCredit) -> s.IncidentCreditPublic:
    amount = None
    if entry.amount_minor is not None and entry.currency is not None:
        amount = format_major(entry.amount_minor, entry.currency)
    return s.IncidentCreditPublic(
        incident_id=entry.incident_id,
        title=entry.title,
        status=entry.status,  # type: ignore[arg-type]
        reason=entry.reason,
        amount=amount,
        currency=entry.currency,
        failed_attempts=entry.failed_attempts,
        first_failure_at=entry.first_failure_at,
        last_failure_at=entry.last_failure_at,
        impact_minutes=entry.impact_minutes if entry.status != "not_affected" else None,
        statement_date=entry.statement_date,
    )


def create_api(container: Container) -> FastAPI:
    """The API application (mount it at /api/v1)."""
    auth = Auth(container)
    api = FastAPI(
        title=f"{container.settings.service_name} make-good API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        responses=ERRORS,
    )
    install_api_errors(api)
    api.add_middleware(AuthenticateFirst, auth=auth, kind="api")
    _incident_routes(api, container, auth)
    _campaign_routes(api, container, auth)
    _lookup_routes(api, container, auth)
    add_message_routes(api, container, auth)
    return api


Limit = Annotated[int, Query(ge=1, le=500)]


def _incident_routes(api: FastAPI, container: Container, auth: Auth) -> None:
    IncRead = Annotated[ApiKey, Depends(auth.scope("incidents:read"))]  # noqa: N806
    IncWrite = Annotated[ApiKey, Depends(auth.scope("incidents:write"))]  # noqa: N806

    @api.get("/incidents", response_model=list[s.IncidentPublic])
    def list_incidents(_: IncRead, limit: Limit = 100) -> Any:
        with container.uow() as uow:
            return q.list_incidents(uow, limit)

    @api.get("/incidents/{incident_id}", response_model=s.IncidentPublic)
    def incident(incident_id: str, _: IncRead) -> Any:
        with container.uow() as uow:
            return q.get_incident_row(uow, incident_id)

    @api.post("/incidents", response_model=s.IncidentPublic, status_code=201)
    def new_incident(body: s.IncidentCreate, k: IncWrite) -> Any:
        with container.uow() as uow:
            incident_id = create_incident(
                uow,
                body.title,
                _utc(body.starts_at, "starts_at"),
                _utc(body.ends_at, "ends_at"),
                body.regions,
                body.devices,
                container.now(),
                actor=api_actor(k),
            )
            uow.commit()
        return incident(incident_id, k)


def _campaign_routes(api: FastAPI, container: Container, auth: Auth) -> None:
    CmpRead = Annotated[ApiKey, Depends(auth.scope("campaigns:read"))]  # noqa: N806
    CmpWrite = Annotated[ApiKey, Depends(auth.scope("campaigns:write"))]  # noqa: N806

    def campaign_public(campaign_id: str) -> s.CampaignPublic:
        with container.uow() as uow:
            c = get_campaign(uow, campaign_id)
            build = build_status(uow, campaign_id)
        progress = launch_progress(c)
        return s.CampaignPublic(
            id=c.id,
            incident_id=c.incident_id,
            state=c.state,
            mode=c.mode,
            policy=to_document(c.policy),
            claim_days=c.claim_days,
            pay_within_days=c.pay_within_days,
            appeal_days=c.appeal_days,
            eligible_plans=c.eligible_plans,
            affected_count=c.affected_count,
            created_at=c.created_at,
            created_by=c.created_by,
            approved_at=c.approved_at,
            launched_at=c.launched_at,
            build=s.CampaignBuildPublic(**build) if build else None,
            launch_progress=s.LaunchProgress(**progress) if progress else None,
        )

    @api.get("/campaigns", response_model=list[s.CampaignPublic])
    def campaigns(_: CmpRead, incident_id: str | None = None, limit: Limit = 100) -> Any:
        with container.uow() as uow:
            ids = [r["id"] for r in q.list_campaigns(uow, incident_id, limit)]
        return [campaign_public(i) for i in ids]

    @api.post("/campaigns", response_model=s.CampaignPublic, status_code=202)
    def new_campaign(body: s.CampaignCreate, k: CmpWrite) -> Any:
        """Submit a draft built from the incident's cohort in `events` (read by the server's
        workers) and a policy. Answers at once with the campaign in state `building`; a worker
        builds it (`GET /campaigns/{id}` shows `build.phase` and `build.decided`), then it
        reads `draft`, or `failed` with `build.reason`."""
        cmd = create_command(
            body.incident_id,
            body.events,
            policy_from_request(body.percent, body.fixed, body.policy),
            body.claim_days,
            body.plans,
            body.mode,
            api_actor(k),
            body.pay_within_days,
            body.appeal_days,
        )
        return campaign_public(create_for_remote(container, cmd))

    @api.get("/campaigns/{campaign_id}", response_model=s.CampaignPublic)
    def campaign(campaign_id: str, _: CmpRead) -> Any:
        return campaign_public(campaign_id)

    @api.get("/campaigns/{campaign_id}/preview", response_model=s.PreviewPublic)
    def campaign_preview(campaign_id: str, _: CmpRead) -> Any:
        with container.uow() as uow:
            return preview(uow, campaign_id)

    @api.post("/campaigns/{campaign_id}/approve", response_model=s.CampaignPublic)
    def approve(campaign_id: str, k: CmpWrite) -> Any:
        """Approve a draft; the key that created it may not (four-eyes rule: 403)."""
        approve_as(container, campaign_id, api_actor(k))
        return campaign_public(campaign_id)

    @api.post("/campaigns/{campaign_id}/launch", response_model=s.LaunchPublic)
    def launch(campaign_id: str, k: CmpWrite) -> Any:
        """Issue the offers once; launching again issues nothing (`already_launched`)."""
        result = launch_campaign(container, campaign_id, actor=api_actor(k))
        return s.LaunchPublic(
            campaign_id=result.campaign_id,
            offers=result.offers,
            already_launched=result.already_launched,
            expires_at=result.expires_at,
        )

    @api.get("/campaigns/{campaign_id}/report", response_model=s.ReportPublic)
    def report(campaign_id: str, _: CmpRead) -> Any:
        with container.uow() as uow:
            return campaign_report(uow, campaign_id, container.now())


def _lookup_routes(api: FastAPI, container: Container, auth: Auth) -> None:
    OfrRead = Annotated[ApiKey, Depends(auth.scope("offers:read"))]  # noqa: N806
    AccRead = Annotated[ApiKey, Depends(auth.scope("accounts:read"))]  # noqa: N806
    AudRead = Annotated[ApiKey, Depends(auth.scope("audit:read"))]  # noqa: N806

    @api.get("/offers/{offer_id}", response_model=s.OfferPublic)
    def offer(offer_id: str, _: OfrRead) -> Any:
        with container.uow() as uow:
            return offer_public(q.get_offer(uow, offer_id))

    @api.get("/offers", response_model=list[s.OfferPublic])
    def offers(
        _: OfrRead,
        campaign_id: str | None = None,
        account_id: str | None = None,
        limit: Limit = 100,
    ) -> Any:
        """Offers of a campaign or of an account (give one of the two)."""
        if campaign_id is None and account_id is None:
            raise InvalidInput("give campaign_id or account_id")
        with container.uow() as uow:
            rows = q.offers_for(uow, account_id=account_id, campaign_id=campaign_id, limit=limit)
        return [offer_public(r) for r in rows]

    @api.get("/accounts", response_model=list[s.AccountPublic])
    def find_accounts(
        _: AccRead, email: Annotated[str, Query(min_length=1, max_length=320)]
    ) -> Any:
        """Accounts with this e-mail address (case-insensitive)."""
        with container.uow() as uow:
            return [q.get_account(uow, r["account_id"]) for r in q.find_accounts(uow, email)]

    @api.get("/accounts/{account_id}", response_model=s.AccountPublic)
    def account(account_id: str, _: AccRead) -> Any:
        with container.uow() as uow:
            return q.get_account(uow, account_id)

    @api.get("/accounts/{account_id}/credits", response_model=s.AccountCreditsPublic)
    def account_credits(account_id: str, _: AccRead) -> Any:
        """Where the account stands for each incident of the last 90 days (what the status
        e-mail of `POST /credits` tells the subscriber)."""
        with container.uow() as uow:
            found = uow.reports.account_credits(account_id, container.now())
        if found is None:
            raise NotFound(f"no account {account_id!r}")
        return s.AccountCreditsPublic(
            account_id=found.account_id,
            incidents=[incident_credit_public(e) for e in found.incidents],
        )

    @api.get("/audit", response_model=list[s.AuditEntryPublic])
    def audit(
        _: AudRead,
        subject_id: str | None = None,
        before: AuditBefore = None,
        limit: Limit = 100,
    ) -> Any:
        """Audit entries, newest first; `before` (an entry id) pages back."""
        with container.uow() as uow:
            return q.audit_entries(
                uow,
                subject_ids=[subject_id] if subject_id is not None else None,
                before=before,
                limit=limit,
            )
