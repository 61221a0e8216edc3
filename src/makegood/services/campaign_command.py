"""The command that creates a campaign, apart from the use cases so that the campaign module
and the build (services.campaign_build) both import it without importing each other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from makegood.domain.appeals import DEFAULT_APPEAL_DAYS
from makegood.domain.errors import InvalidInput
from makegood.domain.policy import CreditPolicy, Mode

if TYPE_CHECKING:
    from makegood.telemetry.source import AttemptSource


@dataclass(frozen=True)
class CreateCampaign:
    """The command to build a draft: which incident, which logs, which policy."""

    incident_id: str
    events: str
    policy: CreditPolicy
    claim_days: int = 7
    # --plan: eligible plans (None: every plan); a policy's [eligibility] plans say the same.
    plans: Sequence[str] | None = None
    mode: Mode = Mode.CLAIM
    actor: str = "cli"
    # How to read `events` (column and outcome mapping, bad rows); None: the plain contract.
    source: AttemptSource | None = None
    min_failures: int = 1  # cohort semantics, docs/cohort.md
    strict: bool = False
    # What computes the cohort (telemetry.engines.ENGINES; same rows on each) and, for spark,
    # the master URL (None: local[*]).
    engine: str = "duckdb"
    master: str | None = None
    # Days within which a claimed or granted credit must be applied (None: no deadline).
    pay_within_days: int | None = None
    # Days from launch during which a subscriber the snapshot did not find may appeal.
    appeal_days: int = DEFAULT_APPEAL_DAYS


def with_plans(cmd: CreateCampaign) -> CreateCampaign:
    """The command with `--plan`'s plans moved into its policy's eligible plans (one place)."""
    if cmd.plans is None:
        return cmd
    policy = cmd.policy
    if policy.eligibility.plans is not None:
        raise InvalidInput(
            "give the eligible plans in the policy's [eligibility] plans or as --plan, not both"
        )
    plans = tuple(dict.fromkeys(cmd.plans))
    return replace(
        cmd,
        policy=replace(policy, eligibility=replace(policy.eligibility, plans=plans)),
        plans=None,
    )
