"""Errors as the API answers them: a JSON object ``{"error": message}`` with a 4xx status;
pages get a short HTML page instead."""

from __future__ import annotations

import math

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

# Paths whose errors are JSON: the annotators' API and what Label Studio calls.
JSON_PREFIXES = ("/api/", "/labelstudio/")


class ApiError(Exception):
    """An error answered with ``status`` and ``message`` (which names the bad value)."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_error)


def make_json_error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="labeler"'
    return response


def _handle_api_error(error: ApiError) -> Response:
    response = make_json_error(error.status, error.message)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return response


def _handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    message = {
        404: "not found",
        405: f"method {request.method} not allowed here",
        413: "request body too large",
    }.get(status, error.description or error.name)
    if request.path.startswith(JSON_PREFIXES):
        return make_json_error(status, message)
    return render_template("error.html", status=status, message=message), status
