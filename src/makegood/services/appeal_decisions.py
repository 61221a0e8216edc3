"""An agent's decision on an appeal the logs did not confirm (the console's appeal queue).

Grant: the amount the campaign's policy gives an account that could not watch for the whole
window (store on the appeal as `findings.proposed` when it was processed, decided again
now), within the agent's grant limit as a goodwill grant is (services.support); an offer is
written and granted at once with its credit, and the offer-granted e-mail tells the amount
and the statement. Decline: a reason is required, and the subscriber is e-mailed it. Each
decision moves `needs_review` to `granted` or `declined` with one conditional UPDATE, is
audited, and commits with everything it wrote.
"""

from __future__ import annotations

from datetime import datetime

from makegood.bootstrap import Container
from makegood.domain.appeals import AppealState, check_transition, clean_reason
from makegood.domain.errors import InvalidState, NotFound
from makegood.domain.policy import Outage
from makegood.services.appeal_offers import issue_offer
from makegood.services.appeal_processing import facts_of, proposed_decision
from makegood.services.campaigns import get_campaign
from makegood.services.claims import grant_offer
from makegood.services.incidents import get_incident
from makegood.services.support import check_grant_limit
from makegood.store import outbox
from makegood.store.appeals import email_id
from makegood.store.uow import UnitOfWork
from makegood.telemetry.account_log import AccountLog

DECLINED_TEMPLATE = "appeal_declined"


def _needs_review(uow: UnitOfWork, appeal_id: str, wanted: AppealState) -> dict[str, object]:
    appeal = uow.appeals.get(appeal_id, lock=True)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id!r}")
    check_transition(appeal["state"], wanted)
    return dict(appeal)


def grant_appeal(
    container: Container,
    appeal_id: str,
    actor: str,
    limits: dict[str, int] | None,
    note: str = "",
) -> str:
    """Grant the appeal's credit; returns the offer id. GrantLimitExceeded above the agent's
    limit, InvalidState when the policy gives this account nothing (the reason named)."""
    now = container.now()
    with container.uow() as uow:
        appeal = _needs_review(uow, appeal_id, AppealState.GRANTED)
        account_id = str(appeal["account_id"])
        campaign = get_campaign(uow, str(appeal["campaign_id"]))
        incident = get_incident(uow, str(appeal["incident_id"]))
        facts_row = uow.accounts.with_plan(account_id)
        findings = appeal["findings"]
        log = AccountLog.from_json(findings if isinstance(findings, dict) else {})
        decision = proposed_decision(
            facts_of(facts_row),
            campaign,
            log,
            Outage(incident.starts_at, incident.ends_at),
            uow.offers.has_offer(account_id, incident.id),
        )
        if decision.amount is None or facts_row is None:
            raise InvalidState(
                f"no credit applies to this account under the campaign's policy "
                f"({decision.excluded}): decline the appeal with that reason"
            )
        check_grant_limit(decision.amount.minor, decision.amount.currency, limits)
        offer_id = issue_offer(
            uow,
            campaign,
            account_id,
            facts_row["plan_id"],
            decision,
            log,
            now,
            auto=False,
            messages=False,
            actor=actor,
        )
        grant_offer(uow, offer_id, now, via="agent", actor=actor)
        uow.outbox.queue(
            [
                outbox.new_message(
                    outbox.launch_email_id(offer_id),
                    account_id,
                    "offer_granted",
                    now,
                    offer_id=offer_id,
                )
            ],
        )
        reason = " ".join(note.split())[:500] or None
        _decide(uow, appeal_id, AppealState.GRANTED, actor, reason, offer_id, now)
        uow.audit.record(
            now,
            actor,
            "appeal.granted",
            "appeal",
            appeal_id,
            {
                "account_id": account_id,
                "offer_id": offer_id,
                "amount_minor": decision.amount.minor,
                "currency": decision.amount.currency,
                "note": reason,
            },
        )
        uow.commit()
    return offer_id


def decline_appeal(container: Container, appeal_id: str, reason: str, actor: str) -> None:
    """Decline with a reason (required; the subscriber is e-mailed it)."""
    why = clean_reason(reason)
    now = container.now()
    with container.uow() as uow:
        appeal = _needs_review(uow, appeal_id, AppealState.DECLINED)
        _decide(uow, appeal_id, AppealState.DECLINED, actor, why, None, now)
        uow.outbox.queue(
            [
                outbox.new_message(
                    email_id(appeal_id, DECLINED_TEMPLATE),
                    str(appeal["account_id"]),
                    DECLINED_TEMPLATE,
                    now,
                )
            ],
        )
        uow.audit.record(
            now,
            actor,
            "appeal.declined",
            "appeal",
            appeal_id,
            {"account_id": appeal["account_id"], "reason": why},
        )
        uow.commit()


def _decide(
    uow: UnitOfWork,
    appeal_id: str,
    state: AppealState,
    actor: str,
    reason: str | None,
    offer_id: str | None,
    now: datetime,
) -> None:
    values: dict[str, object] = {
        "state": state,
        "decided_at": now,
        "decided_by": actor,
        "reason": reason,
    }
    if offer_id is not None:
        values["offer_id"] = offer_id
    if not uow.appeals.move(appeal_id, AppealState.NEEDS_REVIEW, values):
        raise InvalidState("another agent decided this appeal first; reload the queue")
