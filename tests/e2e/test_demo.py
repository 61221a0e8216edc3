"""`makegood demo` runs the whole story (README's first command), here on a small world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from makegood.cli.main import cli
from makegood.settings import get_settings


@pytest.mark.slow
def test_demo_runs_the_story_and_claims_over_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "demo"
    demo = CliRunner().invoke(
        cli, ["demo", "--dir", str(out), "--accounts", "2000", "--claim-share", "0.25"]
    )
    assert demo.exit_code == 0, demo.output
    campaign_id = demo.stdout.strip().splitlines()[-1]
    assert campaign_id.startswith("cmp_")
    assert "an unclaimed link:  http://127.0.0.1:8000/claim/" in demo.stderr
    # The closing hint names the commands as they run after `make demo` (in uv's environment).
    assert "\n  uv run makegood serve " in demo.stderr
    assert f"\n  uv run makegood report {campaign_id}" in demo.stderr

    monkeypatch.setenv("MAKEGOOD_DATABASE_URL", f"sqlite:///{out / 'makegood.db'}")
    get_settings.cache_clear()
    try:
        report = CliRunner().invoke(cli, ["report", campaign_id, "--json"])
    finally:
        get_settings.cache_clear()
    data = json.loads(report.stdout)
    assert data["offered"] > 0
    assert data["notified"] == data["offered"] == len(list((out / "mail").glob("*.eml")))
    # Every fourth e-mail's link was claimed through `makegood serve`, and billed.
    assert data["claimed"] == data["applied"] == -(-data["offered"] // 4)
