"""Rate limits counted in Redis (MAKEGOOD_RATE_LIMIT_STORAGE): one count for every process that
uses the same store, keys that hold no address in clear, and what each limit does when the store
does not answer (docs/security.md, "Rate limits")."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.domain.tokens import new_token
from makegood.store import tables as t
from makegood.web.app import create_app
from tests.factories.staff import PASSWORD, add_staff, email_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Nothing answers on port 1: connections are refused at once.
DOWN = "redis://127.0.0.1:1/0"


def with_settings(container: Container, **changes: object) -> Container:
    """A container of its own (its own store: another process, as far as limits go)."""
    return replace(container, settings=container.settings.model_copy(update=changes))


def ask_status(client: TestClient, email: str) -> int:
    form = client.get("/credits")
    token = CSRF.search(form.text)
    assert token is not None
    answer: httpx.Response = client.post(
        "/credits", data={"email": email, "csrf_token": token.group(1)}
    )
    return answer.status_code


def requests_queued(container: Container) -> int:
    with container.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(t.credit_status_requests)
        ).scalar_one()


@pytest.fixture
def shared(container: Container, redis_url: str, redis_prefix: str) -> Container:
    return with_settings(container, rate_limit_storage=redis_url, rate_limit_prefix=redis_prefix)


def test_two_apps_sharing_redis_share_every_limit(
    shared: Container, redis_url: str, redis_prefix: str
) -> None:
    limits = {"status_requests_per_minute": 3, "status_emails_per_hour": 2}
    first = create_app(with_settings(shared, **limits))
    second = create_app(with_settings(shared, **limits))
    with TestClient(first) as one, TestClient(second) as two:
        # per e-mail address: 2 an hour, whichever process takes them; past it the page is
        # the same and nothing is queued
        assert ask_status(one, "Sam@Example.com") == 200
        assert ask_status(two, "sam@example.com") == 200
        assert ask_status(one, "SAM@example.com") == 200
        assert requests_queued(shared) == 2
        # per client address: 3 a minute across both (with memory:// each would allow 3)
        assert ask_status(two, "other@example.com") == 429
        assert ask_status(one, "third@example.com") == 429
        assert requests_queued(shared) == 2
    # a third "process" over the same store, built later, sees the same counts
    with TestClient(create_app(with_settings(shared, **limits))) as three:
        assert ask_status(three, "fourth@example.com") == 429

    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() for k in client.scan_iter(match=f"{redis_prefix}:*")]
    finally:
        client.close()
    assert keys, "the limits counted in Redis"
    assert all(k.startswith(f"{redis_prefix}:") for k in keys)
    text = " ".join(keys)
    for clear in ("testclient", "example.com", "sam@"):
        assert clear not in text


def test_failed_claim_lookups_add_up_across_apps(shared: Container) -> None:
    limited = with_settings(shared, claim_failures_per_minute=4)
    with (
        TestClient(create_app(limited)) as one,
        TestClient(create_app(limited)) as two,
    ):
        answers = [
            client.get(f"/claim/{new_token()}").status_code for client in (one, two, one, two)
        ]
        assert answers == [404] * 4
        assert one.get(f"/claim/{new_token()}").status_code == 429
        assert two.get(f"/claim/{new_token()}").status_code == 429


def test_the_same_limits_in_memory_are_per_process(container: Container) -> None:
    """What Redis changes: with memory:// (the default) each app counts on its own."""
    limited = with_settings(container, claim_failures_per_minute=2)
    with (
        TestClient(create_app(limited)) as one,
        TestClient(create_app(with_settings(limited))) as two,
    ):
        assert [one.get(f"/claim/{new_token()}").status_code for _ in range(3)] == [404, 404, 429]
        assert [two.get(f"/claim/{new_token()}").status_code for _ in range(3)] == [404, 404, 429]


def test_when_redis_is_down_claims_go_on_and_status_requests_and_logins_wait(
    container: Container,
) -> None:
    down = with_settings(container, rate_limit_storage=DOWN, claim_failures_per_minute=1)
    add_staff(down, "agent")
    with TestClient(create_app(down), follow_redirects=False) as client:
        # fail open: a claim page answers as without the limit (unknown link: 404, never 429)
        assert [client.get(f"/claim/{new_token()}").status_code for _ in range(3)] == [404] * 3
        assert client.post("/genuine", data={"code": "x"}).status_code == 200
        # fail closed: /credits queues nothing and says to come back
        form = client.get("/credits")
        token = CSRF.search(form.text)
        assert token is not None
        busy = client.post("/credits", data={"email": "a@example.com", "csrf_token": token[1]})
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "30"
        assert "We cannot take this request right now" in busy.text
        assert "default-src 'none'" in busy.headers["content-security-policy"]
        assert requests_queued(down) == 0
        # fail closed: no password is checked without its count
        login = client.get("/console/login")
        login_token = LOGIN_CSRF.search(login.text)
        assert login_token is not None
        refused = client.post(
            "/console/login",
            data={"email": email_for("agent"), "password": PASSWORD, "csrf_token": login_token[1]},
        )
        assert refused.status_code == 503
        assert "unavailable" in refused.text
        assert "mg_session" not in refused.headers.get("set-cookie", "")


def test_serve_refuses_to_start_when_the_store_does_not_answer(
    tmp_path: Path, database_url: str
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "MAKEGOOD_DATABASE_URL": database_url,
        "MAKEGOOD_RATE_LIMIT_STORAGE": "redis://:hunter2@127.0.0.1:1/0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "makegood", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "MAKEGOOD_RATE_LIMIT_STORAGE=redis://:***@127.0.0.1:1/0: the store does not" in (
        done.stderr
    )
    assert "hunter2" not in done.stderr
    env["MAKEGOOD_RATE_LIMIT_STORAGE"] = "memcached://127.0.0.1:11211"
    wrong = subprocess.run(
        [sys.executable, "-m", "makegood", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 2
    assert "MAKEGOOD_RATE_LIMIT_STORAGE: must be memory://" in wrong.stderr
