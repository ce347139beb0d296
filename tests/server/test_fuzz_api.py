"""The annotators' API fuzzed from its own OpenAPI document (schemathesis): every operation,
with a valid token and with none, must answer without a 5xx and as the document says
(status codes, content types, JSON schemas, no header or method the document does not allow).

The served document lists the project's class names and its largest sample id, so generated
labels name real classes and samples. Left out: schemathesis's "schema-valid data is accepted"
check, which still meets two refusals no static schema can state: a test sample's id (held
out, never labeled) and a request id reused for other content. Both answer 400 naming the
value (tests/server/test_api.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from server.api import OPENAPI_FILE
from tests.server.conftest import TOKENS
from tests.server.model_guesses import add_guessing_round

N_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)
# The annotators' API; the Label Studio routes have their own secret and test.
OPERATIONS = [
    result.ok() for result in SCHEMA.get_all_operations() if result.ok().path.startswith("/api/")
]


@pytest.fixture
def guessing_app(project: Any, make_app: Any) -> Flask:
    """The app of a project whose last round guessed every image, so that grids are served."""
    add_guessing_round(project, wrong_share=0.1)
    app: Flask = make_app()
    return app


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
@pytest.mark.parametrize("token", ["boss", None], ids=["token", "no-token"])
def test_every_operation_answers_as_documented(
    guessing_app: Flask, operation: Any, token: str | None
) -> None:
    app = guessing_app
    headers = {} if token is None else {"Authorization": f"Bearer {TOKENS[token]}"}
    # The same document, served by the app, so that the cases are sent to it in-process.
    served = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", app, headers={"Authorization": f"Bearer {TOKENS['boss']}"}
    )
    operation = served.find_operation_by_label(operation.label)

    @settings(
        max_examples=N_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
