"""The annotators' API fuzzed from its own OpenAPI document (schemathesis): every operation,
with a valid token and with none, must answer without a 5xx and as the document says
(status codes, content types, JSON schemas, no header or method the document does not allow).

The served document lists the project's class names and its largest sample id, so generated
labels name real classes and samples. Left out: schemathesis's "schema-valid data is accepted"
check, which still meets two refusals no static schema can state: a test sample's id (held
out, never labeled) and a request id reused for other content. Both answer 400 naming the
value (tests/server/test_api.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.server.conftest import TOKENS
from tests.server.fuzzing import fuzz_operation, list_operations
from tests.server.model_guesses import add_guessing_round

# The annotators' API; the Label Studio routes have their own secret and test.
OPERATIONS = list_operations("/api/")


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
    headers = {} if token is None else {"Authorization": f"Bearer {TOKENS[token]}"}
    fuzz_operation(guessing_app, operation, headers)
