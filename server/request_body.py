"""Reading a request's JSON body: a JSON object, or 400 saying what was expected."""

from __future__ import annotations

from typing import Any

from flask import request

from server.errors import ApiError


def get_json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(
            400, "the request body must be a JSON object (Content-Type: application/json)"
        )
    return body
