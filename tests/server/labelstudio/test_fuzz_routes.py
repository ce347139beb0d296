"""What Label Studio calls on our server, fuzzed from the OpenAPI document (schemathesis): the
webhook, the ML backend protocol and the keyed images, on a project linked to a Label Studio
project, with the link's secret and without. No 5xx, and every answer as documented (status
codes, content types, JSON schemas)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from labeler.store.project import open_project
from server.labelstudio import format
from server.labelstudio.link import Link, save_link
from tests.server.fuzzing import fuzz_operation, list_operations
from tests.server.model_guesses import add_guessing_round

SECRET = "fuzz-secret-" + "s" * 24
OPERATIONS = list_operations("/labelstudio/")
BASIC = base64.b64encode(f"labelstudio:{SECRET}".encode()).decode()
CREDENTIALS = {
    "secret": {format.SECRET_HEADER: SECRET, "Authorization": f"Basic {BASIC}"},
    "none": {},
}


@pytest.fixture
def linked_app(project: Path, make_app: Any) -> Flask:
    """The app of a project with guesses for every image and a Label Studio link."""
    add_guessing_round(project, wrong_share=0.1)
    link = Link("abc", "http://ls.test/", 5, SECRET, "http://us.test/", {1: "a@b.c"})
    with open_project(project) as opened:
        save_link(opened.store, link)
    app: Flask = make_app()
    return app


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
@pytest.mark.parametrize("credentials", sorted(CREDENTIALS))
def test_every_label_studio_route_answers_as_documented(
    linked_app: Flask, operation: Any, credentials: str
) -> None:
    fuzz_operation(linked_app, operation, CREDENTIALS[credentials])
