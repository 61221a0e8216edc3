"""How fast the `makegood` command starts (issue 13, item 4: at most 0.4 s).

Each command runs as a user runs it, the installed `makegood` script in a fresh process, and
against the interpreter's own start-up (`python -c pass`) in the same run:

- `makegood --help`;
- `makegood campaign approve ID` with no work to do: an unknown id (exit 3) and a campaign
  approved already (exit 4), on a SQLite file and, with `--database-url`, on that database too;
- with `--uv`, `uv run makegood campaign approve ID` as well, to show what `uv run` adds;
- with `--against PATH`, the same commands of another installation's `makegood` (a checkout
  from before a change, with its own environment: `make install` there) in the same rounds,
  so that a before / after pair meets the same load (its lines are marked "against").

The commands take turns (one round runs each once, after one warm-up round), so a change in the
machine's load hits them alike. Each figure is the median over the rounds of the process's
wall time and of its CPU time (user + system, from wait4), with the fastest and slowest wall
time beside it; the load average is printed before and after.

    uv run python bench/startup.py                      # SQLite only, 11 rounds
    uv run python bench/startup.py --runs 21 --uv \\
        --database-url postgresql://postgres@127.0.0.1:5432/startup_bench
    uv run python bench/startup.py --against /work/before/.venv/bin/makegood

`--database-url` names a database the script may write to: it is migrated and gets a small
world (200 accounts) and one approved campaign, like the SQLite file in a temporary directory.

It first compiles makegood's byte-code, as `make install` does: where PYTHONDONTWRITEBYTECODE is
set (this machine), a module edited since the install is otherwise compiled anew by every
command it times (0.01-0.02 s each for `cli/main.py` or `store/tables.py`).
"""

# The commands run are this environment's own `makegood` and interpreter.
# ruff: noqa: S603

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MAKEGOOD = str(Path(sys.executable).with_name("makegood"))
TARGET_SECONDS = 0.4


@dataclass
class Timed:
    label: str
    argv: list[str]
    env: dict[str, str]
    expect: int
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self) -> None:
        started = time.perf_counter()
        process = subprocess.Popen(
            self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(usage.ru_utime + usage.ru_stime)
        code = os.waitstatus_to_exitcode(status)
        if code != self.expect:
            raise RuntimeError(f"{self.label}: exit {code}, expected {self.expect}")


def _makegood(env: dict[str, str], *args: str) -> str:
    """Run `makegood ARGS`; its standard output's last line (an id), or ""."""
    out = subprocess.run([MAKEGOOD, *args], env=env, capture_output=True, text=True, check=True)
    return (out.stdout.strip().splitlines() or [""])[-1]


def approved_campaign(url: str, world: Path) -> str:
    """Migrate the database at `url`, import the small world, and approve one campaign."""
    env = {**os.environ, "MAKEGOOD_DATABASE_URL": url}
    _makegood(env, "db", "upgrade")
    _makegood(env, "import", "plans", str(world / "plans.csv"))
    _makegood(env, "import", "accounts", str(world / "accounts.csv"))
    incident = _makegood(
        env,
        "incident",
        "create",
        "--title",
        "Start-up benchmark",
        "--start",
        "2026-03-21T18:40:00+00:00",
        "--end",
        "2026-03-21T22:55:00+00:00",
    )
    campaign = _makegood(env, "campaign", "create", incident, "--events", str(world / "attempts"))
    _makegood(env, "campaign", "approve", campaign)
    return campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="rounds counted (default 11)")
    parser.add_argument("--database-url", help="also measure on this database (e.g. PostgreSQL)")
    parser.add_argument("--uv", action="store_true", help="also `uv run makegood ...`")
    parser.add_argument(
        "--against", help="also this other installation's makegood, in the same rounds"
    )
    args = parser.parse_args()
    import makegood  # the package this environment's `makegood` runs

    compileall.compile_dir(Path(makegood.__file__).parent, quiet=2)

    with tempfile.TemporaryDirectory(prefix="makegood-startup-") as tmp:
        world = Path(tmp) / "world"
        subprocess.run(
            [MAKEGOOD, "demo", "generate", "--accounts", "200", "--days", "2", "--out", str(world)],
            check=True,
            capture_output=True,
        )
        urls = {"SQLite": f"sqlite:///{Path(tmp) / 'makegood.db'}"}
        if args.database_url:
            urls["PostgreSQL" if "postgres" in args.database_url else "database"] = (
                args.database_url
            )
        base = {k: v for k, v in os.environ.items() if not k.upper().startswith("MAKEGOOD_")}
        installs = {"": MAKEGOOD}
        if args.against:
            installs["against: "] = args.against
        commands = [Timed("python -c pass", [sys.executable, "-c", "pass"], base, 0)]
        commands += [
            Timed(f"{mark}makegood --help", [script, "--help"], base, 0)
            for mark, script in installs.items()
        ]
        for name, url in urls.items():
            campaign = approved_campaign(url, world)
            env = {**base, "MAKEGOOD_DATABASE_URL": url}
            for mark, script in installs.items():
                approve = [script, "campaign", "approve"]
                commands += [
                    Timed(f"{mark}approve, unknown id ({name})", [*approve, "cmp_unknown"], env, 3),
                    Timed(
                        f"{mark}approve, approved already ({name})", [*approve, campaign], env, 4
                    ),
                ]
            if args.uv and shutil.which("uv"):
                uv = ["uv", "run", "--project", str(Path(__file__).parents[1]), "makegood"]
                commands.append(
                    Timed(
                        f"uv run: approve, approved already ({name})",
                        [*uv, "campaign", "approve", campaign],
                        env,
                        4,
                    )
                )

        load_before = os.getloadavg()
        for command in commands:  # warm-up: files in the page cache, byte-code read once
            command.run()
        for command in commands:
            command.wall.clear()
            command.cpu.clear()
        for _ in range(args.runs):
            for command in commands:
                command.run()
        load_after = os.getloadavg()

    floor = statistics.median(commands[0].wall)
    print(
        f"{args.runs} rounds; load average {load_before[0]:.1f} before, {load_after[0]:.1f} "
        f"after; target {TARGET_SECONDS} s wall"
    )
    print(f"{'command':<50} {'wall s':>7} {'cpu s':>7} {'min-max wall':>14} {'x pass':>7}")
    for command in commands:
        wall = statistics.median(command.wall)
        cpu = statistics.median(command.cpu)
        spread = f"{min(command.wall):.3f}-{max(command.wall):.3f}"
        print(f"{command.label:<50} {wall:7.3f} {cpu:7.3f} {spread:>14} {wall / floor:7.1f}")


if __name__ == "__main__":
    main()
