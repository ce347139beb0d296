"""``pull``: bring every annotation of the Label Studio project into the label log, exactly
once (by annotation id), following updates and deletions (``server.labelstudio.webhook``
does the same for one webhook call)."""

from __future__ import annotations

import logging

from labeler.store.database import RemoteAnnotation
from labeler.store.project import Project
from server.labelstudio import format
from server.labelstudio.client import LabelStudioClient
from server.labelstudio.connect import get_linked_project
from server.labelstudio.link import SOURCE, get_task_kind, update_link
from server.labelstudio.webhook import PullResult

logger = logging.getLogger(__name__)


def pull(project: Project, client: LabelStudioClient) -> PullResult:
    """Apply what every annotation of the linked project says now; annotations we stored
    that Label Studio no longer has were deleted there, and are followed."""
    store = project.store
    link, view = get_linked_project(project, client)
    link = update_link(store, link, users=format.read_users(client.list_users()))
    annotations: list[RemoteAnnotation] = []
    ignored: list[int] = []
    raw_tasks = client.list_tasks(view.project_id)
    for raw in raw_tasks:
        task = format.read_task(raw)
        kind = get_task_kind(link, task.sample_id, task.sample_key)
        for annotation in task.annotations:
            if kind is None or task.sample_id is None:
                ignored.append(format.get_annotation_id(annotation))
                continue
            name = format.get_annotator_name(annotation, link.users) or _unknown_user(annotation)
            annotations.append(
                format.read_annotation(
                    annotation,
                    sample_id=task.sample_id,
                    class_names=project.class_names,
                    annotator=name,
                    review=kind == "review",
                )
            )
    seen = {annotation.annotation_id for annotation in annotations} | set(ignored)
    deleted = [i for i in store.get_remote_annotations(link.remote) if i not in seen]
    changes = store.apply_remote_annotations(
        link.remote, annotations, deleted_ids=deleted, source=SOURCE
    )
    rejected = {
        annotation_id: str(annotation.value)
        for annotation_id, annotation in store.get_remote_annotations(link.remote).items()
        if annotation.kind == "rejected"
    }
    return PullResult(changes, n_tasks=len(raw_tasks), ignored=ignored, rejected=rejected)


def _unknown_user(annotation: object) -> str:
    user = format.get_annotator_id(annotation) if isinstance(annotation, dict) else None
    return f"labelstudio-user-{user}"
