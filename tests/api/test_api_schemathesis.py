"""schemathesis against the app's own OpenAPI schema: no request it generates from the
schema for any operation (as a coordinator, on the demo week) makes the server fail
with a 5xx, on SQLite and PostgreSQL. Bounded: a few examples per operation,
derandomised, so a run takes seconds and repeats itself."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from session_app import Tokens

EXAMPLES_PER_OPERATION = 15


def test_no_server_error(app: FastAPI, tokens: Tokens) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=tokens.header("coordinator"), checks=[not_a_server_error]
            )

        no_server_error()
