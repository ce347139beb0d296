"""The Label Studio client's own behaviour: which kind a token is, retries with backoff when
Label Studio cannot be reached, and one-line errors (a real closed port stands in for a
Label Studio that is down; the integration tests check the 401 of a real server)."""

from __future__ import annotations

import base64
import json
import logging
import time

import pytest

from server.labelstudio.client import (
    LEGACY_KIND,
    PAT_KIND,
    LabelStudioClient,
    LabelStudioError,
    describe_token,
    get_detail,
)
from tests.server.labelstudio.conftest import get_free_port


def make_jwt(payload: dict[str, object]) -> str:
    parts = [{"alg": "HS256", "typ": "JWT"}, payload]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts]
    return ".".join([*encoded, "c2lnbmF0dXJl"])


def test_a_jwt_is_a_personal_access_token_and_anything_else_a_legacy_token() -> None:
    assert describe_token(make_jwt({"exp": 4102444800, "token_type": "refresh"})) == PAT_KIND
    assert describe_token("0123456789abcdef0123456789abcdef01234567") == LEGACY_KIND
    assert describe_token("not.a.jwt") == LEGACY_KIND


def test_an_unreachable_label_studio_is_retried_with_backoff_then_named(caplog) -> None:
    url = f"http://127.0.0.1:{get_free_port()}"
    client = LabelStudioClient(url, "0" * 40, attempts=3, backoff=0.1)
    started = time.monotonic()
    with (
        caplog.at_level(logging.INFO, logger="server.labelstudio.client"),
        pytest.raises(LabelStudioError) as raised,
    ):
        client.list_projects()
    message = str(raised.value)
    assert message.startswith(f"Label Studio at {url} is unreachable")
    assert "3 tries" in message and "\n" not in message
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert [r.getMessage().rsplit("in ", 1)[1] for r in retries] == ["0.1 s", "0.2 s"]
    assert time.monotonic() - started >= 0.1 + 0.2


def test_an_expired_personal_access_token_is_refused_by_kind() -> None:
    expired = make_jwt({"exp": 1, "token_type": "refresh"})
    with pytest.raises(LabelStudioError, match=r"refused the personal access token \(JWT\)"):
        LabelStudioClient("http://127.0.0.1:9", expired)


def test_a_missing_token_names_where_it_comes_from() -> None:
    with pytest.raises(LabelStudioError, match="LABEL_STUDIO_API_KEY"):
        LabelStudioClient("http://127.0.0.1:9", " ")


def test_a_refusal_names_the_field_and_the_reason() -> None:
    """The body of Label Studio 1.23.2's 400 to a model version without predictions."""
    body = {
        "id": "63a14080",
        "status_code": 400,
        "version": "1.23.2",
        "detail": "Validation error",
        "exc_info": None,
        "validation_errors": {
            "model_version": [
                "Model version doesn't exist either as live model or as static predictions."
            ]
        },
    }
    assert get_detail(body) == (
        "Validation error (model_version: Model version doesn't exist either as live model "
        "or as static predictions.)"
    )
    assert get_detail({"detail": "Not found."}) == "Not found."
    assert get_detail({"validation_errors": {"title": "too short"}}) == "title: too short"
    assert get_detail({"error": "x"}) == "{'error': 'x'}"
    assert get_detail("") == "no detail"
