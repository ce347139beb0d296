"""Fuzzing one operation of the served OpenAPI document with schemathesis, in-process."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from server.api import OPENAPI_FILE
from tests.server.conftest import TOKENS

N_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)


def list_operations(prefix: str) -> list[Any]:
    """The document's operations whose path starts with ``prefix``."""
    return [
        result.ok() for result in SCHEMA.get_all_operations() if result.ok().path.startswith(prefix)
    ]


def fuzz_operation(app: Flask, operation: Any, headers: dict[str, str]) -> None:
    """Send ``N_EXAMPLES`` generated requests (seeded) for ``operation`` with ``headers`` and
    check every answer against the document the app serves (its project's class names and
    sample ids filled in). Left out: schemathesis's "schema-valid data is accepted" check
    (see tests/server/test_fuzz_api.py)."""
    served = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", app, headers={"Authorization": f"Bearer {TOKENS['boss']}"}
    )
    found = served.find_operation_by_label(operation.label)

    @settings(
        max_examples=N_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=found.as_strategy())
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
