"""`makegood demo`: the whole story on a synthetic world."""

from __future__ import annotations

from pathlib import Path

import click

from makegood.cli.output import handles_errors, print_id, say


def register(cli: click.Group) -> None:
    from makegood.cli.demo_generate import generate

    demo.add_command(generate)
    cli.add_command(demo)


@click.group(invoke_without_command=True)
@click.option(
    "--dir",
    "directory",
    default="makegood-demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where the world, database and mail go.",
)
@click.option("--accounts", default=50_000, show_default=True, type=click.IntRange(min=100))
@click.option(
    "--claim-share",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of offers claimed over HTTP during the demo.",
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.pass_context
@handles_errors
def demo(ctx: click.Context, directory: Path, accounts: int, claim_share: float, seed: int) -> None:
    """Generate a world with an outage and run incident -> cohort -> campaign -> launch ->
    dispatch -> claims over HTTP -> billing close -> report, on a SQLite file in DIR.

    `makegood demo generate` writes a world's files only, any size."""
    if ctx.invoked_subcommand is not None:
        return
    from makegood.cli.progress import progress_printer
    from makegood.demo.story import run_demo

    result = run_demo(
        directory,
        say,
        accounts=accounts,
        claim_share=claim_share,
        seed=seed,
        progress=progress_printer,
    )
    # `make demo` installs makegood into uv's environment, not on PATH: name it as it runs.
    say("\nOpen the claim pages yourself:")
    say(f"  export MAKEGOOD_DATABASE_URL={result.database_url}")
    say(f"  uv run makegood serve     # then open a link from an e-mail in {directory / 'mail'}")
    if result.sample_link:
        say(f"  an unclaimed link:  {result.sample_link}")
    say(f"  uv run makegood report {result.campaign_id}")
    print_id(result.campaign_id)
