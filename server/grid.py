"""Grid labeling over the API: lease a page of images the model puts in one class, confirm
them with one call, and the admin's switch and blind share (``labeler.store.grids``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from labeler.store.grids import MAX_GRID_SIZE, GridLease
from server.api import LEASE_MESSAGES, get_int_arg, get_queue_counts, get_request_id
from server.auth import get_user, require_admin, require_user
from server.errors import ApiError
from server.request_body import get_json_object
from server.state import ModelGuesses, ServerState, get_state

bp = Blueprint("grid", __name__, url_prefix="/api")

# Tiles in a grid when the page does not say (4 x 6).
DEFAULT_GRID_SIZE = 24


@bp.before_request
def _authenticate() -> None:
    require_user()


@bp.get("/grid")
def get_grid() -> Response:
    """Lease a grid: up to ``n`` images the model puts in class ``label`` (default: the class
    whose next grid the model is surest of), most confident first, and the blind slice set
    aside."""
    state = get_state()
    settings = state.store.get_grid_settings()
    if not settings.enabled:
        raise ApiError(
            403,
            "grid labeling is turned off for this project; an admin can turn it on on the "
            "dashboard or with `labeler grid PROJECT --on`",
        )
    n = get_int_arg("n", default=DEFAULT_GRID_SIZE, minimum=1, maximum=MAX_GRID_SIZE)
    guesses = state.get_model_guesses()
    if not guesses.by_sample:
        raise ApiError(
            409,
            "the model has no guesses yet: grid labeling starts after the first round "
            "(start one on the dashboard or run `labeler round PROJECT`)",
        )
    class_index, lease = _lease(state, get_user().name, guesses, n)
    return jsonify(
        {
            "label": state.project.class_names[class_index],
            "blind_share": settings.blind_share,
            **_describe_lease(state, lease, guesses.by_sample),
            **get_queue_counts(state),
        }
    )


@bp.post("/grid")
def submit_grid() -> Response:
    """Store the class for every accepted image and send the rejected ones back to the
    caller for one-at-a-time labeling; idempotent by ``request_id``."""
    body = get_json_object()
    state = get_state()
    label = body.get("label")
    if not isinstance(label, str) or label not in state.project.class_names:
        raise ApiError(
            400, f"label must be a class name, one of: {', '.join(state.project.class_names)}"
        )
    accepted = _get_ids(body, "accepted")
    rejected = _get_ids(body, "rejected")
    request_id = get_request_id(body)
    try:
        answer = state.store.submit_grid(
            label,
            accepted=accepted,
            rejected=rejected,
            annotator=get_user().name,
            request_id=request_id,
        )
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify(
        {
            "stored": len(answer.results),
            "label": answer.label,
            "duplicate": answer.duplicate,
            "results": [
                {
                    "sample_id": result.sample_id,
                    "event_id": result.event_id,
                    "lease": result.lease,
                    "holder": result.holder,
                    "message": LEASE_MESSAGES[result.lease],
                }
                for result in answer.results
            ],
            "rejected": answer.rejected,
        }
    )


@bp.get("/admin/grid")
def get_grid_settings() -> Response:
    require_admin()
    return jsonify(_describe_settings(get_state()))


@bp.post("/admin/grid")
def set_grid_settings() -> Response:
    """Turn grid labeling on or off (``enabled``) and set the blind share (``blind_share``)."""
    require_admin()
    body = get_json_object()
    state = get_state()
    unknown = sorted(set(body) - {"enabled", "blind_share"})
    if unknown:
        raise ApiError(400, f"unknown settings {unknown}; valid ones: enabled, blind_share")
    share = body.get("blind_share")
    if share is not None and (isinstance(share, bool) or not isinstance(share, int | float)):
        raise ApiError(400, f"blind_share must be a number in [0, 0.5], got {share!r}")
    try:
        state.store.set_grid_settings(enabled=body.get("enabled"), blind_share=share)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify(_describe_settings(state))


def _describe_settings(state: ServerState) -> dict[str, Any]:
    settings = state.store.get_grid_settings()
    return {"enabled": settings.enabled, "blind_share": settings.blind_share}


def _get_chosen_ids(state: ServerState) -> list[int] | None:
    """The sample ids of the ``ids`` argument (None when absent)."""
    raw = request.args.get("ids")
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) > MAX_GRID_SIZE or not all(part.isdigit() for part in parts):
        raise ApiError(
            400, f"ids must be 1 to {MAX_GRID_SIZE} sample ids separated by commas, got {raw!r}"
        )
    ids = [int(part) for part in parts]
    unknown = [i for i in ids if i >= state.store.n_samples]
    if unknown:
        raise ApiError(400, f"there is no sample {unknown[0]}; sample ids run from 0 to "
                       f"{state.store.n_samples - 1}")  # fmt: skip
    return ids


def _lease(
    state: ServerState, annotator: str, guesses: ModelGuesses, n: int
) -> tuple[int, GridLease]:
    """The grid's class and its lease: the class asked for (``label``), else a lasso's
    majority class, else the class whose next grid of ``n`` images the model is surest of
    (``lease_surest_grid``: chosen and leased in one transaction), else the class it puts most
    images in, with an empty lease (every class has run dry: the grid will say so)."""
    names = state.project.class_names
    label = request.args.get("label")
    if label is not None and label not in names:
        raise ApiError(400, f"label must be a class name, one of: {', '.join(names)}")
    chosen = _get_chosen_ids(state)
    lease_seconds = state.lease_seconds
    if chosen is not None:
        # A lasso's images, in the order given, labeled as the class most are guessed as.
        votes = [guesses.by_sample[s][0] for s in chosen if s in guesses.by_sample]
        majority = max(set(votes), key=votes.count) if votes else 0
        class_index = names.index(label) if label is not None else majority
        return class_index, state.store.lease_grid(
            annotator, chosen, n, lease_seconds=lease_seconds
        )
    ranked = guesses.rank_by_class()
    if label is not None:
        class_index = names.index(label)
        return class_index, state.store.lease_grid(
            annotator, ranked.get(class_index, []), n, lease_seconds=lease_seconds
        )
    surest, lease = state.store.lease_surest_grid(
        annotator, ranked, guesses.get_confidence, n, lease_seconds=lease_seconds
    )
    if surest is not None:
        return surest, lease
    counts = [0] * len(names)
    for guess, _ in guesses.by_sample.values():
        counts[guess] += 1
    return counts.index(max(counts)), lease


def _describe_lease(
    state: ServerState, lease: GridLease, guesses: dict[int, tuple[int, float]]
) -> dict[str, Any]:
    """The grid's tiles, with the model's guess, and its blind slice, without."""
    expires = {item.sample_id: item.lease_expires for item in state.store.get_queue()}
    names = state.project.class_names

    def describe(sample: int, kind: str) -> dict[str, Any]:
        guess = guesses.get(sample)
        shown = kind == "grid" and guess is not None
        return {
            "sample_id": sample,
            "image_url": f"/api/images/{sample}.png",
            "lease_expires": expires.get(sample),
            "kind": kind,
            "round_id": None,
            "score": None,
            "guess": {"label": names[guess[0]], "confidence": guess[1]}
            if shown and guess is not None
            else None,
        }

    return {
        "tiles": [describe(sample, "grid") for sample in lease.tiles],
        "blind": [describe(sample, "blind") for sample in lease.blind],
    }


def _get_ids(body: dict[str, Any], key: str) -> list[int]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise ApiError(400, f"{key} must be a list of sample ids (integers), got {value!r}")
    if len(value) > MAX_GRID_SIZE:
        raise ApiError(400, f"a grid holds at most {MAX_GRID_SIZE} images; {key} has {len(value)}")
    return value
