"""What Label Studio calls on our server, fuzzed from the OpenAPI document (schemathesis): the
webhook, the ML backend protocol and the keyed images, on a project linked to a Label Studio
project, with the link's secret and without. No 5xx, and every answer as documented (status
codes, content types, JSON schemas)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from labeler.store.project import open_project
from server.api import OPENAPI_FILE
from server.labelstudio import format
from server.labelstudio.link import Link, save_link
from tests.server.conftest import TOKENS
from tests.server.model_guesses import add_guessing_round

N_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SECRET = "fuzz-secret-" + "s" * 24
SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)
OPERATIONS = [
    result.ok()
    for result in SCHEMA.get_all_operations()
    if result.ok().path.startswith("/labelstudio/")
]
BASIC = base64.b64encode(f"labelstudio:{SECRET}".encode()).decode()
CREDENTIALS = {
    "secret": {format.SECRET_HEADER: SECRET, "Authorization": f"Basic {BASIC}"},
    "none": {},
}


@pytest.fixture
def linked_app(project: Path, make_app: Any) -> Flask:
    """The app of a project with guesses for every image and a Label Studio link."""
    add_guessing_round(project, wrong_share=0.1)
    with open_project(project) as opened:
        save_link(
            opened.store, Link("abc", "http://ls.test/", 5, SECRET, "http://us.test/", {1: "a@b.c"})
        )
    app: Flask = make_app()
    return app


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
@pytest.mark.parametrize("credentials", sorted(CREDENTIALS))
def test_every_label_studio_route_answers_as_documented(
    linked_app: Flask, operation: Any, credentials: str
) -> None:
    served = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", linked_app, headers={"Authorization": f"Bearer {TOKENS['boss']}"}
    )
    operation = served.find_operation_by_label(operation.label)
    headers = CREDENTIALS[credentials]

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
