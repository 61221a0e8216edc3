"""Processing appeals: read the campaign's attempt logs again for the one account, decide.

`process_appeals` (the worker's pass and `makegood appeals process`) takes queued appeals one
at a time, each in a transaction of its own holding the appeal's row (SKIP LOCKED on
PostgreSQL, so several workers share the queue), reads the campaign's events source for that
account over the incident's whole window, any region and device (telemetry.account_log), and
decides under the campaign's policy with the rules the bulk path uses (domain.policy.decide,
with the account's plan, price, currency and status):

- at least the campaign's `min_failures` failures (domain.cohort.enough_failures; `campaign
  create --min-failures`, 1 by default: the threshold its cohort used) and otherwise eligible
  -> an offer, written and e-mailed as a launch's (services.appeal_offers; granted at once in
  automatic mode): `offered`;
- otherwise -> an e-mail telling the subscriber what the logs hold, and `needs_review`: the
  console's appeal queue, where an agent grants or declines (services.appeal_decisions).

Every step is audited. An appeal whose logs cannot be read stays queued and is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING

from makegood.bootstrap import Container
from makegood.domain.appeals import AppealState, check_transition
from makegood.domain.cohort import BELOW_MIN_FAILURES, enough_failures
from makegood.domain.errors import MakegoodError
from makegood.domain.money import Money
from makegood.domain.policy import AccountFacts, Decision, Evidence, Outage, decide
from makegood.services.appeal_offers import VIA, issue_offer
from makegood.services.campaigns import Campaign, get_campaign
from makegood.services.channels import configured_channels
from makegood.services.incidents import get_incident
from makegood.store import outbox
from makegood.store.appeals import email_id
from makegood.store.repository import RowMapping
from makegood.store.uow import UnitOfWork
from makegood.telemetry.account_log import AccountLog, read_account_log

ACTOR = "system:appeal"
REVIEW_TEMPLATE = "appeal_review"
Progress = Callable[[str, str], None]  # (appeal id, outcome)


@dataclass
class ProcessReport:
    """What one pass did: appeals offered, sent for review, and left queued (logs unreadable)."""

    offered: int = 0
    needs_review: int = 0
    unreadable: list[str] = field(default_factory=list)  # "apl_...: why"

    @property
    def processed(self) -> int:
        return self.offered + self.needs_review


def process_appeals(container: Container, progress: Progress | None = None) -> ProcessReport:
    """Decide every queued appeal once; returns what was done."""
    report = ProcessReport()
    skipped: set[str] = set()
    channels = configured_channels(container.settings)
    while True:
        with container.uow() as uow:
            ids = [i for i in uow.appeals.queued_ids(len(skipped) + 1) if i not in skipped]
            if not ids:
                return report
            appeal_id = ids[0]
            try:
                outcome = _process(uow, container, appeal_id, channels)
            except MakegoodError as exc:
                uow.rollback()
                skipped.add(appeal_id)
                report.unreadable.append(f"{appeal_id}: {exc}")
                if progress:
                    progress(appeal_id, "left queued")
                continue
            uow.commit()
        if outcome == AppealState.OFFERED:
            report.offered += 1
        else:
            report.needs_review += 1
        if progress:
            progress(appeal_id, outcome)


def _process(
    uow: UnitOfWork, container: Container, appeal_id: str, channels: tuple[str, ...]
) -> AppealState:
    appeal = uow.appeals.get(appeal_id, lock=True)
    assert appeal is not None
    campaign = get_campaign(uow, appeal["campaign_id"])
    incident = get_incident(uow, appeal["incident_id"])
    account_id = appeal["account_id"]
    log = read_account_log(
        campaign.raw["events_source"],
        account_id,
        incident.starts_at,
        incident.ends_at,
        config=container.engine_config,
    )
    now = container.now()
    outage = Outage(incident.starts_at, incident.ends_at)
    facts_row = uow.accounts.with_plan(account_id)
    facts = facts_of(facts_row)
    offered = uow.offers.has_offer(account_id, appeal["incident_id"])
    findings = log.as_json()
    findings["min_failures"] = campaign.min_failures
    decision: Decision | None = None
    # The campaign's threshold (`--min-failures`): fewer failures did not make its cohort either.
    if enough_failures(log.failed_attempts, campaign.min_failures):
        evidence = Evidence(log.failed_attempts, max(1, log.impact_minutes))
        decision = decide(facts, campaign.policy, evidence, outage, offered)
    if decision is not None and decision.eligible and facts_row is not None:
        check_transition(appeal["state"], AppealState.OFFERED)
        offer_id = issue_offer(
            uow,
            campaign,
            account_id,
            facts_row["plan_id"],
            decision,
            log,
            now,
            channels=channels,
        )
        uow.appeals.move(
            appeal_id,
            AppealState.QUEUED,
            {
                "state": AppealState.OFFERED,
                "findings": findings,
                "processed_at": now,
                "offer_id": offer_id,
            },
        )
        assert decision.amount is not None
        uow.audit.record(
            now,
            ACTOR,
            "appeal.offered",
            "appeal",
            appeal_id,
            {
                "via": VIA,
                "offer_id": offer_id,
                "account_id": account_id,
                "amount_minor": decision.amount.minor,
                "currency": decision.amount.currency,
                "mode": campaign.mode,
                "failed_attempts": log.failed_attempts,
            },
        )
        return AppealState.OFFERED
    check_transition(appeal["state"], AppealState.NEEDS_REVIEW)
    if decision is not None:
        findings["excluded"] = decision.excluded
    else:  # failures seen, but fewer than the campaign asked for: the console says so
        findings["excluded"] = BELOW_MIN_FAILURES if log.failed_attempts else None
    findings["proposed"] = _proposed(facts, campaign, log, outage, offered)
    uow.appeals.move(
        appeal_id,
        AppealState.QUEUED,
        {"state": AppealState.NEEDS_REVIEW, "findings": findings, "processed_at": now},
    )
    uow.outbox.queue(
        [outbox.new_message(email_id(appeal_id, REVIEW_TEMPLATE), account_id, REVIEW_TEMPLATE, now)]
    )
    uow.audit.record(
        now,
        ACTOR,
        "appeal.needs_review",
        "appeal",
        appeal_id,
        {
            "account_id": account_id,
            "failed_attempts": log.failed_attempts,
            "min_failures": campaign.min_failures,
            "successful_attempts": log.successful_attempts,
            "excluded": findings["excluded"],
        },
    )
    return AppealState.NEEDS_REVIEW


def facts_of(row: RowMapping | None) -> AccountFacts | None:
    if row is None:
        return None
    return AccountFacts(
        status=row["status"],
        plan_id=row["plan_id"],
        price=Money(row["currency"], row["monthly_price_minor"]),
        cancelled_at=row["cancelled_at"],
    )


def proposed_decision(
    facts: AccountFacts | None,
    campaign: Campaign,
    log: AccountLog,
    outage: Outage,
    offered: bool,
) -> Decision:
    """What an agent's grant credits: the policy's decision for an account that could not
    watch for the whole window (the subscriber's word, which the logs did not confirm)."""
    minutes = int(outage.minutes.to_integral_value(rounding=ROUND_CEILING))
    evidence = Evidence(max(1, log.failed_attempts), max(1, minutes))
    return decide(facts, campaign.policy, evidence, outage, offered)


def _proposed(
    facts: AccountFacts | None,
    campaign: Campaign,
    log: AccountLog,
    outage: Outage,
    offered: bool,
) -> dict[str, object]:
    """The proposed grant as stored on the appeal: its amount, or the reason there is none."""
    decision = proposed_decision(facts, campaign, log, outage, offered)
    if decision.amount is None:
        return {"excluded": decision.excluded}
    return {"amount_minor": decision.amount.minor, "currency": decision.amount.currency}
