"""schemathesis against the served OpenAPI document: generated requests to every operation
(with a key holding every scope) never get a server error, and every answer matches the
document. A few examples per operation keep it to seconds."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from makegood.bootstrap import Container
from makegood.web.app import create_app
from tests.factories.offers import seed_offer
from tests.factories.staff import add_inapp_message, api_key, seed_draft

EXAMPLES = 25


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_api_has_no_server_errors_and_matches_its_document(container: Container) -> None:
    seeded = seed_offer(container.engine, container.now())
    add_inapp_message(container, seeded.offer_id, seeded.account_id)
    seed_draft(container, created_by="seed")
    headers = api_key(container)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(container))
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) == 19
    failures: list[str] = []
    calls = 0

    def fuzz(operation: Any) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def run(data: Any) -> None:
            nonlocal calls
            case = data.draw(operation.as_strategy())
            calls += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    response = case.call(headers=headers)
                case.validate_response(
                    response,
                    checks=(
                        not_a_server_error,
                        status_code_conformance,
                        response_schema_conformance,
                    ),
                )
            except Exception as exc:  # a server exception surfaces here through the ASGI client
                failures.append(f"{operation.label}: {type(exc).__name__}: {exc}".splitlines()[0])
                raise

        run()

    for operation in operations:
        try:
            fuzz(operation)
        except Exception:
            if not failures:  # not a finding of ours: a broken test must not pass
                raise
    assert calls >= len(operations) * 2, calls
    assert failures == [], "\n".join(sorted(set(failures)))
