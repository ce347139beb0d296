"""One webhook call of Label Studio, applied to the store from its payload alone: Label
Studio waits 1 s for the answer and never retries, so nothing here calls Label Studio back
(``pull`` reconciles whatever a lost call missed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from labeler.store.database import ProjectStore, RemoteAnnotation, RemoteChanges
from server.labelstudio import format
from server.labelstudio.link import SOURCE, Link, get_task_kind


@dataclass
class PullResult:
    """What a pull or webhook stored (``changes``), and what it left alone: annotations on
    tasks that are not ours (``ignored``, annotation ids) and those whose annotator is not
    known yet (``deferred``: the next pull names them). ``rejected``: every annotation
    whose label is not one of our classes (annotation id -> label), new or not, and every
    review answer the store refused (the label and why): a pull reports them until someone
    fixes them in Label Studio."""

    changes: RemoteChanges
    n_tasks: int = 0
    ignored: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)


def apply_webhook(store: ProjectStore, link: Link, event: format.WebhookEvent) -> PullResult:
    """Store what one webhook call says, from its payload alone (Label Studio waits 1 s for
    the answer). Annotations on tasks that are not ours are ignored; those by a user the link
    does not know yet are left to the next pull, which can ask Label Studio for the name."""
    annotations: list[RemoteAnnotation] = []
    result = PullResult(RemoteChanges())
    for annotation, raw_task in event.annotations:
        annotation_id = format.get_annotation_id(annotation)
        task = None if raw_task is None else format.read_task(raw_task)
        kind = None if task is None else get_task_kind(link, task.sample_id, task.sample_key)
        if task is None or task.sample_id is None or kind is None:
            result.ignored.append(annotation_id)
            continue
        name = format.get_annotator_name(annotation, link.users)
        if name is None:
            result.deferred.append(annotation_id)
            continue
        annotations.append(
            format.read_annotation(
                annotation,
                sample_id=task.sample_id,
                class_names=store.class_names,
                annotator=name,
                review=kind == "review",
            )
        )
    result.changes = store.apply_remote_annotations(
        link.remote, annotations, deleted_ids=event.deleted_ids, source=SOURCE
    )
    return result
