"""Admin calls: start a round in the background, follow it, list the annotators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from generators.checks import check_int
from labeler.selection.strategies import AUTO, list_default_learner_strategies
from server.auth import get_user, require_admin
from server.errors import ApiError
from server.request_body import get_json_object
from server.round_runner import MAX_QUERY_SIZE, RoundBusyError
from server.state import get_state
from server.stats import get_annotator_stats

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.before_request
def _authenticate() -> None:
    require_admin()


@bp.post("/rounds")
def start_round() -> tuple[Response, int]:
    """Start ``labeler round`` with a strategy and query size; 409 while a round runs."""
    body = get_json_object()
    strategy = body.get("strategy", AUTO)
    # The round runs with the default learner, which may be a head without dropout draws.
    allowed = list_default_learner_strategies()
    if not isinstance(strategy, str) or strategy not in allowed:
        raise ApiError(400, f"strategy must be one of: {', '.join(allowed)}; got {strategy!r}")
    try:
        query_size = check_int("query_size", body.get("query_size", 50), low=1, high=MAX_QUERY_SIZE)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    state = get_state()
    if any(record.status == "running" for record in state.store.get_rounds()):
        raise ApiError(409, "a round is running already; wait for it to finish")
    try:
        job = state.rounds.start(
            strategy=strategy, query_size=query_size, started_by=get_user().name
        )
    except RoundBusyError as error:
        raise ApiError(409, str(error)) from None
    return jsonify({"job": job}), 202


@bp.get("/rounds/current")
def get_round_status() -> Response:
    """The round started from here (None if none), and the last round in the store."""
    state = get_state()
    rounds = state.store.get_rounds()
    last = rounds[-1] if rounds else None
    return jsonify(
        {
            "job": state.rounds.get_status(),
            "last_round": None
            if last is None
            else {
                "id": last.id,
                "status": last.status,
                "strategy": last.strategy,
                "n_labels": last.n_labels,
                "val_accuracy": last.val_accuracy,
                "test_accuracy": last.test_accuracy,
                "error": last.error,
            },
        }
    )


@bp.get("/annotators")
def list_annotators() -> Response:
    state = get_state()
    stats = get_annotator_stats(state.store.get_activity())
    empty = {"labels": 0, "skips": 0, "retracted": 0, "median_seconds": None}
    return jsonify(
        {
            "annotators": [
                {
                    "name": annotator.name,
                    "is_admin": annotator.is_admin,
                    "created_at": annotator.created_at,
                    **stats.get(annotator.name, empty),
                }
                for annotator in state.store.get_annotators()
            ]
        }
    )
