"""Projects from Python: create one on a folder of images, read its status, export its labels.

Every function takes the project folder's path and opens and closes the project itself, so a
notebook never holds the store open between cells (the annotation server may be writing).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from labeler.loop.accuracy_audit import describe_accuracy_estimate
from labeler.loop.annotator_quality import AnnotatorQuality
from labeler.loop.annotator_quality import get_annotator_quality as measure_annotators
from labeler.loop.label_checks import SuspectList, find_suspects, queue_reviews
from labeler.loop.stop_set import describe_stop_meter
from labeler.selection.stop_meter import (
    DEFAULT_STOP_THRESHOLD,
    DEFAULT_STOP_WINDOW,
    check_stop_rule,
)
from labeler.store.label_export import ExportSummary
from labeler.store.label_export import export_labels as export_project_labels
from labeler.store.project import open_project
from labeler.store.project_init import InitSummary, init_project
from labeler.store.project_status import get_status as get_project_status

ProjectPath = str | os.PathLike[str]


def create_project(
    path: ProjectPath,
    images: str | os.PathLike[str],
    *,
    classes: Sequence[str] | None = None,
    image_size: int | None = None,
    colour: str = "auto",
    use_folder_labels: bool = False,
    progress: bool = False,
) -> InitSummary:
    """Make a project at ``path`` (new or empty) from ``images``: a dataset folder of
    ``labeler generate`` or any folder of PNG/JPEG images (flat, then ``classes`` is needed,
    or with one subfolder per class, optionally under train/ and test/). As ``labeler init``."""
    return init_project(
        path,
        images=images,
        classes=list(classes) if classes is not None else None,
        image_size=image_size,
        colour=colour,
        use_folder_labels=use_folder_labels,
        progress=progress,
    )


def get_status(
    path: ProjectPath,
    *,
    stop_threshold: float = DEFAULT_STOP_THRESHOLD,
    stop_window: int = DEFAULT_STOP_WINDOW,
) -> dict[str, Any]:
    """The project's labels per class, rounds, accuracy, queue, cached embeddings, stop
    meter (``labeler.selection.stop_meter``, with its rule's ``stop_threshold`` and
    ``stop_window``) and accuracy estimate (``labeler.selection.accuracy_estimate``), as
    ``labeler status --json`` prints them. ValueError on a threshold outside (0, 1] or a
    window below 1."""
    check_stop_rule(stop_threshold, stop_window)
    with open_project(path) as project:
        status = get_project_status(project)
        status["stop_meter"] = describe_stop_meter(
            project, status["rounds"], threshold=stop_threshold, window=stop_window
        )
        status["accuracy_estimate"] = describe_accuracy_estimate(project, status["rounds"])
    return status


def export_labels(
    path: ProjectPath, out: str | os.PathLike[str], *, format: str = "csv"
) -> ExportSummary:
    """Write the current label of every labeled sample to ``out``: ``format`` csv or json (one
    record per sample), or imagefolder (``out/<class>/<id>-<name>``). As ``labeler export``."""
    with open_project(path) as project:
        return export_project_labels(project, out, format=format)


def get_queue(path: ProjectPath) -> list[dict[str, Any]]:
    """The samples waiting for a label, in queue order: ``{"sample": id, "path": the image
    in the project's source folder, "known_label": the class name the source knew, or
    None}``."""
    with open_project(path) as project:
        store = project.store
        queued = []
        for item in store.get_queue():
            sample = store.get_sample(item.sample_id)
            known = None if sample.known_label is None else project.class_names[sample.known_label]
            queued.append(
                {
                    "sample": sample.id,
                    "path": str(project.get_source_path(sample.path)),
                    "known_label": known,
                }
            )
        return queued


def add_labels(
    path: ProjectPath,
    labels: Mapping[int, str],
    *,
    annotator: str = "python",
    source: str = "python",
) -> int:
    """Record ``{sample id: class name}`` as labels by ``annotator``, all or nothing (a bad
    pair raises ValueError and records none); return how many were recorded. The labels join
    the project's append-only log as an annotator's would."""
    with open_project(path) as project:
        return project.store.add_labels(list(labels.items()), annotator=annotator, source=source)


def get_suspects(path: ProjectPath) -> SuspectList:
    """Every current label ranked by how likely it is wrong: confident learning on the latest
    round's out-of-fold probabilities, and the annotators' disagreements. As ``labeler
    suspects``."""
    with open_project(path) as project:
        return find_suspects(project)


def get_annotator_quality(path: ProjectPath) -> AnnotatorQuality:
    """Per annotator: agreement with the others, with the model that did not see the label,
    and accuracy where the source knew the class; Cohen's kappa per pair. As ``labeler
    annotators list --quality``."""
    with open_project(path) as project:
        return measure_annotators(project)


def send_to_review(
    path: ProjectPath, *, suspects: int = 20, calibration: int = 5, seed: int = 0
) -> dict[str, int]:
    """Send the ``suspects`` most suspect labels and ``calibration`` random others to blind
    review; return how many of each were added and how many reviews are open. As ``labeler
    review``."""
    with open_project(path) as project:
        n_suspects, n_calibration = queue_reviews(
            project, n_suspects=suspects, n_calibration=calibration, seed=seed
        )
        return {
            "suspects": n_suspects,
            "calibration": n_calibration,
            "open": len(project.store.get_reviews()),
        }
