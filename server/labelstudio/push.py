"""``push``: make the Label Studio project hold exactly the current queue, each task once,
and a review task for each open review.

Label Studio and our store cannot commit together, so a push first reads what Label Studio
holds and adopts every task of ours it finds there (a task carries its sample id and the
sample's key); only what is still missing is imported. A push cut off at any point is thus
completed by the next one, never duplicated.

Not every round has a model: the initial round picks images at random, so its tasks go
without predictions. Label Studio 1.23 refuses a project model version that no prediction
(and no model of that title) carries, so the push sets the version only when tasks of ours
hold predictions of it, and otherwise leaves it and says why.

Reviews (``labeler review``) go out blind: a task of their own (a review key instead of the
sample key, the reason in its data, no prediction), so that nothing on Label Studio's page
gives the label under review away. An open review gets a new task whenever it has no
unanswered one (a dispute wants a third answer after the second); an unanswered review task
whose review has closed (answered on our page) is removed. Label Studio's community edition
cannot keep a task from one user, so the store refuses an answer to the review of one's own
label, and the pull reports it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from labeler.store.database import RemoteTask
from labeler.store.project import Project
from labeler.store.project_files import RoundFolder
from server.labelstudio import format
from server.labelstudio.client import LabelStudioClient
from server.labelstudio.connect import get_linked_project
from server.labelstudio.defaults import DEFAULT_BATCH_SIZE
from server.labelstudio.link import Link, get_task_kind, make_review_key, make_sample_key

logger = logging.getLogger(__name__)


@dataclass
class PushResult:
    """What a push did: tasks imported, adopted (found in Label Studio, unrecorded), given a
    new round's prediction, removed (out of the queue, unannotated), marked (out of the
    queue, annotated), reopened (back in the queue), imported without a prediction.

    ``round_id``: the last done round (None before any round), ``round_version`` its model
    version in Label Studio; ``n_guesses``: how many images its model guessed (0: the round
    has no model, as the initial random one);
    ``n_round_predictions``: tasks of ours holding a prediction of that round after the push;
    ``model_version``: the project's model version after the push (None: unset), which was
    ``model_version_set`` by this push, or left because no task holds the round's
    predictions. ``n_reviews``: open reviews; ``n_review_tasks_created`` and
    ``n_review_tasks_removed``: review tasks imported, and removed (unanswered, their review
    closed)."""

    n_queued: int = 0
    n_created: int = 0
    n_adopted: int = 0
    n_predicted: int = 0
    n_removed: int = 0
    n_marked: int = 0
    n_reopened: int = 0
    n_without_prediction: int = 0
    round_id: int | None = None
    round_version: str | None = None
    n_guesses: int = 0
    n_round_predictions: int = 0
    model_version: str | None = None
    model_version_set: bool = False
    n_reviews: int = 0
    n_review_tasks_created: int = 0
    n_review_tasks_removed: int = 0


def push(
    project: Project, client: LabelStudioClient, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> PushResult:
    """Import the queue as tasks (``batch_size`` per request), with the last done round's
    predictions, and set the project's model version to that round once tasks of ours hold
    its predictions (Label Studio refuses a version without any)."""
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    store = project.store
    link, view = get_linked_project(project, client)
    assert link.project_id is not None
    last_round = store.get_last_done_round()
    round_id = None if last_round is None else last_round.id
    folder = None if last_round is None else RoundFolder.of(project.path, last_round.folder)
    guesses = {} if folder is None else folder.read_guesses()
    version = None if round_id is None else format.make_model_version(round_id)
    result = PushResult(
        round_id=round_id,
        round_version=version,
        n_guesses=len(guesses),
        model_version=view.model_version,
    )
    queue = store.get_queue()
    result.n_queued = len(queue)
    scores = {item.sample_id: item.score for item in queue}

    tasks, review_tasks = _adopt(project, client, link, round_id, result)
    missing = [item.sample_id for item in queue if item.sample_id not in tasks]
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        payload = []
        for sample_id in batch:
            prediction = _make_prediction(project, guesses, sample_id, version)
            result.n_without_prediction += prediction is None
            payload.append(
                format.make_task(
                    sample_id,
                    image_url=link.get_image_url(sample_id),
                    sample_key=make_sample_key(link.secret, sample_id),
                    acquisition_score=scores.get(sample_id),
                    round_id=round_id or 0,
                    prediction=prediction,
                )
            )
        client.import_tasks(link.project_id, payload)
        result.n_created += len(batch)
        logger.info("imported %d of %d new tasks", start + len(batch), len(missing))
    if missing:
        # Record what landed, with the ids Label Studio gave the tasks.
        tasks, review_tasks = _adopt(project, client, link, round_id, result, counting=False)

    queued = set(scores)
    labeled = set(store.get_current_labels()[0].tolist())
    for sample_id, (record, task) in sorted(tasks.items()):
        if sample_id in queued:
            holds = _refresh(project, client, link, record, task, guesses, round_id, result)
        else:
            reason = "labeled" if sample_id in labeled else f"not selected by round {round_id}"
            removed = _retire(project, client, link, record, task, reason, result)
            holds = not removed and version is not None and version in task.prediction_versions
        result.n_round_predictions += holds
    if version is not None and result.n_round_predictions and view.model_version != version:
        client.update_project(link.project_id, format.make_project_settings(model_version=version))
        result.model_version, result.model_version_set = version, True
    _push_reviews(project, client, link, review_tasks, result, batch_size=batch_size)
    return result


def _push_reviews(
    project: Project,
    client: LabelStudioClient,
    link: Link,
    review_tasks: list[format.TaskView],
    result: PushResult,
    *,
    batch_size: int,
) -> None:
    """One unanswered review task per open review, and none for a closed one."""
    assert link.project_id is not None
    reviews = {item.sample_id: item.reason for item in project.store.get_reviews()}
    result.n_reviews = len(reviews)
    waiting = set()
    for task in review_tasks:
        if task.annotations:
            continue  # answered: it keeps its answer
        if task.sample_id in reviews and task.sample_id not in waiting:
            waiting.add(task.sample_id)
        else:
            client.delete_task(task.task_id)
            result.n_review_tasks_removed += 1
    missing = [sample for sample in reviews if sample not in waiting]
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        payload = [
            format.make_review_task(
                sample_id,
                image_url=link.get_image_url(sample_id),
                review_key=make_review_key(link.secret, sample_id),
                reason=reviews[sample_id],
            )
            for sample_id in batch
        ]
        client.import_tasks(link.project_id, payload)
        result.n_review_tasks_created += len(batch)


def _adopt(
    project: Project,
    client: LabelStudioClient,
    link: Link,
    round_id: int | None,
    result: PushResult,
    *,
    counting: bool = True,
) -> tuple[dict[int, tuple[RemoteTask, format.TaskView]], list[format.TaskView]]:
    """Read the project's tasks; record the queue tasks of ours the store does not know (and
    forget records of tasks that are gone). Returns ``{sample_id: (record, task)}`` of the
    queue tasks, and the review tasks."""
    assert link.project_id is not None
    store = project.store
    records = {task.sample_id: task for task in store.get_remote_tasks(link.remote)}
    found: dict[int, format.TaskView] = {}
    review_tasks: list[format.TaskView] = []
    for raw in client.list_tasks(link.project_id):
        task = format.read_task(raw)
        kind = get_task_kind(link, task.sample_id, task.sample_key)
        if kind == "review":
            review_tasks.append(task)
        if kind != "label" or task.sample_id is None:
            continue  # a review task, or not made by us (someone imported it by hand)
        if task.sample_id in found:
            logger.warning(
                "Label Studio holds two tasks of sample %d (%d and %d); using the first",
                task.sample_id,
                found[task.sample_id].task_id,
                task.task_id,
            )
            continue
        found[task.sample_id] = task
    gone = [s for s, r in records.items() if s not in found or found[s].task_id != r.task_id]
    if gone:
        store.remove_remote_tasks(link.remote, gone)
    version = None if round_id is None else format.make_model_version(round_id)
    new = [
        RemoteTask(
            sample_id,
            task.task_id,
            round_id if version in task.prediction_versions else None,
            "open",
        )
        for sample_id, task in found.items()
        if sample_id not in records or sample_id in gone
    ]
    if new:
        store.save_remote_tasks(link.remote, new)
        if counting:
            result.n_adopted += len(new)
    by_sample = {task.sample_id: task for task in store.get_remote_tasks(link.remote)}
    return {sample: (by_sample[sample], task) for sample, task in found.items()}, review_tasks


def _refresh(
    project: Project,
    client: LabelStudioClient,
    link: Link,
    record: RemoteTask,
    task: format.TaskView,
    guesses: dict[int, tuple[int, float]],
    round_id: int | None,
    result: PushResult,
) -> bool:
    """A queued sample's task: back in the queue, the latest prediction, the current URL.
    Returns whether the task holds a prediction of round ``round_id`` now.

    The record names a round only once the task holds its prediction, so a task the round
    had no guess for is looked at again by each push (no call to Label Studio: the guesses
    are read from the round's folder)."""
    store = project.store
    state, predicted = record.state, record.round_id
    if record.state == "marked":
        client.update_task(task.task_id, format.make_queue_update(None))
        state = "open"
        result.n_reopened += 1
    version = None if round_id is None else format.make_model_version(round_id)
    holds = version is not None and version in task.prediction_versions
    if version is not None and record.round_id != round_id:
        if not holds:
            prediction = _make_prediction(project, guesses, record.sample_id, version)
            if prediction is not None:
                client.create_prediction(task.task_id, prediction)
                result.n_predicted += 1
                holds = True
        if holds:
            predicted = round_id
    image_url = link.get_image_url(record.sample_id)
    if task.image_url != image_url:  # our server moved (connect --server-url)
        client.update_task(task.task_id, format.make_image_update(task, image_url=image_url))
    if (state, predicted) != (record.state, record.round_id):
        store.save_remote_tasks(
            link.remote, [RemoteTask(record.sample_id, record.task_id, predicted, state)]
        )
    return holds


def _retire(
    project: Project,
    client: LabelStudioClient,
    link: Link,
    record: RemoteTask,
    task: format.TaskView,
    reason: str,
    result: PushResult,
) -> bool:
    """A task whose sample left the queue: removed when nobody annotated it, else marked with
    ``reason``. Returns whether it was removed."""
    store = project.store
    if not task.annotations:
        client.delete_task(task.task_id)
        store.remove_remote_tasks(link.remote, [record.sample_id])
        result.n_removed += 1
        return True
    if record.state == "marked":
        return False
    client.update_task(task.task_id, format.make_queue_update(reason))
    store.save_remote_tasks(
        link.remote, [RemoteTask(record.sample_id, record.task_id, record.round_id, "marked")]
    )
    result.n_marked += 1
    return False


def _make_prediction(
    project: Project,
    guesses: dict[int, tuple[int, float]],
    sample_id: int,
    model_version: str | None,
) -> dict[str, object] | None:
    guess = guesses.get(sample_id)
    if guess is None or model_version is None:
        return None
    label, confidence = guess
    return format.make_prediction(
        project.class_names[label], confidence, model_version=model_version
    )
