"""What the ``labeler prune`` commands work on: the labeled images of a project (or of a
dataset folder's train split), its test split, and a trained model (a round's, or one trained
here)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.api.options import get_learner, get_model_config, get_train_config
from labeler.data.dataset_format import INFO_FILE, load_dataset_info, load_split
from labeler.data.image_arrays import get_channels
from labeler.data.input_size import choose_image_size
from labeler.learning.checkpoints import load_checkpoint
from labeler.learning.learner_choice import HEAD_PREFIX
from labeler.learning.models import Classifier, ModelConfig
from labeler.learning.training import TrainConfig, check_labels, train_model
from labeler.store.atomic_files import write_json_atomic
from labeler.store.project import is_project, open_project
from labeler.store.project_files import RoundFolder, get_pruning_folder


@dataclass(frozen=True)
class PruningData:
    """Training images uint8 ``[n, H, W(, 3)]`` with labels ``[n]``, test images and labels
    (none when there are none), class names, the input size to train at, and
    where they came from."""

    train_images: NDArray[np.uint8]
    train_labels: NDArray[np.int64]
    test_images: NDArray[np.uint8]
    test_labels: NDArray[np.int64]
    class_names: tuple[str, ...]
    image_size: int
    path: Path
    is_project: bool

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def require_test(self, command: str) -> None:
        if len(self.test_labels) == 0:
            raise ValueError(
                f"`prune {command}` measures test accuracy, but {self.path} has no test split "
                "with known labels"
            )


def load_pruning_data(path: str | os.PathLike[str]) -> PruningData:
    """The labeled images of project ``path`` (its current labels; test: its test split), or
    of dataset folder ``path`` (its train and test splits)."""
    folder = Path(path)
    if is_project(folder):
        with open_project(folder) as project:
            images = project.load_images()
            labeled_ids, labels = project.store.get_current_labels()
            test_ids, test_labels = project.store.get_known_labels("test")
            return PruningData(
                train_images=np.asarray(images[labeled_ids]),
                train_labels=labels.astype(np.int64),
                test_images=np.asarray(images[test_ids]),
                test_labels=test_labels.astype(np.int64),
                class_names=tuple(project.class_names),
                image_size=project.image_size,
                path=folder,
                is_project=True,
            )
    if (folder / INFO_FILE).is_file():
        info = load_dataset_info(folder)
        train_images, train_labels = load_split(folder, "train")
        try:
            test_images, test_labels = load_split(folder, "test")
        except (OSError, ValueError):
            test_images = np.zeros((0, *np.asarray(train_images).shape[1:]), dtype=np.uint8)
            test_labels = np.zeros(0, dtype=np.int64)
        return PruningData(
            train_images=np.asarray(train_images),
            train_labels=np.asarray(train_labels).astype(np.int64),
            test_images=np.asarray(test_images),
            test_labels=np.asarray(test_labels).astype(np.int64),
            class_names=tuple(info.class_names),
            image_size=choose_image_size(folder),
            path=folder,
            is_project=False,
        )
    raise ValueError(
        f"{folder} is neither a project folder (no project.json) nor a dataset folder "
        f"(no {INFO_FILE})"
    )


def get_round_checkpoint(path: Path, round_arg: str) -> tuple[int, Path]:
    """``(round id, checkpoint path)`` of round ``round_arg`` (a number or "last") of project
    ``path``; ValueError when the project has no such trained round or its file is gone."""
    with open_project(path) as project:
        trained = [r for r in project.store.get_rounds() if r.status == "done" and r.folder]
        if not trained:
            raise ValueError(
                f"project {path} has no trained round yet: run `labeler round {path}` first, "
                "or leave out --round to train a model here"
            )
        if round_arg == "last":
            record = trained[-1]
        else:
            try:
                wanted = int(round_arg)
            except ValueError:
                raise ValueError(
                    f"--round must be a round number or 'last', got {round_arg!r}"
                ) from None
            matches = [r for r in trained if r.id == wanted]
            if not matches:
                raise ValueError(
                    f"project {path} has no trained round {wanted}; trained rounds: "
                    f"{', '.join(str(r.id) for r in trained)}"
                )
            record = matches[0]
        folder = RoundFolder(project.path / str(record.folder))
        checkpoint = folder.checkpoint
    if not checkpoint.is_file() and folder.head.is_file():
        raise ValueError(
            f"round {record.id} learned a linear head on an embedding, not a network: there is "
            "nothing to prune; run a round with --model resnet (or another network) first"
        )
    if not checkpoint.is_file():
        raise ValueError(f"the checkpoint of round {record.id} is missing: {checkpoint}")
    return record.id, checkpoint


def get_round_train_config(checkpoint: Path) -> TrainConfig | None:
    """The TrainConfig a round trained with (from its report), when it says."""
    report = RoundFolder(checkpoint.parent).read_report()
    try:
        return None if report is None else TrainConfig.from_dict(report["config"]["train"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class SourceModel:
    """A trained model to analyse or prune, with the training settings bundles refer to."""

    model: Classifier
    train_config: TrainConfig
    origin: str  # "round N" or "trained here"
    seconds: float


def get_model(args: argparse.Namespace, data: PruningData, *, progress: bool = True) -> SourceModel:
    """The round's model with ``--round``, else a model trained here on ``data`` with the
    model and training flags."""
    if getattr(args, "round", None) is not None:
        if not data.is_project:
            raise ValueError("--round needs a project folder, not a dataset folder")
        round_id, checkpoint = get_round_checkpoint(data.path, args.round)
        model, info = load_checkpoint(checkpoint)
        if info.n_classes != data.n_classes:
            raise ValueError(
                f"round {round_id}'s model has {info.n_classes} classes, the project "
                f"{data.n_classes}"
            )
        train_config = get_round_train_config(checkpoint) or get_train_config(args)
        return SourceModel(model, train_config, f"round {round_id}", 0.0)
    train_config = get_train_config(args)
    check_labels(data.train_labels, n_classes=data.n_classes, min_per_class=2)
    trained = train_model(
        data.train_images,
        data.train_labels,
        n_classes=data.n_classes,
        model_config=get_pruning_model_config(args, data),
        train_config=train_config,
        progress=progress,
    )
    return SourceModel(trained.model, train_config, "trained here", trained.seconds)


def get_pruning_model_config(args: argparse.Namespace, data: PruningData) -> ModelConfig:
    """The network to train and prune (``--model auto`` is the CNN ``auto`` considers; a
    linear head has nothing to prune and is refused)."""
    if get_learner(args).startswith(HEAD_PREFIX):
        raise ValueError(
            f"--model {args.model} is a linear head on an embedding: pruning needs a network "
            "(e.g. --model resnet)"
        )
    return get_model_config(
        args, image_size=data.image_size, in_channels=get_channels(data.train_images)
    )


def get_out_folder(args: argparse.Namespace, data: PruningData) -> Path:
    """``--out``, else ``PATH/pruning`` (created)."""
    folder = Path(args.out) if args.out else get_pruning_folder(data.path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_report(folder: Path, name: str, report: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    write_json_atomic(path, report)
    return path
