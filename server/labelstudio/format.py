"""Label Studio's JSON: the one module that reads and writes it (projects, tasks, predictions,
annotations, webhooks, and the ML backend protocol). Everything else in the bridge handles
our own types; Label Studio 1.23's field names and shapes live here only.

Our labeling config is one image (``$image``) with single-choice classes, so an annotation's
result holds at most one ``choices`` region from ``label`` to ``image``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from generators.checks import is_int
from labeler.store.database import RemoteAnnotation

FROM_NAME = "label"
TO_NAME = "image"
IMAGE_FIELD = "image"
SAMPLE_FIELD = "sample_id"
SAMPLE_KEY_FIELD = "sample_key"
SCORE_FIELD = "acquisition_score"
ROUND_FIELD = "round"
# A review task's data names why the label is reviewed; the label under review is not sent.
REVIEW_FIELD = "review"
# Marks the projects we make, so that a lost link finds its project again.
LINK_MARKER = "guided-labeler link "
UNCERTAINTY_SAMPLING = "Uncertainty sampling"
SECRET_HEADER = "X-Labeler-Secret"
WEBHOOK_ACTIONS = (
    "ANNOTATION_CREATED",
    "ANNOTATIONS_CREATED",
    "ANNOTATION_UPDATED",
    "ANNOTATIONS_DELETED",
)
META_FIELD = "guided_labeler"


@dataclass(frozen=True)
class TaskView:
    """A Label Studio task as the bridge needs it: ``sample_id`` and ``sample_key`` from its
    data (None when absent: not a task of ours), the model versions of its predictions, the
    annotations (raw, for ``read_annotation``) and the image URL it shows."""

    task_id: int
    sample_id: int | None
    sample_key: str | None
    image_url: str | None
    prediction_versions: frozenset[str]
    annotations: tuple[Mapping[str, Any], ...]
    data: Mapping[str, Any]

    @property
    def review_reason(self) -> str | None:
        """Why a review task reviews its label (None: not marked as a review task)."""
        reason = self.data.get(REVIEW_FIELD)
        return reason if isinstance(reason, str) else None


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook call: its ``action``, the annotations it carries with the task of each
    (``(annotation, task or None)``), and the ids of deleted annotations."""

    action: str
    project_id: int | None
    annotations: tuple[tuple[Mapping[str, Any], Mapping[str, Any] | None], ...]
    deleted_ids: tuple[int, ...]


# --- projects --------------------------------------------------------------------------------


def make_label_config(class_names: Sequence[str]) -> str:
    """The labeling config: the image and one choice among ``class_names``, in order."""
    choices = "".join(f"    <Choice value={quoteattr(name)}/>\n" for name in class_names)
    return (
        "<View>\n"
        f'  <Image name="{TO_NAME}" value="${IMAGE_FIELD}"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single-radio" '
        'showInline="true" required="true">\n'
        f"{choices}"
        "  </Choices>\n"
        "</View>\n"
    )


def make_config_update(class_names: Sequence[str]) -> dict[str, Any]:
    """The project update that puts our labeling config back."""
    return {"label_config": make_label_config(class_names)}


def describe_label_config(label_config: str) -> tuple[str, ...] | str:
    """The classes of a labeling config of our shape, or a message saying what it holds
    instead."""
    try:
        root = ElementTree.fromstring(label_config)
    except ElementTree.ParseError as error:
        return f"a labeling config that is not XML ({error})"
    images = [e for e in root.iter("Image") if e.get("name") == TO_NAME]
    if not images or images[0].get("value") != f"${IMAGE_FIELD}":
        return f"no <Image name={TO_NAME!r} value='${IMAGE_FIELD}'> in the labeling config"
    choices = [
        e for e in root.iter("Choices") if e.get("name") == FROM_NAME and e.get("toName") == TO_NAME
    ]
    if len(choices) != 1:
        tags = sorted({e.tag for e in root.iter()} - {"View"})
        return f"no <Choices name={FROM_NAME!r} toName={TO_NAME!r}> (tags found: {tags})"
    if choices[0].get("choice", "single") not in ("single", "single-radio"):
        return f"multiple choice ({choices[0].get('choice')!r}) instead of a single choice"
    return tuple(str(e.get("value", "")) for e in choices[0].iter("Choice"))


def make_project(title: str, class_names: Sequence[str], link_id: str) -> dict[str, Any]:
    """Fields of a new project: our config, uncertainty sampling, the link marker."""
    return {
        "title": title,
        "description": f"Images queued by guided-labeler. {LINK_MARKER}{link_id}",
        "label_config": make_label_config(class_names),
        "sampling": UNCERTAINTY_SAMPLING,
        "show_skip_button": True,
    }


@dataclass(frozen=True)
class ProjectView:
    project_id: int
    title: str
    link_id: str | None
    label_config: str
    model_version: str | None


def read_project(project: Mapping[str, Any]) -> ProjectView:
    description = str(project.get("description") or "")
    link_id = None
    if LINK_MARKER in description:
        link_id = description.split(LINK_MARKER, 1)[1].split()[0] or None
    return ProjectView(
        int(project["id"]),
        str(project.get("title") or ""),
        link_id,
        str(project.get("label_config") or ""),
        project.get("model_version") or None,
    )


# The model version our model answers Label Studio with while the last round has no model
# (none yet, or the initial random round): Label Studio shows it on the model's card.
NO_MODEL_VERSION = "no-model-yet"


def make_model_version(round_id: int) -> str:
    """Our model version in Label Studio: the round whose model made the prediction."""
    return f"round-{round_id}"


def make_project_settings(*, model_version: str) -> dict[str, Any]:
    """What a push sets on the project: Label Studio's uncertainty sampling only counts
    predictions whose version equals the project's."""
    return {"model_version": model_version, "sampling": UNCERTAINTY_SAMPLING}


# --- tasks and predictions -------------------------------------------------------------------


def make_choice_result(label: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def make_prediction(label: str, confidence: float, *, model_version: str) -> dict[str, Any]:
    """The model's guess ``label`` with ``confidence`` in [0, 1] as the score (Label Studio's
    uncertainty sampling serves the lowest score first)."""
    return {
        "result": make_choice_result(label),
        "score": float(confidence),
        "model_version": model_version,
    }


def make_task(
    sample_id: int,
    *,
    image_url: str,
    sample_key: str,
    acquisition_score: float | None,
    round_id: int,
    prediction: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A task to import: the sample's image and ids in its data, and the prediction."""
    score = (
        None
        if acquisition_score is None or not math.isfinite(acquisition_score)
        else float(acquisition_score)
    )
    task: dict[str, Any] = {
        "data": {
            IMAGE_FIELD: image_url,
            SAMPLE_FIELD: int(sample_id),
            SAMPLE_KEY_FIELD: sample_key,
            SCORE_FIELD: score,
            ROUND_FIELD: int(round_id),
        }
    }
    if prediction is not None:
        task["predictions"] = [dict(prediction)]
    return task


def make_review_task(
    sample_id: int, *, image_url: str, review_key: str, reason: str
) -> dict[str, Any]:
    """A review task to import: the image and ids, the reason, and nothing that gives the
    label under review away (no prediction, no earlier annotation): reviews are blind."""
    return {
        "data": {
            IMAGE_FIELD: image_url,
            SAMPLE_FIELD: int(sample_id),
            SAMPLE_KEY_FIELD: review_key,
            REVIEW_FIELD: reason,
        }
    }


def make_image_update(task: TaskView, *, image_url: str) -> dict[str, Any]:
    """The update of a task whose image moved (our server's URL changed)."""
    return {"data": {**dict(task.data), IMAGE_FIELD: image_url}}


def make_queue_update(reason: str | None) -> dict[str, Any]:
    """The update of a task's meta saying why it is out of our queue (None: back in)."""
    return {"meta": {META_FIELD: None if reason is None else {"out_of_queue": reason}}}


def read_task(task: Mapping[str, Any]) -> TaskView:
    """A task as listed with ``fields=all`` (annotations and predictions included)."""
    data = task.get("data") or {}
    sample = data.get(SAMPLE_FIELD)
    key = data.get(SAMPLE_KEY_FIELD)
    image = data.get(IMAGE_FIELD)
    return TaskView(
        int(task["id"]),
        sample if is_int(sample) else None,
        key if isinstance(key, str) else None,
        image if isinstance(image, str) else None,
        frozenset(
            str(p.get("model_version"))
            for p in task.get("predictions") or ()
            if isinstance(p, dict)
        ),
        tuple(a for a in task.get("annotations") or () if isinstance(a, dict)),
        data,
    )


def get_task_of_annotation(annotation: Mapping[str, Any]) -> int | None:
    task = annotation.get("task")
    if isinstance(task, dict):
        task = task.get("id")
    return task if isinstance(task, int) else None


# --- annotations -----------------------------------------------------------------------------


def get_annotation_id(annotation: Mapping[str, Any]) -> int:
    return int(annotation["id"])


def get_annotator_id(annotation: Mapping[str, Any]) -> int | None:
    user = annotation.get("completed_by")
    if isinstance(user, dict):
        user = user.get("id")
    return user if isinstance(user, int) else None


def get_annotator_name(annotation: Mapping[str, Any], users: Mapping[int, str]) -> str | None:
    """The annotator's email: from ``users`` (Label Studio user id -> email), else from the
    ``created_username`` (" email, id") that task listings carry; None if neither knows."""
    user_id = get_annotator_id(annotation)
    if user_id is not None and user_id in users:
        return users[user_id]
    created = str(annotation.get("created_username") or "").strip()
    name = created.rsplit(",", 1)[0].strip() if "," in created else created
    return name or None


def read_annotation(
    annotation: Mapping[str, Any],
    *,
    sample_id: int,
    class_names: Sequence[str],
    annotator: str,
    review: bool = False,
) -> RemoteAnnotation:
    """What an annotation says: a skip (``was_cancelled``), one of our classes, or a label we
    do not have ("rejected", with what was chosen). ``review``: it answers a review task."""
    annotation_id = get_annotation_id(annotation)
    updated_at = parse_time(annotation.get("updated_at") or annotation.get("created_at"))
    if annotation.get("was_cancelled"):
        return RemoteAnnotation(
            annotation_id, sample_id, "skip", None, annotator, updated_at, review
        )
    chosen: list[str] = []
    for region in annotation.get("result") or ():
        if isinstance(region, dict) and region.get("from_name") == FROM_NAME:
            chosen += [str(c) for c in (region.get("value") or {}).get("choices") or ()]
    if len(chosen) == 1 and chosen[0] in class_names:
        kind, value = "label", chosen[0]
    else:
        kind, value = "rejected", ", ".join(chosen) if chosen else "(no choice)"
    return RemoteAnnotation(annotation_id, sample_id, kind, value, annotator, updated_at, review)


def parse_time(value: Any) -> float:
    """Unix seconds of an ISO 8601 time as Label Studio writes it ("...Z")."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time, got {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def read_users(users: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Label Studio user id -> email (the name our label log gives the annotator)."""
    return {int(u["id"]): str(u.get("email") or f"user {u['id']}") for u in users}


# --- webhooks --------------------------------------------------------------------------------


def make_webhook(url: str, secret: str) -> dict[str, Any]:
    """Our webhook: annotation events only, with the payload, and the shared secret."""
    return {
        "url": url,
        "send_payload": True,
        "send_for_all_actions": False,
        "headers": {SECRET_HEADER: secret},
        "actions": list(WEBHOOK_ACTIONS),
        "is_active": True,
    }


def find_webhook(
    hooks: Iterable[Mapping[str, Any]], url: str, secret: str
) -> tuple[int, bool] | None:
    """``(webhook id, up to date)`` of the hook that posts to ``url``, or None."""
    for hook in hooks:
        if hook.get("url") == url:
            up_to_date = (
                bool(hook.get("is_active"))
                and bool(hook.get("send_payload"))
                and set(hook.get("actions") or ()) == set(WEBHOOK_ACTIONS)
                and (hook.get("headers") or {}).get(SECRET_HEADER) == secret
            )
            return int(hook["id"]), up_to_date
    return None


def find_stale_webhooks(hooks: Iterable[Mapping[str, Any]], url: str, secret: str) -> list[int]:
    """Ids of our webhooks (our secret) that post elsewhere than ``url``: our server moved."""
    return [
        int(hook["id"])
        for hook in hooks
        if hook.get("url") != url and (hook.get("headers") or {}).get(SECRET_HEADER) == secret
    ]


def get_webhook_secret(headers: Any) -> str | None:
    """The secret a webhook call carries (``headers``: the request's, with ``get``)."""
    value = headers.get(SECRET_HEADER)
    return value if isinstance(value, str) else None


def read_webhook(payload: Any) -> WebhookEvent:
    """A webhook body; ValueError naming what is wrong with a malformed one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("action"), str):
        raise ValueError("a webhook body must be a JSON object with an 'action'")
    action = payload["action"]
    project = payload.get("project")
    project_id = project.get("id") if isinstance(project, dict) else None
    project_id = project_id if isinstance(project_id, int) else None
    if action == "ANNOTATIONS_DELETED":
        deleted = payload.get("annotations")
        if not isinstance(deleted, list):
            raise ValueError("ANNOTATIONS_DELETED must carry a list 'annotations'")
        ids = tuple(int(a["id"]) for a in deleted if isinstance(a, dict) and "id" in a)
        return WebhookEvent(action, project_id, (), ids)
    if action not in WEBHOOK_ACTIONS:
        return WebhookEvent(action, project_id, (), ())
    annotations = payload.get("annotation")
    tasks = payload.get("task")
    if isinstance(annotations, dict):
        annotations = [annotations]
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise ValueError(f"{action} must carry an 'annotation' object or list")
    if isinstance(tasks, dict):
        tasks = [tasks]
    by_id = {t["id"]: t for t in tasks or () if isinstance(t, dict) and "id" in t}
    return WebhookEvent(
        action,
        project_id,
        tuple((a, by_id.get(get_task_of_annotation(a))) for a in annotations),
        (),
    )


# --- the ML backend protocol (Label Studio calls us) ----------------------------------------


def read_predict_request(body: Any) -> list[tuple[int | None, str | None]]:
    """``(sample id, sample key)`` of each task Label Studio asks a prediction for (None where
    a task is not one of ours), in order."""
    if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
        raise ValueError("a predict request must be a JSON object with a list 'tasks'")
    out = []
    for task in body["tasks"]:
        data = task.get("data") if isinstance(task, dict) else None
        data = data if isinstance(data, dict) else {}
        sample = data.get(SAMPLE_FIELD)
        key = data.get(SAMPLE_KEY_FIELD)
        out.append(
            (
                sample if is_int(sample) else None,
                key if isinstance(key, str) else None,
            )
        )
    return out


def make_predict_response(predictions: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """One entry per task, in order (Label Studio matches them by position, and drops them
    all when the counts differ). A task we have no guess for gets an empty list, which
    Label Studio 1.23 reads as "no predictions": an empty result would be stored as a
    prediction with score 0, which uncertainty sampling serves first and which makes a
    version of a round without a model look like one with predictions."""
    return {"results": [dict(p) if p is not None else [] for p in predictions]}


def make_ml_backend(url: str, *, user: str, password: str, title: str) -> dict[str, Any]:
    """The settings of our server as a project's model ("Connect model"): basic auth with
    the link's secret as password, interactive so that the editor can ask it too."""
    return {
        "url": url,
        "title": title,
        "auth_method": "BASIC_AUTH",
        "basic_auth_user": user,
        "basic_auth_pass": password,
        "is_interactive": True,
    }


def make_setup_response(model_version: str) -> dict[str, Any]:
    return {"model_version": model_version}


def make_ml_webhook_response() -> dict[str, Any]:
    """The answer to the training events Label Studio posts to a model (we train on our own)."""
    return {"status": "ignored"}


def make_health_response(model_version: str | None) -> dict[str, Any]:
    return {"status": "UP", "model_class": "guided-labeler", "model_version": model_version}
