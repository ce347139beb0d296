"""The JSON API of annotators: next tasks, labels, skips, undo, stats, images, dashboard data.

Every call needs a user (Bearer token or page session). Submissions are idempotent by the
client's ``request_id`` and committed to SQLite before the answer leaves.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request

from generators.checks import check_int
from labeler.loop.accuracy_audit import describe_accuracy_estimate
from labeler.loop.annotator_quality import get_annotator_quality
from labeler.loop.stop_set import describe_stop_meter
from labeler.store.database import LEASE_HELD, QueueItem
from labeler.store.grids import BLIND_SOURCE, GRID_SOURCE
from labeler.store.project_status import get_status
from labeler.store.records import OwnLabelError, ReviewItem
from server.auth import get_user, require_user
from server.errors import ApiError
from server.request_body import get_json_object
from server.state import ServerState, get_state
from server.stats import get_annotator_stats, get_conflicts, get_suspect_summary

bp = Blueprint("api", __name__, url_prefix="/api")

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
SOURCE = "web"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
LEASE_MESSAGES = {
    LEASE_HELD: "stored",
    "expired": "stored; your lease on this image had expired",
    "taken": "stored; the image had been handed to another annotator, who holds it now",
    "not_leased": "stored; the image was not leased to you",
    "not_queued": "stored; the image was no longer in the queue",
}


@bp.before_request
def _authenticate() -> None:
    require_user()


@bp.get("/next")
def get_next() -> Response:
    """Lease up to ``n`` tasks (default 1) to the caller, their own leases first."""
    state = get_state()
    n = get_int_arg("n", default=1, minimum=1, maximum=state.max_tasks_per_call)
    name = get_user().name
    # Reviews first: they are few, and each one checks a label the next round trains on.
    reviews = state.store.lease_reviews(name, n, lease_seconds=state.lease_seconds)
    tasks = [_describe_review(item) for item in reviews]
    gold = state.store.pick_gold_item(name) if state.store.is_gold_due(name) else None
    if len(tasks) < n and gold is not None:
        tasks.append(_describe_gold(state, gold))
    if len(tasks) < n:
        items = state.store.lease_next(name, n - len(tasks), lease_seconds=state.lease_seconds)
        guesses = state.get_guesses()
        tasks += [_describe_task(state, item, guesses) for item in items]
    return jsonify({"tasks": tasks, **get_queue_counts(state)})


@bp.post("/labels")
def submit_label() -> Response:
    body = get_json_object()
    state = get_state()
    sample_id = _get_sample_id(state, body)
    label = body.get("label")
    if not isinstance(label, str):
        raise ApiError(400, f"label must be a class name, one of: {_class_list(state)}")
    request_id = get_request_id(body)
    blind = body.get("blind", False)
    if not isinstance(blind, bool):
        raise ApiError(400, f"blind must be true or false, got {blind!r}")
    if state.store.has_open_review(sample_id):
        return _submit_review(state, sample_id, label, request_id)
    if state.store.get_gold_rate() > 0 and state.store.is_gold_item(sample_id):
        return _submit_gold(state, sample_id, label, request_id)
    # A blind label (the grid's slice labeled without the model's guess) is kept apart, so
    # that its agreement with reviews can be set against the grid's.
    source = BLIND_SOURCE if blind else SOURCE
    try:
        submission = state.store.submit_label(
            sample_id, label, annotator=get_user().name, source=source, request_id=request_id
        )
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    event = submission.event
    return answer_stored(
        event.id,
        event.sample_id,
        event.label_name,
        duplicate=submission.duplicate,
        lease=submission.lease,
        holder=submission.holder,
    )


def answer_stored(
    event_id: int | None,
    sample_id: int,
    label: str,
    *,
    duplicate: bool,
    lease: str = LEASE_HELD,
    holder: str | None = None,
    **extra: Any,
) -> Response:
    """The answer to a stored label, gold answer or review answer (one shape for all three:
    the page must not tell a gold item from an image to label)."""
    return jsonify(
        {
            "stored": True,
            "event_id": event_id,
            "sample_id": sample_id,
            "label": label,
            "lease": lease,
            "holder": holder,
            "duplicate": duplicate,
            "message": LEASE_MESSAGES[lease],
            **extra,
        }
    )


def _submit_gold(state: ServerState, sample_id: int, label: str, request_id: str) -> Response:
    """An answer to a gold item: kept in its own log, never a pool label; answered like any
    label, so that the page cannot tell."""
    try:
        answer, duplicate = state.store.submit_gold(
            sample_id, label, annotator=get_user().name, request_id=request_id
        )
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return answer_stored(None, answer.sample_id, label, duplicate=duplicate)


def _submit_review(state: ServerState, sample_id: int, label: str, request_id: str) -> Response:
    """A label for a sample under review is a review answer: 409 from its own labeler."""
    try:
        answer = state.store.submit_review(
            sample_id, label, annotator=get_user().name, request_id=request_id
        )
    except OwnLabelError as error:
        raise ApiError(409, str(error)) from None
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    event = answer.event
    return answer_stored(
        event.id,
        event.sample_id,
        event.label_name,
        duplicate=answer.duplicate,
        review=answer.outcome,
        message=f"stored; review {answer.outcome}",
    )


@bp.post("/skip")
def skip() -> Response:
    body = get_json_object()
    state = get_state()
    sample_id = _get_sample_id(state, body)
    request_id = get_request_id(body)
    try:
        new = state.store.skip_sample(sample_id, annotator=get_user().name, request_id=request_id)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify({"skipped": True, "sample_id": sample_id, "duplicate": not new})


@bp.post("/undo")
def undo() -> Response:
    """Take back the caller's last label; the image comes back to them as the next task."""
    body = get_json_object()
    state = get_state()
    request_id = get_request_id(body)
    name = get_user().name
    # A retried undo is answered as the first was, whichever kind it took back.
    kind = state.store.get_undo_request_kind(request_id)
    if kind == "gold" or (kind is None and state.store.is_last_answer_gold(name)):
        answer = state.store.undo_last_gold(name, request_id=request_id)
        assert answer is not None
        label = state.project.class_names[answer.label]
        return jsonify(
            {
                "undone": {"sample_id": answer.sample_id, "label": label},
                "task": _describe_gold(state, answer.sample_id),
            }
        )
    event = state.store.undo_last_label(
        name, request_id=request_id, lease_seconds=state.lease_seconds
    )
    if event is None:
        return jsonify({"undone": None, "task": None})
    item = state.store.get_queue_item(event.sample_id)
    task = None if item is None else _describe_task(state, item, state.get_guesses())
    review = state.store.get_review(event.sample_id)
    if review is not None:
        task = _describe_review(review)
    undone: dict[str, Any] = {"sample_id": event.sample_id, "label": event.label_name}
    grid = state.store.get_grid_sample_ids(event.id)
    if grid:
        # The whole grid was taken back; its images wait, leased to the caller, for a grid.
        undone["grid"] = grid
    return jsonify({"undone": undone, "task": task})


@bp.get("/stats")
def get_stats() -> Response:
    """The caller's own figures and the queue."""
    state = get_state()
    user = get_user()
    mine = get_annotator_stats(state.store.get_activity()).get(user.name, {})
    return jsonify(
        {
            "annotator": user.name,
            "is_admin": user.is_admin,
            "labels": mine.get("labels", 0),
            "skips": mine.get("skips", 0),
            "median_seconds": mine.get("median_seconds"),
            "class_names": list(state.project.class_names),
            **get_queue_counts(state),
        }
    )


@bp.get("/dashboard")
def get_dashboard() -> Response:
    """Counts per class, rounds, queue, annotators and their quality, conflicts and suspect
    labels, for the dashboard."""
    state = get_state()
    status = get_status(state.project)
    return jsonify(
        {
            "classes": status["classes"],
            "n_pool": status["n_pool"],
            "n_labeled": status["n_labeled"],
            "rounds": status["rounds"],
            "last_learner": status["last_learner"],
            "stop_meter": describe_stop_meter(state.project, status["rounds"]),
            "accuracy_estimate": describe_accuracy_estimate(state.project, status["rounds"]),
            **get_queue_counts(state),
            "annotators": get_annotator_stats(state.store.get_activity()),
            "conflicts": get_conflicts(state.store),
            "suspects": get_suspect_summary(state.project),
            "quality": dataclasses.asdict(get_annotator_quality(state.project)),
            "round_job": state.rounds.get_status(),
            "grid": _describe_grid(state),
            "is_admin": get_user().is_admin,
        }
    )


def _describe_grid(state: ServerState) -> dict[str, Any]:
    """Grid settings, and how labels of each source fared in later reviews."""
    settings = state.store.get_grid_settings()
    agreement = {
        GRID_SOURCE: (0, 0),
        BLIND_SOURCE: (0, 0),
        **state.store.get_review_agreement_by_source(),
    }
    return {
        "enabled": settings.enabled,
        "blind_share": settings.blind_share,
        "agreement": {
            source: {"reviewed": reviewed, "confirmed": confirmed}
            for source, (reviewed, confirmed) in agreement.items()
        },
    }


@bp.get("/images/<int:sample_id>.png")
def get_image(sample_id: int) -> Response:
    """A pool image by sample id; anything else is 404."""
    state = get_state()
    store = state.store
    if sample_id >= store.n_samples or (
        store.get_sample(sample_id).split != "pool"
        and not (store.get_gold_rate() > 0 and store.is_gold_item(sample_id))
    ):
        raise ApiError(404, f"no pool image {sample_id}")
    response = Response(state.images.get_png(sample_id), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/openapi.json")
def get_openapi() -> Response:
    """The API's document, with this project's constraints filled in: the class names a label
    may take and the largest sample id."""
    state = get_state()
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    last_id = state.store.n_samples - 1
    for path in ("/api/labels", "/api/skip"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        properties = body["schema"]["properties"]
        properties["sample_id"]["maximum"] = last_id
        if "label" in properties:
            properties["label"]["enum"] = list(state.project.class_names)
    for parameter in document["paths"]["/api/images/{sample_id}.png"]["get"]["parameters"]:
        if parameter["name"] == "sample_id":
            parameter["schema"]["maximum"] = last_id
    grid = document["paths"]["/api/grid"]
    body = grid["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    body["label"]["enum"] = list(state.project.class_names)
    for key in ("accepted", "rejected"):
        body[key]["items"] = {**body[key]["items"], "maximum": last_id}
    for parameter in grid["get"]["parameters"]:
        if parameter["name"] == "label":
            parameter["schema"]["enum"] = list(state.project.class_names)
    return jsonify(document)


def _describe_task(
    state: ServerState, item: QueueItem, guesses: dict[int, tuple[int, float]]
) -> dict[str, Any]:
    guess = guesses.get(item.sample_id)
    return {
        "sample_id": item.sample_id,
        "image_url": f"/api/images/{item.sample_id}.png",
        "lease_expires": item.lease_expires,
        "kind": "label",
        "round_id": item.round_id,
        "score": item.score,
        "guess": None
        if guess is None
        else {"label": state.project.class_names[guess[0]], "confidence": guess[1]},
    }


def _describe_gold(state: ServerState, sample_id: int) -> dict[str, Any]:
    """A gold item, described as any new image: the page must not be able to tell."""
    last = state.store.get_last_done_round()
    return {
        "sample_id": sample_id,
        "image_url": f"/api/images/{sample_id}.png",
        "lease_expires": time.time() + state.lease_seconds,
        "kind": "label",
        "round_id": None if last is None else last.id,
        "score": None,
        "guess": None,
    }


def _describe_review(item: ReviewItem) -> dict[str, Any]:
    """A review task: blind, so neither the label under review nor the model's guess."""
    return {
        "sample_id": item.sample_id,
        "image_url": f"/api/images/{item.sample_id}.png",
        "lease_expires": item.lease_expires,
        "kind": "review",
        "round_id": None,
        "score": None,
        "guess": None,
    }


def get_queue_counts(state: ServerState) -> dict[str, Any]:
    now = time.time()
    waiting, leased = state.store.count_queue(now=now)
    review_waiting, review_leased = state.store.count_reviews(now=now)
    return {
        "queue": {"waiting": waiting, "leased": leased},
        "reviews": {"waiting": review_waiting, "leased": review_leased},
    }


def _get_sample_id(state: ServerState, body: dict[str, Any]) -> int:
    try:
        value = check_int("sample_id", body.get("sample_id"))
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    n_samples = state.store.n_samples
    if not 0 <= value < n_samples:
        raise ApiError(400, f"there is no sample {value}; sample ids run from 0 to {n_samples - 1}")
    return value


def get_request_id(body: dict[str, Any]) -> str:
    value = body.get("request_id")
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise ApiError(
            400,
            f"request_id must be 1-100 letters, digits or ._:- (made by the client, new for "
            f"each action, the same on a retry), got {value!r}",
        )
    return value


def get_int_arg(name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value: object = int(raw)
    except ValueError:
        value = raw  # not a number: the message below names the text
    try:
        return check_int(name, value, low=minimum, high=maximum)
    except ValueError as error:
        raise ApiError(400, str(error)) from None


def _class_list(state: ServerState) -> str:
    return ", ".join(state.project.class_names)
