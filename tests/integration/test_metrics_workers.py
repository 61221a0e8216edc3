"""`makegood serve --workers 2`: one set of figures whichever worker answers the scrape, and
(with MAKEGOOD_RATE_LIMIT_STORAGE naming a Redis) one rate limit whichever worker counts.

Real processes: the server is started as an operator would, requests go over new connections
(so the kernel hands them to either worker) until both workers have answered some.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from makegood.observability.metrics_dir import VARIABLE, shared_metrics_dir
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade

TOKEN = "scrape-me-0123456789"
SAMPLE = re.compile(r"^([a-z_]+)(\{.*\})? (\S+)$")
ROUTE = '{method="POST",route="/claim/{token}",status="4xx"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(base: str) -> dict[str, float]:
    # A new connection each time: any worker may answer.
    response = httpx.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"}
    )
    assert response.status_code == 200
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = ",".join(sorted((match.group(2) or "").strip("{}").split(",")))
            samples[f"{match.group(1)}{{{labels}}}" if labels else match.group(1)] = float(
                match.group(3)
            )
    return samples


def workers_that_counted_claims(directory: Path) -> set[str]:
    """Pids of the workers that wrote a counter (only a claim request writes one)."""
    return {p.stem.split("_")[-1] for p in directory.glob("counter_*.db")}


@contextmanager
def serving(tmp_path: Path, **settings: str) -> Iterator[tuple[str, Path]]:
    """`makegood serve --workers 2` over a fresh SQLite file, its figures in a directory of
    the test's (named by PROMETHEUS_MULTIPROC_DIR, so the test sees which workers counted);
    yields the base URL and that directory, and stops the server on exit."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "counter_1.db").write_bytes(b"left by an earlier run")  # must not be added
    port = free_port()
    env = {
        **os.environ,
        "MAKEGOOD_DATABASE_URL": url,
        "MAKEGOOD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MAKEGOOD_METRICS_TOKEN": TOKEN,
        VARIABLE: str(figures),
        **settings,
    }
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "makegood", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.05)  # polling a condition with a deadline, not synchronising
            assert not (figures / "counter_1.db").exists()
            yield base, figures
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert server.returncode == 0, log_path.read_text()


def refused_claim(base: str) -> int:
    """POST /claim without its form (403, a failed lookup), on a new connection: the kernel
    hands it to either worker. The answering worker counts it in makegood_claims_total."""
    return httpx.post(f"{base}/claim/not-a-link", headers={"Connection": "close"}).status_code


@pytest.mark.slow
def test_two_workers_report_one_total(tmp_path: Path) -> None:
    # every refused claim is answered, never 429
    with serving(tmp_path, MAKEGOOD_CLAIM_FAILURES_PER_MINUTE="0") as (base, figures):
        # New connections until both workers have answered some.
        sent = 0
        while len(workers_that_counted_claims(figures)) < 2 and sent < 2000:
            assert refused_claim(base) == 403
            sent += 1
        assert len(workers_that_counted_claims(figures)) == 2, f"one worker got all {sent}"
        for _ in range(3):  # a scrape answered by either worker says the same
            samples = scrape(base)
            assert samples['makegood_claims_total{outcome="403"}'] == sent
            assert samples["makegood_claim_duration_seconds_count"] == sent
            assert samples[f"makegood_http_request_duration_seconds_count{ROUTE}"] == sent
            assert samples["makegood_database_up"] == 1


@pytest.mark.slow
def test_two_workers_sharing_redis_hold_one_limit(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    limit = 20
    with serving(
        tmp_path,
        MAKEGOOD_CLAIM_FAILURES_PER_MINUTE=str(limit),
        MAKEGOOD_RATE_LIMIT_STORAGE=redis_url,
        MAKEGOOD_RATE_LIMIT_PREFIX=redis_prefix,
    ) as (base, figures):
        assert [refused_claim(base) for _ in range(limit)] == [403] * limit
        # Both workers took some, so neither has counted `limit` failures on its own: a limit
        # per process (memory://) would answer the next ones 403 whichever worker takes them.
        assert len(workers_that_counted_claims(figures)) == 2, "one worker got all of them"
        assert [refused_claim(base) for _ in range(6)] == [429] * 6
        assert scrape(base)['makegood_claims_total{outcome="403"}'] == limit


def test_several_workers_get_a_private_directory_removed_at_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    with shared_metrics_dir(1) as none:
        assert none is None
        assert VARIABLE not in os.environ
    with shared_metrics_dir(3) as made:
        assert made is not None
        assert made.is_dir()
        assert os.environ[VARIABLE] == str(made)
        (made / "counter_7.db").write_bytes(b"")
    assert not made.exists()
    assert VARIABLE not in os.environ


def test_a_named_directory_that_is_not_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from makegood.domain.errors import InvalidInput

    monkeypatch.setenv(VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(InvalidInput, match=VARIABLE), shared_metrics_dir(2):
        pass
