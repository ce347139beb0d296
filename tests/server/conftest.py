"""Fixtures of the server tests: a tiny project with a queue, its app, tokens and clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labeler.store.project import open_project
from labeler.store.tokens import hash_token
from server.app import close_app, create_app
from server.live_server import CHROMIUM_ARGS, CHROMIUM_PATH, LiveServer, start_server

QUEUE_SIZE = 12


@pytest.fixture(scope="session")
def queued_project_template(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of the tiny dataset (40 pool, 20 test) with 12 random images queued."""
    from labeler.cli import main

    path = tmp_path_factory.mktemp("template") / "project"
    assert main(["init", str(path), "--images", str(tiny_dataset), "--image-size", "16"]) == 0
    args = ["round", str(path), "--initial", str(QUEUE_SIZE), "--initial-strategy", "random"]
    assert main(args) == 0
    return path


@pytest.fixture
def project(queued_project_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the queued project, with annotators ann, bob (annotators) and boss
    (admin); their tokens are ``TOKENS[name]``."""
    path = tmp_path / "project"
    shutil.copytree(queued_project_template, path)
    with open_project(path) as opened:
        for name, token in TOKENS.items():
            opened.store.add_annotator(name, token_hash=hash_token(token), is_admin=name == "boss")
    return path


TOKENS = {
    "ann": "ann-token-" + "a" * 32,
    "bob": "bob-token-" + "b" * 32,
    "boss": "boss-" + "c" * 32,
}


@pytest.fixture
def make_app(project: Path) -> Iterator[Callable[..., Flask]]:
    """Build the app of ``project`` with config overrides; closed after the test."""
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app({"PROJECT": str(project), "TESTING": True, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@dataclass
class Api:
    """A test client that sends one annotator's Bearer token."""

    client: FlaskClient
    token: str | None

    def _headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self._headers())

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=body, headers=self._headers(), **kwargs)


@pytest.fixture
def api_as(app: Flask) -> Callable[[str | None], Api]:
    """``api_as("ann")``: a client with ann's token; ``api_as(None)``: no credentials."""

    def make(name: str | None) -> Api:
        return Api(app.test_client(), None if name is None else TOKENS.get(name, name))

    return make


@pytest.fixture
def server(project: Path) -> Iterator[LiveServer]:
    """The annotation server of ``project`` on a free port, in its own process."""
    live = start_server(project)
    yield live
    live.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (installed by `make browser`)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM_PATH.exists(), f"{CHROMIUM_PATH} is missing: `make browser` installs it"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()
