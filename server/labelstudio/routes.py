"""What Label Studio calls on our server (``/labelstudio/...``): the webhook that brings
labels in as they are made, the ML backend protocol (health, setup, predict) that lets a
Label Studio project use our model, and the images of pushed tasks.

All of it answers from the project store and files at once: Label Studio gives a webhook
1 s and never retries it (``pull`` reconciles what a lost call missed).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from server.constant_time import is_same_secret
from server.errors import ApiError
from server.labelstudio import format
from server.labelstudio.link import Link, check_sample_key, load_link
from server.labelstudio.webhook import apply_webhook
from server.request_body import get_json_object
from server.state import ModelGuesses, get_state

logger = logging.getLogger(__name__)

bp = Blueprint("labelstudio", __name__, url_prefix="/labelstudio")


@bp.post("/webhook")
def receive_webhook() -> Response:
    """Store the annotations of one Label Studio event (checked by the shared secret)."""
    link = _get_link()
    sent = format.get_webhook_secret(request.headers)
    if sent is None or not is_same_secret(sent, link.secret):
        raise ApiError(401, f"missing or wrong {format.SECRET_HEADER} header")
    try:
        event = format.read_webhook(request.get_json(silent=True))
    except (ValueError, TypeError, KeyError) as error:
        raise ApiError(400, f"not a Label Studio webhook body: {error}") from None
    if event.project_id is not None and event.project_id != link.project_id:
        raise ApiError(
            400,
            f"this webhook is from Label Studio project {event.project_id}; this server's "
            f"project is linked to project {link.project_id}",
        )
    try:
        result = apply_webhook(get_state().store, link, event)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    changes = result.changes
    if changes.rejected:
        logger.warning("Label Studio labels that are not our classes: %s", changes.rejected)
    return jsonify(
        {
            "action": event.action,
            "labeled": changes.labeled,
            "updated": changes.updated,
            "skipped": changes.skipped,
            "deleted": changes.deleted,
            "rejected": {str(k): v for k, v in changes.rejected.items()},
            "unchanged": changes.n_unchanged,
            "ignored": result.ignored,
            "deferred": result.deferred,
        }
    )


@bp.get("/ml/health")
def get_ml_health() -> Response:
    """Label Studio's check that the model answers (no credentials needed; says nothing)."""
    _get_link()
    return jsonify(format.make_health_response(None))


@bp.post("/ml/setup")
def setup_ml() -> Response:
    """Label Studio connects the model: answer with the model version, our last round's, or
    ``NO_MODEL_VERSION`` while that round has no model. Connecting succeeds either way, so
    the model can be added before the first trained round and serves from then on."""
    _check_ml_auth(_get_link())
    state = get_state()
    return jsonify(format.make_setup_response(_get_model_version(state.get_model_guesses())))


@bp.post("/ml/predict")
def predict() -> Response:
    """The last done round's guess for each task (label, score = confidence); no prediction
    for a task it did not guess, which is every task while the round has no model."""
    link = _get_link()
    _check_ml_auth(link)
    state = get_state()
    try:
        tasks = format.read_predict_request(get_json_object())
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    model_guesses = state.get_model_guesses()
    guesses = model_guesses.by_sample
    model_version = _get_model_version(model_guesses)
    predictions = []
    for sample_id, key in tasks:
        guess = None
        if sample_id is not None and check_sample_key(link.secret, sample_id, key):
            guess = guesses.get(sample_id)
        predictions.append(
            None
            if guess is None
            else format.make_prediction(
                state.project.class_names[guess[0]], guess[1], model_version=model_version
            )
        )
    return jsonify(format.make_predict_response(predictions))


@bp.post("/ml/webhook")
def receive_ml_webhook() -> Response:
    """Label Studio posts every event of a project here once our model is added to it (it
    offers to train the model); our rounds train on their own, so nothing is done."""
    return jsonify(format.make_ml_webhook_response())


@bp.get("/images/<int:sample_id>.png")
def get_image(sample_id: int) -> Response:
    """A pushed sample's image, for Label Studio's users; the URL's key is made per sample,
    so a task's URL opens its own image only."""
    link = _get_link()
    state = get_state()
    if not check_sample_key(link.secret, sample_id, request.args.get("key")):
        raise ApiError(404, f"no image {sample_id} with this key")
    if sample_id >= state.store.n_samples or state.store.get_sample(sample_id).split != "pool":
        raise ApiError(404, f"no pool image {sample_id}")
    response = Response(state.images.get_png(sample_id), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    # Label Studio's pages live elsewhere and show this image.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _get_link() -> Link:
    link = load_link(get_state().store)
    if link is None or link.project_id is None:
        raise ApiError(
            404, "this project is not connected to Label Studio; run `labeler ls connect`"
        )
    return link


def _check_ml_auth(link: Link) -> None:
    auth = request.authorization
    password = None if auth is None else auth.password
    if not password or not is_same_secret(password, link.secret):
        raise ApiError(
            401,
            "the model needs basic auth with the password that `labeler ls connect` printed",
        )


def _get_model_version(guesses: ModelGuesses) -> str:
    """The version of the round that made ``guesses`` when it has a model (it made some),
    else ``NO_MODEL_VERSION``: the initial round picks at random, and naming it would announce
    a model that does not exist."""
    if guesses.round_id is None or not guesses.by_sample:
        return format.NO_MODEL_VERSION
    return format.make_model_version(guesses.round_id)
