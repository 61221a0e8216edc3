"""`makegood demo generate`: a deterministic synthetic world as files, any size."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click

from makegood.cli.output import handles_errors, say
from makegood.domain.errors import InvalidInput


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in (text or "").split(",") if v.strip()))


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--outage-start {text!r}: write a UTC time of day like 18:40") from None


@click.command("generate")
@click.option("--accounts", default=50_000, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--attempts",
    default=None,
    type=click.IntRange(min=1),
    help="About how many playback attempts (default: 15 per account and day).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for plans.csv, accounts.csv, attempts/*.parquet and world.json.",
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--days", default=3, show_default=True, type=click.IntRange(min=1, max=366))
@click.option(
    "--start",
    "first_day",
    default="2026-03-20",
    show_default=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day of the logs (UTC).",
)
@click.option(
    "--outage-day",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Which day has the outage (1 = the first; clamped to the last).",
)
@click.option("--outage-start", default="18:40", show_default=True, help="UTC time of day.")
@click.option("--outage-minutes", default=255, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--outage-regions",
    default="eu-central,eu-west,us-east",
    show_default=True,
    help="Comma-separated regions the outage hits.",
)
@click.option("--outage-devices", default="", help="Comma-separated devices (default: every one).")
@click.option(
    "--outage-failure-rate",
    default=0.82,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of attempts failing during the outage (0.006 elsewhere).",
)
@click.option(
    "--chunk-attempts",
    default=5_000_000,
    show_default=True,
    type=click.IntRange(min=1000),
    help="About how many attempts per Parquet file (bounds memory).",
)
@handles_errors
def generate(
    accounts: int,
    attempts: int | None,
    out_dir: Path,
    seed: int,
    days: int,
    first_day: datetime,
    outage_day: int,
    outage_start: str,
    outage_minutes: int,
    outage_regions: str,
    outage_devices: str,
    outage_failure_rate: float,
    chunk_attempts: int,
) -> None:
    """Write a deterministic world: plans, accounts and playback attempts with a daily rhythm and
    an outage, as files in OUT (the same seed gives the same files). Prints OUT's path."""
    from makegood.cli.context import container
    from makegood.telemetry.demo_world import Outage, generate_world

    outage = Outage(
        day=outage_day - 1,
        start=_clock(outage_start),
        length=timedelta(minutes=outage_minutes),
        regions=_names(outage_regions),
        devices=_names(outage_devices),
        failure_rate=outage_failure_rate,
    )
    try:
        world = generate_world(
            out_dir,
            accounts=accounts,
            days=days,
            seed=seed,
            start=date.fromordinal(first_day.toordinal()),
            attempts=attempts,
            outage=outage,
            chunk_attempts=chunk_attempts,
            say=say,
            engine=container().engine_config,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    truth = {
        "seed": world.seed,
        "plans": world.plans,
        "accounts": world.accounts,
        "unknown_accounts": world.unknown_accounts,
        "attempts": world.attempts,
        "attempt_files": len(world.attempt_files),
        "outage": {
            "start": world.outage_starts_at.isoformat(),
            "end": world.outage_ends_at.isoformat(),
            "regions": list(world.outage_regions),
            "devices": list(world.outage_devices),
            "failure_rate": outage_failure_rate,
        },
    }
    (out_dir / "world.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    window = f"[{world.outage_starts_at.isoformat()}, {world.outage_ends_at.isoformat()})"
    say(
        f"{world.accounts:,} accounts, {world.attempts:,} attempts in {len(world.attempt_files)} "
        f"Parquet files; outage {window} in {', '.join(world.outage_regions)}"
    )
    click.echo(str(out_dir))
