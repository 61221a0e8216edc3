"""`make test` (README's test command) installs what the browser tests need, or stops saying
what is missing, so they never skip on a fresh machine (issue 12, item 19)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "system-deps"


def test_make_pytest_installs_the_system_packages_before_running_the_tests() -> None:
    dry = subprocess.run(
        ["make", "-n", "pytest"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    deps = next(i for i, line in enumerate(dry) if ".ci/system-deps" in line)
    tests = next(i for i, line in enumerate(dry) if " run pytest" in line)
    assert deps < tests


def test_ci_runs_the_same_step_as_make() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get" not in ci  # one place installs system packages: .ci/system-deps
    assert "make test" in ci


def test_without_a_way_to_install_it_says_what_is_missing_and_fails(tmp_path: Path) -> None:
    # A PATH with the tools the script reads but no apt-get: it cannot install, so it must stop.
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "id", "grep", "fc-list", "java", "env"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    run = subprocess.run(
        [str(tools / "bash"), str(SCRIPT)],
        env={**os.environ, "PATH": str(tools), "MAKEGOOD_CHROMIUM": str(tmp_path / "chromium")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "chromium" in run.stderr
    assert "apt-get install" in run.stderr
