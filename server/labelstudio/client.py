"""Calls to a Label Studio server through label-studio-sdk 2.x: retries with backoff when it
is down, and one-line errors (naming the URL, or the kind of token a 401 refused).

Requests and answers are plain dicts; ``server.labelstudio.format`` makes and reads them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from server.labelstudio.defaults import DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, TOKEN_ENV

logger = logging.getLogger(__name__)

PAT_KIND = "personal access token (JWT)"
LEGACY_KIND = "legacy token"
DEFAULT_TIMEOUT = 30.0
PAGE_SIZE = 100
# Answers that mean "busy or restarting, try again".
_RETRY_STATUSES = (502, 503, 504)

T = TypeVar("T")


class LabelStudioError(ValueError):
    """A one-line reason a call to Label Studio failed (the command line exits with 2)."""


class NotFoundError(LabelStudioError):
    """Label Studio answered 404: the project, task or webhook is not there."""


def describe_token(token: str) -> str:
    """Which kind of token this is: a personal access token is a JWT (three base64 parts, a
    JSON header with "alg"); anything else is sent as a legacy token."""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        except (ValueError, binascii.Error):
            return LEGACY_KIND
        if isinstance(header, dict) and "alg" in header:
            return PAT_KIND
    return LEGACY_KIND


class LabelStudioClient:
    """One Label Studio server at ``url`` with ``token`` (either kind; the SDK refreshes a
    personal access token itself). Calls that fail to connect, or get 502-504, are retried
    ``attempts`` times in all, waiting ``backoff`` seconds and doubling."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not token or not token.strip():
            raise LabelStudioError(
                f"no Label Studio token: pass --token or set {TOKEN_ENV} (a personal access "
                "token or a legacy token from Label Studio's Account & Settings)"
            )
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        self.url = url.rstrip("/")
        self.token_kind = describe_token(token.strip())
        self._attempts = attempts
        self._backoff = backoff
        try:
            # The SDK retries nothing here: this class decides what is safe to repeat.
            self._sdk = LabelStudio(
                base_url=self.url, api_key=token.strip(), timeout=timeout, max_retries=0
            )
        except ApiError as error:  # an expired JWT is refused before any request
            raise self._explain(error, "reading the token") from None

    # --- the calls the bridge makes --------------------------------------------------------

    def get_current_user(self) -> dict[str, Any]:
        return self._call("checking the token", lambda: _dump(self._sdk.users.whoami()))

    def list_users(self) -> list[dict[str, Any]]:
        return self._call("listing users", lambda: [_dump(u) for u in self._sdk.users.list()])

    def get_project(self, project_id: int) -> dict[str, Any]:
        """The project; NotFoundError when it is gone."""
        return self._call(
            f"reading project {project_id}", lambda: _dump(self._sdk.projects.get(project_id))
        )

    def list_projects(self) -> list[dict[str, Any]]:
        return self._call(
            "listing projects",
            lambda: _dump_all(self._sdk.projects.list(page_size=PAGE_SIZE)),
        )

    def create_project(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            "creating a project",
            lambda: _dump(self._sdk.projects.create(**fields)),
            repeatable=False,
        )

    def update_project(self, project_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            f"updating project {project_id}",
            lambda: _dump(self._sdk.projects.update(project_id, **fields)),
        )

    def list_tasks(self, project_id: int) -> list[dict[str, Any]]:
        """Every task of the project with its annotations and predictions."""
        return self._call(
            f"listing the tasks of project {project_id}",
            lambda: _dump_all(
                self._sdk.tasks.list(project=project_id, fields="all", page_size=PAGE_SIZE)
            ),
        )

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> None:
        """Import tasks in one request (Label Studio commits them together). Not repeated
        after a timeout, since the first try may have landed: the caller lists the tasks and
        imports only what is missing."""
        self._call(
            f"importing {len(tasks)} tasks into project {project_id}",
            lambda: self._sdk.projects.import_tasks(project_id, request=cast(Any, tasks)),
            repeatable=False,
        )

    def update_task(self, task_id: int, fields: dict[str, Any]) -> None:
        self._call(
            f"updating task {task_id}", lambda: self._sdk.tasks.update(str(task_id), **fields)
        )

    def delete_task(self, task_id: int) -> None:
        """Delete a task; one already gone counts as deleted."""
        with contextlib.suppress(NotFoundError):
            self._call(f"deleting task {task_id}", lambda: self._sdk.tasks.delete(str(task_id)))

    def list_predictions(self, task_id: int) -> list[dict[str, Any]]:
        return self._call(
            f"listing the predictions of task {task_id}",
            lambda: [_dump(p) for p in self._sdk.predictions.list(task=task_id)],
        )

    def create_prediction(self, task_id: int, prediction: dict[str, Any]) -> None:
        self._call(
            f"adding a prediction to task {task_id}",
            lambda: self._sdk.predictions.create(task=task_id, **prediction),
            repeatable=False,
        )

    def list_webhooks(self, project_id: int) -> list[dict[str, Any]]:
        return self._call(
            f"listing the webhooks of project {project_id}",
            lambda: [_dump(w) for w in self._sdk.webhooks.list(project=str(project_id))],
        )

    def create_webhook(self, project_id: int, hook: dict[str, Any]) -> None:
        self._call(
            f"adding a webhook to project {project_id}",
            lambda: self._sdk.webhooks.create(project=project_id, **hook),
            repeatable=False,
        )

    def update_webhook(self, webhook_id: int, hook: dict[str, Any]) -> None:
        self._call(
            f"updating webhook {webhook_id}",
            lambda: self._sdk.webhooks.update(webhook_id, **hook),
        )

    def delete_webhook(self, webhook_id: int) -> None:
        with contextlib.suppress(NotFoundError):
            self._call(
                f"deleting webhook {webhook_id}", lambda: self._sdk.webhooks.delete(webhook_id)
            )

    # --- retries and errors ----------------------------------------------------------------

    def _call(self, what: str, call: Callable[[], T], *, repeatable: bool = True) -> T:
        """Run ``call``; retry when Label Studio cannot be reached or is restarting.

        A request that may have reached the server (a read timeout, a dropped connection) is
        repeated only when ``repeatable`` (reading, or setting a value twice is harmless).
        """
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                return call()
            except httpx.ConnectError as error:
                problem: str = f"cannot connect ({error})"
            except (httpx.TimeoutException, httpx.RemoteProtocolError) as error:
                if not repeatable and not isinstance(error, httpx.ConnectTimeout):
                    raise LabelStudioError(
                        f"Label Studio at {self.url} did not answer {what} "
                        f"({type(error).__name__}); the next run finds out what landed"
                    ) from None
                problem = f"no answer ({type(error).__name__})"
            except ApiError as error:
                if error.status_code not in _RETRY_STATUSES:
                    raise self._explain(error, what) from None
                problem = f"answered {error.status_code}"
            except httpx.HTTPError as error:
                raise LabelStudioError(
                    f"Label Studio at {self.url} failed {what}: {error}"
                ) from None
            if attempt < self._attempts:
                logger.info(
                    "Label Studio at %s: %s while %s; retrying in %.1f s",
                    self.url,
                    problem,
                    what,
                    delay,
                )
                time.sleep(delay)
                delay *= 2
        raise LabelStudioError(
            f"Label Studio at {self.url} is unreachable: {problem} while {what}, "
            f"{self._attempts} tries"
        )

    def _explain(self, error: ApiError, what: str) -> LabelStudioError:
        status = error.status_code
        detail = get_detail(error.body)
        if status == 401:
            hint = (
                "a personal access token must be current (they expire; make a new one under "
                "Account & Settings)"
                if self.token_kind == PAT_KIND
                else "legacy tokens must be enabled for the organization (Organization > API "
                "Tokens Settings), or use a personal access token"
            )
            return LabelStudioError(
                f"Label Studio at {self.url} refused the {self.token_kind} (401: {detail}) "
                f"while {what}; {hint}"
            )
        if status == 403:
            return LabelStudioError(
                f"Label Studio at {self.url} does not let this {self.token_kind}'s user do "
                f"this (403: {detail}) while {what}"
            )
        message = f"Label Studio at {self.url} answered {status} while {what}: {detail}"
        if status == 404:
            return NotFoundError(message)
        return LabelStudioError(message)


def _dump(value: Any) -> dict[str, Any]:
    """An SDK object as a plain dict (JSON types only)."""
    if isinstance(value, dict):
        return value
    dumped: dict[str, Any] = value.model_dump(mode="json")
    return dumped


def _dump_all(values: Any) -> list[dict[str, Any]]:
    """Every item of a list or a pager (which fetches the pages as it goes)."""
    return [_dump(value) for value in values]


def get_detail(body: Any) -> str:
    """One line from the body of Label Studio's error answer: its ``detail``, with what each
    field was refused for (a 400 says only "Validation error" in ``detail`` and the reason in
    ``validation_errors``), at most 300 characters."""
    if isinstance(body, dict):
        detail = str(body.get("detail") or "")
        errors = body.get("validation_errors")
        if isinstance(errors, dict) and errors:
            reasons = "; ".join(
                f"{name}: {' '.join(map(str, why)) if isinstance(why, list) else why}"
                for name, why in errors.items()
            )
            detail = f"{detail} ({reasons})" if detail else reasons
        return " ".join((detail or str(body)).split())[:300]
    return " ".join(str(body).split())[:300] or "no detail"
