"""The request edge (issue 12, items 2 and 4): bodies over the limit are refused with 413 before
they are read, anonymous callers before any of their body is read, and control characters in
paths (404), query strings and fields (422) never reach the database, on SQLite and PostgreSQL.

The "before it is read" tests speak HTTP over a socket to a real server and send the headers
only: a server that waited for the body would never answer.
"""

from __future__ import annotations

import json
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.notify.feedback import signature
from makegood.store import tables as t
from makegood.web.app import create_app
from makegood.web.auth import SESSION_COOKIE
from tests.factories.offers import seed_offer
from tests.factories.staff import add_staff, api_key, count, email_for, session_cookie
from tests.harness.console import CSRF_FIELD

SECRET = "whsec-test"
INCIDENT = {"title": "Outage", "starts_at": "2026-03-22T20:00:00Z", "ends_at": "2026-03-22T22:00Z"}


def with_settings(container: Container, **changes: object) -> Container:
    return replace(container, settings=container.settings.model_copy(update=changes))


@contextmanager
def served(app: FastAPI) -> Iterator[int]:
    """`app` under uvicorn on a free port of 127.0.0.1; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        waited = threading.Event()
        while not server.started:  # the server's own flag; bail out if it died
            assert thread.is_alive(), "uvicorn stopped before it started"
            waited.wait(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def headers_only(port: int, path: str, headers: dict[str, str]) -> int:
    """Send a POST's headers and none of its body; the status line of the answer."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            status_line = conn.recv(4096).split(b"\r\n", 1)[0]
        except TimeoutError:
            pytest.fail(f"POST {path}: no answer until the body was sent")
    return int(status_line.split()[1])


def test_callers_are_authenticated_and_sizes_checked_before_the_body_is_read(
    container: Container,
) -> None:
    box = with_settings(container, email_webhook_secret=SECRET, max_body_bytes=1024 * 1024)
    key = api_key(container)
    stale = str(int(container.now().timestamp()) - 3600)
    with served(create_app(box)) as port:
        api = {"Content-Type": "application/json", "Content-Length": "1000"}
        assert headers_only(port, "/api/v1/incidents", api) == 401
        huge = {**api, **key, "Content-Length": str(150 * 1024 * 1024)}
        assert headers_only(port, "/api/v1/incidents", huge) == 413
        form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "100"}
        assert headers_only(port, "/console/campaigns/cmp_x/approve", form) == 303  # to login
        big_form = {**form, "Content-Length": str(2 * 1024 * 1024)}
        for path in ("/genuine", "/console/login", "/claim/abc"):
            assert headers_only(port, path, big_form) == 413, path
        signed = {
            "Content-Type": "application/json",
            "Content-Length": "1000",
            "X-Makegood-Timestamp": stale,
            "X-Makegood-Signature": "v1=00",
        }
        assert headers_only(port, "/webhooks/email", signed) == 401
        fresh = str(int(container.now().timestamp()))
        too_big = {**signed, "X-Makegood-Timestamp": fresh, "Content-Length": str(11 << 20)}
        assert headers_only(port, "/webhooks/email", too_big) == 413


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A JSON-looking body of `total` bytes, sent chunked (no Content-Length)."""
    yield b'{"title": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def test_chunked_bodies_are_counted_while_they_stream(container: Container) -> None:
    box = with_settings(
        container,
        email_webhook_secret=SECRET,
        max_body_bytes=64 * 1024,
        max_webhook_body_bytes=256 * 1024,
    )
    key = api_key(container)
    before = count(container, t.incidents)
    with served(create_app(box)) as port, httpx.Client(timeout=30) as client:
        base = f"http://127.0.0.1:{port}"
        answer = client.post(f"{base}/api/v1/incidents", content=chunks(1 << 20), headers=key)
        assert answer.status_code == 413
        assert answer.json() == {
            "error": "too_large",
            "detail": "request body larger than 65536 bytes",
        }
        # The webhook's own limit; the signature cannot be checked before the body is read.
        ts = str(int(container.now().timestamp()))
        webhook = client.post(
            f"{base}/webhooks/email",
            content=chunks(1 << 20),
            headers={"X-Makegood-Timestamp": ts, "X-Makegood-Signature": "v1=00"},
        )
        assert webhook.status_code == 413
        # Under the limit, the same routes work as before.
        small = client.post(f"{base}/api/v1/incidents", json=INCIDENT, headers=key)
        assert small.status_code == 201, small.text
        events = json.dumps({"events": []}).encode()
        fine = client.post(
            f"{base}/webhooks/email",
            content=events,
            headers={
                "X-Makegood-Timestamp": ts,
                "X-Makegood-Signature": signature(SECRET, ts, events),
            },
        )
        assert fine.status_code == 200, fine.text
    assert count(container, t.incidents) == before + 1


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(
        create_app(container), follow_redirects=False, raise_server_exceptions=False
    ) as client:
        yield client


def test_control_characters_in_ids_fields_and_queries_are_refused_at_the_edge(
    client: TestClient, container: Container
) -> None:
    seeded = seed_offer(container.engine, container.now())
    add_staff(container, "viewer")
    key = api_key(container)
    before = count(container, t.incidents)

    page = client.get("/console/login")
    csrf = CSRF_FIELD.search(page.text)
    assert csrf
    login = client.post(
        "/console/login",
        data={"email": "vie\x00wer@care.example.com", "password": "x", "csrf_token": csrf[1]},
    )
    assert login.status_code == 422, login.text
    for nul in ("\x00", "\x1b", "\x7f", "\x85", "\t"):
        title = client.post(
            "/api/v1/incidents", json={**INCIDENT, "title": f"Out{nul}age"}, headers=key
        )
        assert title.status_code == 422, (repr(nul), title.text)
        assert title.json() == {
            "error": "invalid_input",
            "detail": "title: control characters (such as NUL) are not accepted",
        }
    regions = client.post(
        "/api/v1/incidents", json={**INCIDENT, "regions": ["eu", "u\x00s"]}, headers=key
    )
    assert regions.status_code == 422
    assert "regions[1]" in regions.json()["detail"]

    for query in (
        "/api/v1/accounts?email=jane%00@example.com",
        f"/api/v1/offers?account_id={seeded.account_id}%00",
        "/api/v1/campaigns?incident_id=inc%00",
        "/api/v1/audit?subject_id=x%00",
    ):
        answer = client.get(query, headers=key)
        assert answer.status_code == 422, (query, answer.status_code)
        assert answer.json()["error"] == "invalid_input"
    for path in (
        f"/api/v1/accounts/{seeded.account_id}%00",
        "/api/v1/incidents/inc%00",
        "/api/v1/offers/ofr%00",
        f"/api/v1/accounts/{seeded.account_id}%00/messages",
    ):
        assert client.get(path, headers=key).status_code == 404, path
    assert client.get(f"/claim/{seeded.token}%00").status_code == 404

    client.cookies.set(
        SESSION_COOKIE, session_cookie(container, add_staff(container, "agent"))[SESSION_COOKIE]
    )
    assert client.get("/console/support", params={"q": "jane\x00"}).status_code == 422
    assert client.get(f"/console/accounts/{seeded.account_id}%00").status_code == 404
    assert client.get("/console/incidents/inc%00").status_code == 404
    assert client.get("/console/audit", params={"before": "1\x00"}).status_code == 422
    assert count(container, t.incidents) == before
    # Ordinary text still passes: the check is about control characters only.
    assert client.get("/console/support", params={"q": "jane.doe@example.com"}).status_code == 303
    fine = client.post(
        "/api/v1/incidents", json={**INCIDENT, "title": "Ausfall «Wiedergabe» — 東京"}, headers=key
    )
    assert fine.status_code == 201
    assert email_for("viewer") not in login.text


def test_multipart_forms_are_refused(client: TestClient) -> None:
    answer = client.post("/console/login", files={"email": (None, "a\x00b@example.com")})
    assert answer.status_code == 415
