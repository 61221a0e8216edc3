"""`makegood demo`: the whole make-good story on a synthetic world, end to end, on SQLite.

Each step calls the same use cases as the commands; claims go through the real HTTP endpoint
of the web app, using the links in the e-mails that dispatch wrote, as a subscriber would.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import TYPE_CHECKING

from makegood.bootstrap import bootstrap
from makegood.settings import Settings

if TYPE_CHECKING:
    from makegood.telemetry.demo_world import World

Say = Callable[[str], None]
# label -> the callback a long step reports its count to (the CLI passes its progress printer).
ProgressLine = Callable[[str], Callable[[int], None]]


def _quiet(_label: str) -> Callable[[int], None]:
    return lambda _done: None


LINK = re.compile(r"/claim/([A-Za-z0-9_-]{32,})")
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    database_url: str
    campaign_id: str
    claims: int
    sample_link: str | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: Settings, log_path: Path) -> Iterator[str]:
    """`makegood serve` in its own process on a free loopback port, until the block ends."""
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": settings.database_url,
        "MAKEGOOD_PUBLIC_URL": settings.public_url,
        "MAKEGOOD_MAIL_DIR": str(settings.mail_dir),
    }
    command = [
        sys.executable,
        "-m",
        "makegood",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the web server stopped at start; see {log_path}")
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the web server did not answer in 60 s; see {log_path}")
                threading.Event().wait(0.05)  # the server is starting in another process
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=30)


def claim_token_in(path: Path) -> str | None:
    """The claim token in the link of one e-mail file, read from its plain-text part."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    match = LINK.search(text)
    return match.group(1) if match else None


def claim_over_http(base_url: str, tokens: list[str], workers: int = 4) -> tuple[int, int]:
    """Open each link and confirm it, like a subscriber; returns (claimed, other answers)."""
    import httpx

    results = {"claimed": 0, "other": 0}
    lock = threading.Lock()

    def work(chunk: list[str]) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for token in chunk:
                page = client.get(f"/claim/{token}")
                match = CSRF.search(page.text)
                outcome = "other"
                if page.status_code == 200 and match:
                    answer = client.post(f"/claim/{token}", data={"csrf_token": match.group(1)})
                    if answer.status_code in (200, 303):
                        outcome = "claimed"
                with lock:
                    results[outcome] += 1

    chunks = [tokens[i::workers] for i in range(workers)]
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks if chunk]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results["claimed"], results["other"]


def _step(say: Say, title: str) -> Callable[[str], None]:
    started = time.monotonic()
    say(f"\n== {title}")

    def done(result: str) -> None:
        say(f"   {result}  ({time.monotonic() - started:.1f} s)")

    return done


def _amounts(per_currency: dict[str, str]) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(per_currency.items()))


def _fresh(directory: Path) -> None:
    """Remove what an earlier demo left in `directory` (the demo owns these names only)."""
    for name in ("world", "mail", "makegood.db", "makegood.db-wal", "makegood.db-shm", "serve.log"):
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    directory.mkdir(parents=True, exist_ok=True)


class DemoStory:
    """The steps of the demo, in order; each prints what it did and how long it took."""

    def __init__(
        self,
        directory: Path,
        say: Say,
        accounts: int,
        seed: int,
        today: date,
        progress: ProgressLine = _quiet,
    ) -> None:
        self.directory = directory
        self.say = say
        self.progress = progress
        self.accounts = accounts
        self.seed = seed
        self.today = today
        self.settings = Settings(
            database_url=f"sqlite:///{(directory / 'makegood.db').resolve()}",
            mail_dir=directory / "mail",
            smtp_url=None,
            public_url="http://127.0.0.1:8000",
        )
        self.container = bootstrap(self.settings)

    def world(self) -> World:
        from makegood.telemetry.demo_world import generate_world

        done = _step(self.say, "1. A synthetic world: plans, subscribers, three days of playback")
        world = generate_world(
            self.directory / "world",
            accounts=self.accounts,
            seed=self.seed,
            start=self.today - timedelta(days=2),
            engine=self.container.engine_config,
        )
        done(
            f"{world.accounts:,} accounts, {world.attempts:,} attempts in "
            f"{len(world.attempt_files)} Parquet files; outage in {', '.join(world.outage_regions)}"
        )
        return world

    def imports(self, world: World) -> None:
        from makegood.services.imports import import_accounts, import_plans
        from makegood.store.migrate import upgrade

        done = _step(self.say, "2. Database and imports")
        upgrade(self.container.engine)
        plans = import_plans(self.container, world.plans_path, actor="demo")
        people = import_accounts(self.container, world.accounts_path, actor="demo")
        done(f"{plans.rows} plans, {people.rows:,} accounts in {self.settings.database_url}")

    def incident(self, world: World) -> str:
        from makegood.services.incidents import create_incident

        done = _step(self.say, "3. Incident, declared from the window the logs show")
        with self.container.uow() as uow:
            incident_id = create_incident(
                uow,
                "Playback outage",
                world.outage_starts_at,
                world.outage_ends_at,
                list(world.outage_regions),
                [],
                self.container.now(),
                actor="demo",
            )
            uow.commit()
        start, end = world.outage_starts_at.isoformat(), world.outage_ends_at.isoformat()
        done(f"{incident_id}: [{start}, {end}) in {', '.join(world.outage_regions)}")
        return incident_id

    def cohort(self, world: World) -> None:
        from makegood.telemetry.cohort import compute_cohort

        done = _step(self.say, "4. Affected cohort (DuckDB over the attempt logs)")
        out = self.directory / "cohort.csv"
        with compute_cohort(
            str(world.attempts_dir),
            world.outage_starts_at,
            world.outage_ends_at,
            world.outage_regions,
            [],
        ) as cohort:
            cohort.write(out)
            done(f"{cohort.count:,} accounts, {cohort.stats.failed_attempts:,} failures -> {out}")

    def campaign(self, world: World, incident_id: str) -> str:
        from makegood.domain.policy import PercentOfPrice, single
        from makegood.services.campaign_command import CreateCampaign
        from makegood.services.campaigns import create_campaign, preview

        done = _step(self.say, "5. Campaign: 3% of the monthly price, claim within 7 days")
        command = CreateCampaign(
            incident_id, str(world.attempts_dir), single(PercentOfPrice()), actor="demo"
        )
        campaign_id = create_campaign(self.container, command)
        with self.container.uow() as uow:
            draft = preview(uow, campaign_id)
        excluded = ", ".join(f"{k} {v:,}" for k, v in draft["excluded"].items() if v)
        done(
            f"{campaign_id}: {draft['eligible']:,} eligible; excluded: {excluded}; "
            f"liability {_amounts(draft['liability'])}"
        )
        return campaign_id

    def launch(self, campaign_id: str) -> None:
        from makegood.services.campaign_approval import approve_campaign
        from makegood.services.launch import launch_campaign

        done = _step(self.say, "6. Approve and launch")
        approve_campaign(self.container, campaign_id, actor="demo-approver")
        launched = launch_campaign(
            self.container, campaign_id, actor="demo", progress=self.progress("   offers")
        )
        expiry = launched.expires_at.isoformat() if launched.expires_at else "-"
        done(
            f"{launched.offers:,} offers, each with an e-mail and an in-app message; until {expiry}"
        )

    def dispatch(self) -> None:
        from makegood.services.dispatch import dispatch_pending

        done = _step(self.say, "7. Dispatch the e-mails (into the local mail folder, no server)")
        printer = self.progress("   e-mails")
        sent = dispatch_pending(self.container, progress=lambda r: printer(r.processed))
        done(f"{sent.sent:,} e-mails in {self.settings.mail_dir}, {sent.failed + sent.dead} failed")

    def claims(self, share: float) -> tuple[int, Path | None]:
        """Claim a share of the links over HTTP; returns the claims and an unclaimed e-mail."""
        done = _step(
            self.say, f"8. {share:.0%} of subscribers open their link and claim, over HTTP"
        )
        mails = sorted(self.settings.mail_dir.glob("*.eml"))
        step = max(1, round(1 / share)) if share else len(mails) + 1
        chosen = [tok for path in mails[::step] if (tok := claim_token_in(path))]
        with running_server(self.settings, self.directory / "serve.log") as base_url:
            claimed, other = claim_over_http(base_url, chosen)
        done(f"{claimed:,} claims accepted, {other} other answers, at {base_url}/claim/...")
        return claimed, (mails[1] if len(mails) > 1 and step > 1 else None)

    def billing(self) -> None:
        from makegood.domain.money import format_major
        from makegood.services.billing_close import close_through

        done = _step(self.say, "9. Billing close through the next month")
        through = self.today + timedelta(days=40)
        closed = close_through(self.container, through)
        applied = {c: format_major(v, c) for c, v in closed.credits_applied_minor.items()}
        done(
            f"{closed.statements_created:,} statements through {through}; "
            f"credits applied {_amounts(applied)}"
        )

    def report(self, campaign_id: str) -> None:
        from makegood.services.reports import campaign_report

        done = _step(self.say, "10. Report")
        with self.container.uow() as uow:
            report = campaign_report(uow, campaign_id)
        funnel = ", ".join(
            f"{k} {report[k]:,}" for k in ("affected", "offered", "notified", "claimed", "applied")
        )
        done(
            f"{funnel}; claim rate {report['claim_rate']:.1%}; "
            f"applied {_amounts(report['applied_amount'])}"
        )


def run_demo(
    directory: Path,
    say: Say,
    accounts: int = 50_000,
    claim_share: float = 0.1,
    seed: int = 7,
    today: date | None = None,
    progress: ProgressLine | None = None,
) -> DemoResult:
    """Build the world in `directory` (replacing an earlier demo there) and run every step;
    `progress(label)` gives the callback a long step reports its count to (the CLI's printer)."""
    started = time.monotonic()
    _fresh(directory)
    today = today or date.today()  # noqa: DTZ011 - the demo's outage is the day before yesterday
    story = DemoStory(directory, say, accounts, seed, today, progress or _quiet)
    try:
        world = story.world()
        story.imports(world)
        incident_id = story.incident(world)
        story.cohort(world)
        campaign_id = story.campaign(world, incident_id)
        story.launch(campaign_id)
        story.dispatch()
        claims, unclaimed = story.claims(claim_share)
        story.billing()
        story.report(campaign_id)
    finally:
        story.container.engine.dispose()
    sample = None
    if unclaimed is not None and (token := claim_token_in(unclaimed)):
        sample = f"{story.settings.public_base}/claim/{token}"
    say(f"\nDone in {time.monotonic() - started:.0f} s.")
    return DemoResult(directory, story.settings.database_url, campaign_id, claims, sample)
