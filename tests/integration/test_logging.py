"""Structured logs: one JSON object a line, and no e-mail address or claim token in any field."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from makegood.bootstrap import Container
from makegood.cli.main import cli
from makegood.domain.policy import PercentOfPrice, single
from makegood.domain.tokens import new_token
from makegood.observability.structured_logs import JsonFormatter, MaskPersonalData
from makegood.services.build_jobs import submit_campaign
from makegood.services.campaign_command import CreateCampaign
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv
from tests.factories.offers import seed_offer
from tests.factories.staff import seed_draft
from tests.harness.net import free_port

EMAIL = "jane.doe@example.com"


def test_every_field_is_masked_in_json_lines() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(MaskPersonalData())
    logger = logging.getLogger("makegood.test.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = new_token()
    try:
        logger.info(
            "sent %s to %s via /claim/%s/done",
            "offer",
            EMAIL,
            token,
            extra={
                "recipient": EMAIL.upper(),
                "link": f"https://claims.test/claim/{token}",
                "claim_token": "short",
                "nested": {"to": [EMAIL], "raw": token},
                "offers": 3,
            },
        )
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "makegood.test.masking"
    assert entry["ts"].endswith("+00:00")
    assert entry["msg"] == "sent offer to <address> via /claim/<token>/done"
    assert entry["recipient"] == "<address>"
    assert entry["link"] == "https://claims.test/claim/<token>"
    assert entry["claim_token"] == "<redacted>"
    assert entry["nested"] == {"to": ["<address>"], "raw": "<token>"}
    assert entry["offers"] == 3
    assert token not in line
    assert EMAIL not in line.lower()


def test_a_served_claim_logs_json_without_personal_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seeded = seed_offer(engine, datetime.now(UTC), email=EMAIL)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": url,
        "MAKEGOOD_LOG_FORMAT": "json",
        "MAKEGOOD_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "makegood", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.05)  # polling a condition with a deadline, not synchronising
            with httpx.Client(base_url=base) as client:
                assert client.get(f"/claim/{seeded.token}").status_code == 200
                client.get(f"/claim/{seeded.token}", params={"from": EMAIL})
                client.get("/console/support", params={"email": EMAIL})
                client.get(f"/claim/{seeded.token}/done")
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log_path.read_text()
    # The CLI's own banner goes to stderr as human text; every log record is one JSON object.
    banner = [line for line in text.splitlines() if not line.startswith("{")]
    assert banner == [f"claim pages on http://127.0.0.1:{port}/claim/<token>; press Ctrl-C to stop"]
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "uvicorn.access"]
    assert len(access) >= 4, text
    assert any("/claim/<token>" in e["msg"] for e in access)
    assert all({"ts", "level", "logger", "msg"} <= e.keys() for e in lines)
    assert seeded.token not in text
    assert EMAIL not in text
    assert "jane.doe%40example.com" not in text


TRACEBACK_SCRIPT = """
import logging.config, sys
from makegood.observability.structured_logs import logging_config
from makegood.settings import Settings

logging.config.dictConfig(logging_config(Settings(log_format=sys.argv[1])))
try:
    raise ValueError("insert failed [parameters: {'email': '%s', 'link': '/claim/%s'}] %s")
except ValueError:
    logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
"""


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tracebacks_are_masked_in_every_log_format(log_format: str) -> None:
    """What `makegood serve` configures: an exception whose text quotes an address or a token
    (a database error quotes its statement's parameters) is logged masked."""
    token = new_token()
    script = TRACEBACK_SCRIPT % (EMAIL, token, token)
    result = subprocess.run(
        [sys.executable, "-c", script, log_format],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "Traceback" in result.stderr
    assert "ValueError: insert failed" in result.stderr
    assert EMAIL not in result.stderr
    assert token not in result.stderr
    assert "<address>" in result.stderr


def test_the_worker_logs_in_the_configured_format_without_personal_data(
    container: Container, tmp_path: Path
) -> None:
    """`makegood worker` configures logging as `serve` does: a build that fails unexpectedly
    (here DuckDB refuses its memory limit, quoting it, and it holds an address) is one JSON
    record with its traceback, masked."""
    draft = seed_draft(container, created_by="seed", accounts=1)
    events = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [attempt(draft.account_ids[0], "2026-03-22T20:10:00Z")],
    )
    campaign_id = submit_campaign(
        container,
        CreateCampaign(draft.incident_id, str(events), single(PercentOfPrice()), actor=EMAIL),
    )
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": container.settings.database_url,
        "MAKEGOOD_MAIL_DIR": str(tmp_path / "mail"),
        "MAKEGOOD_LOG_FORMAT": "json",
        # DuckDB's error quotes the unit it cannot read: the traceback carries the address.
        "MAKEGOOD_DUCKDB_MEMORY_LIMIT": f"1{EMAIL}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "makegood", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failed = [r for r in records if r["msg"] == f"build {campaign_id} failed"]
    assert [r["level"] for r in failed] == ["ERROR"], result.stderr
    assert "Traceback" in failed[0]["exc"]
    assert "Unknown unit for memory: '<address>'" in failed[0]["exc"], result.stderr
    assert EMAIL not in result.stderr


def test_a_command_run_in_process_gives_the_logging_it_replaced_back(
    container: Container,
) -> None:
    """Tests run commands in their own process: the worker's log handler (on a standard
    error that is gone once the command ends) must not outlive it."""
    root = logging.getLogger()
    before = (root.handlers[:], root.level)

    result = CliRunner().invoke(cli, ["worker", "--once"], obj=container, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert (root.handlers, root.level) == before
