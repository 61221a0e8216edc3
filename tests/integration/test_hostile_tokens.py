"""Random and tampered claim tokens: 404 or 403 pages, never a 500, nothing changed.

Tampering starts from a real token (flip one character, truncate, extend, percent-encode,
unicode, 10 kB). POSTs carry a CSRF token the server would accept for the tampered token, so
the request reaches the offer lookup itself, not only the CSRF check.

Lookups go by SHA-256 hash: the claim_tokens table holds only 64-hex hashes, and no statement
the claim pages send to the database carries the raw token (checked by listening to every
statement's parameters). Comparing fixed-length hashes in an index lookup leaks nothing about
how much of a guessed token was right.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from makegood.bootstrap import Container
from makegood.domain.tokens import hash_token
from makegood.store import offers as offers_store
from makegood.web import csrf
from makegood.web.app import create_app
from makegood.web.csrf import NONCE_COOKIE
from tests.factories.offers import SeededOffer, seed_offer, snapshot

HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# "/" ends the path segment (a trailing one is answered by a 307 to the slash-less URL) and
# "%" would be decoded twice by the TestClient: free text leaves both out, fixed cases use them.
free_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="/%"),
    min_size=1,
    max_size=80,
)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    # Every example here is a failed lookup from the same client, on purpose: the failed-lookup
    # limit (tested in test_hostile_web.py) is raised so each one reaches the lookup itself.
    roomy = replace(
        container,
        settings=container.settings.model_copy(update={"claim_failures_per_minute": 100_000}),
    )
    with TestClient(create_app(roomy), follow_redirects=False) as client:
        yield client


@pytest.fixture
def seeded(container: Container) -> SeededOffer:
    return seed_offer(container.engine, container.now())


def tampered(real: str) -> st.SearchStrategy[str]:
    flip = st.tuples(st.integers(0, len(real) - 1), st.sampled_from(ALPHABET)).map(
        lambda p: real[: p[0]] + p[1] + real[p[0] + 1 :]
    )
    return st.one_of(
        flip.filter(lambda s: s != real),
        st.integers(0, len(real) - 1).map(lambda n: real[:n]),
        free_text.map(lambda s: real + s[:5]),
        # (a double-encoded real token is not tried: Starlette's TestClient decodes paths twice)
        st.just(f"%zz{real}"),
        st.just(real.upper() if real.upper() != real else real.lower()),
        st.just(real + "\u0301"),
        st.just(real[:-1] + "\u0131"),
        st.just("x" * 10_000),
        st.just(real * 200),
        st.just("%00" + real),
        st.just("../" + real),
        free_text,
    )


def check_refused(
    client: TestClient, container: Container, token: str, before: dict[str, Any]
) -> None:
    path = "/claim/" + quote(token, safe="")
    got = client.get(path)
    assert got.status_code in (404, 403), (got.status_code, got.text[:300])
    nonce = csrf.new_nonce()
    client.cookies.set(NONCE_COOKIE, nonce)
    form = {"csrf_token": csrf.csrf_token(container.settings.secret_key, nonce, hash_token(token))}
    posted = client.post(path, data=form)
    assert posted.status_code in (404, 403, 405), (posted.status_code, posted.text[:300])
    done = client.get(path + "/done")
    assert done.status_code in (404, 403), done.status_code
    assert snapshot(container.engine) == before


def test_tampered_tokens_are_refused_and_change_nothing(
    client: TestClient, container: Container, seeded: SeededOffer
) -> None:
    before = snapshot(container.engine)

    @HYPOTHESIS
    @given(token=tampered(seeded.token))
    def run(token: str) -> None:
        check_refused(client, container, token, before)

    run()
    # the real token still works afterwards: nothing was spent or locked by the attempts
    assert client.get(f"/claim/{seeded.token}").status_code == 200


@HYPOTHESIS
@given(token=free_text)
def test_random_tokens_are_refused_and_change_nothing(
    client: TestClient, container: Container, token: str
) -> None:
    before = snapshot(container.engine)
    check_refused(client, container, token, before)


def test_claim_tokens_are_stored_and_looked_up_only_by_hash(
    client: TestClient, container: Container, seeded: SeededOffer
) -> None:
    with container.engine.connect() as conn:
        hashes = sorted(offers_store.Offers(conn).live_link_hashes())
    assert hashes == [hash_token(seeded.token)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)

    sent: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append(f"{statement} {params!r}")

    wrong = seeded.token[:-1] + ("A" if seeded.token[-1] != "A" else "B")
    sa.event.listen(container.engine, "before_cursor_execute", listen)
    try:
        assert client.get(f"/claim/{seeded.token}").status_code == 200
        assert client.get(f"/claim/{wrong}").status_code == 404
    finally:
        sa.event.remove(container.engine, "before_cursor_execute", listen)
    assert sent, "the pages must have queried the database"
    assert not [s for s in sent if seeded.token in s or wrong in s]
    assert any(hash_token(seeded.token) in s for s in sent)
    assert any(hash_token(wrong) in s for s in sent)
