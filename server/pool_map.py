"""The dashboard's map of the pool: the cached 2-D layout with what to colour it by, made in
the background when missing (``labeler map``), and queueing a lasso's images (admin)."""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, Response, jsonify

from generators.checks import check_int
from labeler.loop.label_checks import find_suspects
from labeler.loop.pool_layout import find_cached_map_embedding
from labeler.loop.stop_set import get_stop_set
from labeler.store.project_files import PoolMap, RoundFolder, read_pool_map
from server.auth import require_admin, require_user
from server.errors import ApiError
from server.request_body import get_json_object
from server.state import ServerState, get_state

bp = Blueprint("pool_map", __name__, url_prefix="/api")

# Positions go out as integers in [0, COORDINATE_SCALE]: a third the size of float text.
COORDINATE_SCALE = 10_000
# The most images one call may queue (a lasso over a large pool is cut to this).
MAX_QUEUE_IDS = 10_000


@bp.before_request
def _authenticate() -> None:
    require_user()


@bp.get("/map")
def get_map() -> Response:
    """The map and, per point, its current label, the model's guess and acquisition score
    (-1: none), with the queued, suspect and stop-set samples; or why there is no map yet."""
    state = get_state()
    pool_map = read_pool_map(state.project.path)
    best = find_cached_map_embedding(state.project)
    job = state.maps.get_status()
    # A job that failed on this embedding is not retried on every refresh: its error shows.
    busy_or_failed = job is not None and (
        job["state"] == "running" or (job["state"] == "failed" and job["embedding"] == best)
    )
    if best is not None and not busy_or_failed and (pool_map is None or _is_stale(pool_map, best)):
        state.maps.start(best)
        job = state.maps.get_status()
    if pool_map is None:
        return jsonify(_describe_missing(state, best is not None, job))
    return jsonify({"status": "ready", "job": job, **_describe_map(state, pool_map)})


@bp.post("/admin/queue")
def queue_first() -> Response:
    """Put the given unlabeled pool images at the front of the queue (a lasso's selection)."""
    require_admin()
    body = get_json_object()
    state = get_state()
    ids = body.get("sample_ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_QUEUE_IDS:
        raise ApiError(
            400, f"sample_ids must be a list of 1 to {MAX_QUEUE_IDS} sample ids, got {ids!r}"[:300]
        )
    try:
        samples = [check_int("sample id", value, low=0) for value in ids]
        queued = state.store.queue_first(samples)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify({"queued": queued, "asked": len(samples)})


def _is_stale(pool_map: PoolMap, best: str) -> bool:
    """Made from another embedding than the best cached now, or for other samples."""
    return pool_map.info.get("embedding") != best


def _describe_missing(
    state: ServerState, has_embedding: bool, job: dict[str, Any] | None
) -> dict[str, Any]:
    project = state.project.path
    if job is not None and job["state"] == "failed":
        return {
            "status": "failed",
            "job": job,
            "message": f"Making the map failed: {job['last_line']}. Run `labeler map {project}` "
            "to see why.",
        }
    if not has_embedding:
        return {
            "status": "no_embedding",
            "job": job,
            "message": "No embedding of the pool yet, so no map. Run a round (it embeds the "
            f"pool), or `labeler embed {project} --kind pixels` (seconds); the map is then "
            "made here by itself.",
        }
    return {
        "status": "making",
        "job": job,
        "message": "Making the map from the cached embedding (`labeler map`); it appears here "
        "when done.",
    }


def _describe_map(state: ServerState, pool_map: PoolMap) -> dict[str, Any]:
    ids = pool_map.ids
    n_samples = state.store.n_samples
    labels = np.full(n_samples, -1, dtype=np.int64)
    labeled, current = state.store.get_current_labels()
    labels[labeled] = current
    guesses = np.full(n_samples, -1, dtype=np.int64)
    for sample, (guess, _) in state.get_guesses().items():
        guesses[sample] = guess
    scores = np.full(n_samples, -1.0)
    last = state.store.get_last_done_round()
    folder = None if last is None else RoundFolder.of(state.project.path, last.folder)
    predictions = None if folder is None else folder.read_predictions()
    if predictions is not None and len(predictions.scored_ids):
        # Ranks in [0, 1]: acquisition scores of different strategies share no scale.
        order = np.argsort(np.argsort(predictions.scores))
        scores[predictions.scored_ids] = order / max(len(order) - 1, 1)
    stop = None if folder is None else folder.read_stop_guesses()
    if stop is not None:  # the stop set is predicted apart from the candidates
        guesses[stop[0]] = stop[1]
    suspects = [row["sample"] for row in find_suspects(state.project).rows if row["flagged"]]
    stop_set = get_stop_set(state.project)
    return {
        "info": pool_map.info,
        "class_names": list(state.project.class_names),
        "round_id": None if last is None else last.id,
        "ids": ids.tolist(),
        "x": np.round(pool_map.xy[:, 0] * COORDINATE_SCALE).astype(int).tolist(),
        "y": np.round(pool_map.xy[:, 1] * COORDINATE_SCALE).astype(int).tolist(),
        "scale": COORDINATE_SCALE,
        "label": labels[ids].tolist(),
        "guess": guesses[ids].tolist(),
        "score": np.round(scores[ids], 3).tolist(),
        "queued": [item.sample_id for item in state.store.get_queue()],
        "suspects": suspects,
        "stop_set": [] if stop_set is None else stop_set.tolist(),
    }
