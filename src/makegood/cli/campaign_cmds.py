"""`makegood campaign ...` and `makegood report`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from makegood.cli.context import container
from makegood.cli.output import handles_errors, print_id, print_json, say
from makegood.cli.progress import progress_printer
from makegood.cli.source_options import attempt_source_options, engine_option
from makegood.domain.errors import InvalidInput

if TYPE_CHECKING:
    from makegood.domain.policy import CreditPolicy
    from makegood.telemetry.source import AttemptSource


def register(cli: click.Group) -> None:
    cli.add_command(campaign)
    cli.add_command(report)


@click.group()
def campaign() -> None:
    """Build, preview, approve and launch make-good campaigns."""


def _policy(percent: str | None, fixed: tuple[str, ...], policy: str | None) -> CreditPolicy:
    from makegood.domain.money import MoneyError, parse_amount
    from makegood.domain.policy import FixedAmount, PercentOfPrice, parse_percent, single

    if policy is not None:
        if percent is not None or fixed:
            raise InvalidInput(
                "use either --policy or --percent/--fixed, not both (a policy file holds the "
                "percent or fixed amounts itself)"
            )
        return _policy_file(policy)
    if percent is not None and fixed:
        raise InvalidInput("use either --percent or --fixed, not both")
    if not fixed:
        try:
            return single(
                PercentOfPrice() if percent is None else PercentOfPrice(parse_percent(percent))
            )
        except MoneyError as exc:
            raise InvalidInput(f"--percent: {exc}") from None
    amounts = {}
    for item in fixed:
        currency, sep, amount = item.partition("=")
        currency = currency.strip().upper()
        if not sep:
            raise InvalidInput(f"--fixed {item!r}: write it as CURRENCY=AMOUNT, e.g. USD=5")
        if currency in amounts:
            raise InvalidInput(f"--fixed: {currency} is given twice")
        try:
            amounts[currency] = parse_amount(amount, currency)
        except MoneyError as exc:
            raise InvalidInput(f"--fixed {currency}: {exc}") from None
    try:
        return single(FixedAmount(amounts))
    except MoneyError as exc:
        raise InvalidInput(f"--fixed: {exc}") from None


def _policy_file(path: str) -> CreditPolicy:
    """The policy in a TOML (or, by extension or first character, JSON) file."""
    from pathlib import Path

    from makegood.domain.policy_text import read_policy

    file = Path(path)
    try:
        if file.stat().st_size > 1_000_000:
            raise InvalidInput(f"--policy {path}: a policy is a few lines; this file is over 1 MB")
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"--policy {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--policy {path}: cannot be read as UTF-8 text ({exc})") from None
    formats = {".json": "json", ".toml": "toml"}
    return read_policy(text, path, formats.get(file.suffix.lower()))


@campaign.command("create")
@click.argument("incident_id")
@handles_errors
@attempt_source_options()
@click.option("--min-failures", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--strict", is_flag=True, help="Only accounts that could not watch again.")
@click.option("--percent", default=None, help="Percent of the monthly plan price (default 3).")
@click.option("--fixed", multiple=True, help="Fixed amount per currency: --fixed USD=5.")
@click.option(
    "--policy",
    "policy_file",
    default=None,
    metavar="FILE.toml",
    help="A policy file: tiers, pro rata, floor, cap (docs/policies.md).",
)
@click.option("--claim-days", default=7, show_default=True, type=int)
@click.option(
    "--pay-within-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Each claimed or granted credit must be applied within N days (report counts it).",
)
@click.option(
    "--appeal-days",
    type=click.IntRange(1, 365),
    default=30,
    show_default=True,
    help="Days from launch during which a subscriber not found affected may appeal.",
)
@click.option("--plan", "plans", multiple=True, help="Eligible plan; repeat. Default: all.")
@click.option("--mode", type=click.Choice(["claim", "auto"]), default="claim", show_default=True)
@engine_option
def campaign_create(
    incident_id: str,
    source: AttemptSource,
    min_failures: int,
    strict: bool,
    percent: str | None,
    fixed: tuple[str, ...],
    policy_file: str | None,
    claim_days: int,
    pay_within_days: int | None,
    appeal_days: int,
    plans: tuple[str, ...],
    mode: str,
    engine: str,
    master: str | None,
) -> None:
    """Build a draft campaign from the incident's cohort; prints its id."""
    from makegood.domain.policy import Mode
    from makegood.services.campaign_command import CreateCampaign
    from makegood.services.campaigns import create_draft

    c = container()
    cmd = CreateCampaign(
        incident_id=incident_id,
        events=source.path,
        policy=_policy(percent, fixed, policy_file),
        claim_days=claim_days,
        pay_within_days=pay_within_days,
        appeal_days=appeal_days,
        plans=list(plans) if plans else None,
        mode=Mode(mode),
        source=source,
        min_failures=min_failures,
        strict=strict,
        engine=engine,
        master=master,
    )
    campaign_id, built = create_draft(c, cmd, progress=progress_printer("cohort accounts decided"))
    say(
        f"draft campaign: {built.affected} affected, {built.eligible} eligible; "
        f"see `makegood campaign preview {campaign_id}`"
    )
    print_id(campaign_id)


@campaign.command("preview")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@handles_errors
def campaign_preview(campaign_id: str, as_json: bool) -> None:
    """Eligible count, exclusions by reason, and cost per currency if every offer is claimed."""
    from makegood.services.campaigns import preview

    with container().uow() as uow:
        data = preview(uow, campaign_id)
    if as_json:
        print_json(data)
        return
    click.echo(f"campaign {data['campaign']} ({data['state']}, {data['mode']} mode)")
    progress = data.get("launch_progress")
    if data["state"] == "launching" and progress:
        click.echo(
            f"launching:         {progress['issued']} of {progress['total']} offers issued "
            f"(run `makegood campaign launch {data['campaign']}` to finish)"
        )
    click.echo(f"affected accounts: {data['affected']}")
    click.echo(f"eligible:          {data['eligible']}")
    for reason, count in data["excluded"].items():
        click.echo(f"excluded, {reason}: {count}")
    for currency, amount in data["liability"].items():
        click.echo(f"liability {currency}: {amount}")
    for tier in data["tiers"]:
        costs = ", ".join(f"{a} {c}" for c, a in tier["liability"].items()) or "nothing"
        click.echo(f"tier at least {tier['at_least']}: {tier['eligible']} eligible, {costs}")
    for currency, counts in data["amounts"].items():
        spread = ", ".join(f"{amount} x {n}" for amount, n in counts.items())
        click.echo(f"amounts {currency}: {spread}")


@campaign.command("approve")
@click.argument("campaign_id")
@handles_errors
def campaign_approve(campaign_id: str) -> None:
    """Approve a draft so that it can be launched."""
    from makegood.services.campaign_approval import approve_campaign

    approve_campaign(container(), campaign_id)
    say(f"campaign {campaign_id} approved; launch it with `makegood campaign launch {campaign_id}`")


@campaign.command("launch")
@click.argument("campaign_id")
@handles_errors
def campaign_launch(campaign_id: str) -> None:
    """Issue one offer per eligible account and queue their e-mail and in-app messages.

    The offers are committed in chunks: an interrupted launch leaves the campaign `launching`
    with its progress, and running this again finishes it (nothing is issued twice)."""
    from makegood.services.launch import launch_campaign

    result = launch_campaign(container(), campaign_id, progress=progress_printer("offers issued"))
    if result.already_launched:
        say(f"campaign {campaign_id} was launched already; nothing new was issued")
        return
    expiry = result.expires_at.isoformat() if result.expires_at else "-"
    done = "launched (resumed)" if result.resumed else "launched"
    say(f"{done}: {result.offers} offers issued, open until {expiry}; run `makegood dispatch`")


@click.command()
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@handles_errors
def report(campaign_id: str, as_json: bool) -> None:
    """The funnel (affected, offered, notified, claimed, applied) and money per currency."""
    from makegood.services.reports import campaign_report

    c = container()
    with c.uow() as uow:
        data = campaign_report(uow, campaign_id, c.now())
    if as_json:
        print_json(data)
        return
    click.echo(f"campaign {data['campaign']} ({data['state']}, {data['mode']} mode)")
    progress = data.get("launch_progress")
    if data["state"] == "launching" and progress:
        click.echo(
            f"launching:         {progress['issued']} of {progress['total']} offers issued "
            f"(run `makegood campaign launch {data['campaign']}` to finish)"
        )
    for key in ("affected", "eligible", "offered", "notified", "claimed", "applied"):
        click.echo(f"{key:<10} {data[key]:>10}")
    click.echo(f"claim rate {data['claim_rate']:>10.1%}")
    for key in ("liability", "claimed_amount", "applied_amount"):
        for currency, amount in data[key].items():
            click.echo(f"{key.replace('_', ' ')} {currency}: {amount}")
    if data["pay_within_days"] is not None:
        click.echo(f"pay within {data['pay_within_days']} days:")
        for key in ("applied_on_time", "applied_late", "unapplied_overdue"):
            click.echo(f"{key.replace('_', ' '):<18} {data[key]:>10}")
