"""What learns in a round: the CNN, a linear head on an embedding, or the one the labels choose.

``learn`` trains the round's learner (``RoundConfig.learner``) on the labels so far and gives
its predictor, which scores the pool whatever the learner is:
- ``cnn``: the network ``RoundConfig.model`` (a ``-pretrained`` one from its weights, fine-tuned
  or frozen with its head trained on cached features);
- ``linear@<embedding>``: a linear head on that embedding of the project (computed once and
  cached), cross-validated on the labels to report its accuracy;
- ``auto``: ``labeler.learning.learner_choice`` chooses among linear heads on the embeddings
  ``list_auto_embeddings`` allows and the CNN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.auto_embeddings import choose_auto_embeddings
from labeler.learning.backbones import get_weights_digest
from labeler.learning.checkpoints import load_checkpoint
from labeler.learning.devices import resolve_device
from labeler.learning.embedding_preference import order_by_agreement
from labeler.learning.embeddings import get_embedding_vectors, is_embedding_cached
from labeler.learning.feature_cache import CachedFeatures, get_project_features
from labeler.learning.fitting import TrainResult
from labeler.learning.head_training import train_head
from labeler.learning.joint_embedding import add_joint_embedding
from labeler.learning.learner_choice import (
    AUTO,
    CNN,
    CandidateScore,
    LearnerChoice,
    choose_learner,
    get_head_embedding,
)
from labeler.learning.linear_head import LinearHead
from labeler.learning.models import Classifier, make_pretrained_model
from labeler.learning.out_of_fold import get_out_of_fold_probs
from labeler.learning.predictors import FeaturePredictor, HeadPredictor, ImagePredictor, Predictor
from labeler.learning.training import train_model
from labeler.learning.warm_start import train_warm
from labeler.loop.round_config import RoundConfig
from labeler.pruning.trimmed_model import PruningPlan
from labeler.store.project import Project
from labeler.store.project_files import RoundFolder


@dataclass(frozen=True)
class RoundInputs:
    """What a trained round starts from: the labels so far (``labeled_ids`` with their
    ``labels``), the ``unlabeled`` pool, and what was found before training began: the pruning
    ``plan`` to score with and a pretrained model's ``weights_path`` (None when not used)."""

    labeled_ids: NDArray[np.int64]
    labels: NDArray[np.int64]
    unlabeled: NDArray[np.int64]
    plan: PruningPlan | None
    weights_path: Path | None


logger = logging.getLogger(__name__)

# Why a round has no out-of-fold probabilities when its learner is a network.
NO_HEAD_NOTE = (
    "not computed: a network's out-of-fold probabilities would train it once per fold; "
    "--model auto or linear@<embedding> computes them from a linear head"
)


@dataclass(frozen=True, eq=False)
class OutOfFold:
    """Out-of-fold probabilities of the labeled samples (``labeler.learning.out_of_fold``),
    for label checks: ``probs`` float32 ``[n_labels, n_classes]`` row for row with
    ``sample_ids``, from ``learner`` (a linear head) in ``n_folds`` folds."""

    sample_ids: NDArray[np.int64]
    probs: NDArray[np.float32]
    learner: str
    n_folds: int


@dataclass(frozen=True, eq=False)
class Learned:
    """A round's trained learner: its ``predictor`` of every sample, the ``choice`` (what was
    chosen, every candidate's accuracy and why), and what was trained: a network
    (``trained``, with the backbone features it was trained on when frozen: ``cached``) or a
    linear ``head`` on the ``embedding`` kind."""

    predictor: Predictor
    choice: LearnerChoice
    trained: TrainResult | None = None
    cached: CachedFeatures | None = None
    embedding: str | None = None
    skipped: tuple[str, ...] = field(default=())
    out_of_fold: OutOfFold | None = None
    out_of_fold_note: str = NO_HEAD_NOTE
    embedding_order: str = ""

    @property
    def model(self) -> Classifier | None:
        return None if self.trained is None else self.trained.model

    @property
    def head(self) -> LinearHead | None:
        return self.choice.head

    @property
    def val_accuracy(self) -> float | None:
        """The chosen learner's measured accuracy: a network's on its validation split, a
        head's cross-validated; None when not measured."""
        return self.choice.accuracy

    @property
    def validation(self) -> str:
        """How ``val_accuracy`` was measured, in one sentence."""
        return next(
            score.method for score in self.choice.scores if score.name == self.choice.chosen
        )

    def describe(self) -> dict[str, Any]:
        """The report's ``learner`` entry."""
        return {
            **self.choice.to_dict(),
            "embedding": self.embedding,
            "skipped": self.skipped,
            "embedding_order": self.embedding_order,
        }


def learn(project: Project, inputs: RoundInputs, *, config: RoundConfig, progress: bool) -> Learned:
    """Train the round's learner on the labels so far (module docstring)."""
    if config.learner == CNN:
        return _learn_network(project, inputs, config=config, progress=progress)
    fixed = get_head_embedding(config.learner)
    if fixed:
        vectors = load_vectors(project, [fixed], config=config, progress=progress)
        skipped: list[str] = []
        order = ""
    else:
        vectors, skipped, order = load_auto_vectors(project, config=config, progress=progress)
    train_cnn = None
    if config.learner == AUTO:

        def train_cnn() -> TrainResult:
            return _train_network(project, inputs, config=config, progress=progress)

    head_vectors = {kind: np.asarray(rows[inputs.labeled_ids]) for kind, rows in vectors.items()}
    choice = choose_learner(
        inputs.labels,
        n_classes=len(project.class_names),
        head_vectors=head_vectors,
        train_cnn=train_cnn,
        train_config=config.train,
        seed=config.seed,
    )
    out_of_fold, note = _get_out_of_fold(choice, head_vectors, inputs, project, config=config)
    if choice.trained is not None:
        predictor = ImagePredictor(
            choice.trained.model,
            project.load_images(),
            device=config.train.device,
            n_threads=config.train.n_threads,
        )
        return Learned(
            predictor,
            choice,
            trained=choice.trained,
            skipped=tuple(skipped),
            out_of_fold=out_of_fold,
            out_of_fold_note=note,
            embedding_order=order,
        )
    kind = get_head_embedding(choice.chosen)
    assert kind is not None and choice.head is not None
    return Learned(
        HeadPredictor(choice.head, vectors[kind]),
        choice,
        embedding=kind,
        skipped=tuple(skipped),
        out_of_fold=out_of_fold,
        out_of_fold_note=note,
        embedding_order=order,
    )


def _get_out_of_fold(
    choice: LearnerChoice,
    head_vectors: dict[str, NDArray[np.float32]],
    inputs: RoundInputs,
    project: Project,
    *,
    config: RoundConfig,
) -> tuple[OutOfFold | None, str]:
    """Out-of-fold probabilities from the chosen head, or from the head the choice ranked
    first when the CNN won (its own folds would train it k times); and a note saying so."""
    name = choice.best_head
    if name is None:
        return None, "not computed: no head was cross-validated"
    kind = get_head_embedding(name)
    assert kind is not None
    computed = get_out_of_fold_probs(
        head_vectors[kind], inputs.labels, n_classes=len(project.class_names), seed=config.seed
    )
    if computed is None:
        return None, "not computed: a class has a single label, which no fold can test"
    probs, n_folds = computed
    note = f"{name}, {n_folds}-fold"
    if choice.chosen != name:
        note += f" (the chosen {choice.chosen} would need {n_folds} trainings)"
    return OutOfFold(inputs.labeled_ids, probs, name, n_folds), note


def load_vectors(
    project: Project, names: list[str], *, config: RoundConfig, progress: bool
) -> dict[str, NDArray[np.float32]]:
    """``get_embedding_vectors`` of ``names``, computed (once, then cached) with the round's
    threads and device."""
    return get_embedding_vectors(
        project,
        names,
        progress=progress,
        n_threads=config.train.n_threads,
        device=config.train.device,
    )


def load_auto_parts(
    project: Project, *, config: RoundConfig, progress: bool
) -> tuple[dict[str, NDArray[np.float32]], list[str]]:
    """``(parts, skipped)``: the kinds ``auto`` allows (``list_auto_embeddings``), each kind's
    vectors float32 ``[n_samples, dim]`` in order of preference, and why any was left out."""
    kinds, skipped = list_auto_embeddings(project, config=config)
    return load_vectors(project, kinds, config=config, progress=progress), skipped


def load_auto_vectors(
    project: Project, *, config: RoundConfig, progress: bool
) -> tuple[dict[str, NDArray[np.float32]], list[str], str]:
    """``(vectors, skipped, order)``: the embeddings ``auto`` reads (name -> float32
    ``[n_samples, dim]``; the joint one made from its parts as read) in order of preference
    (``labeler.learning.embedding_preference``), why any was left out, and why the first
    is first."""
    parts, skipped = load_auto_parts(project, config=config, progress=progress)
    vectors = add_joint_embedding(parts)
    names, order = order_by_agreement(list(vectors), vectors)
    return {name: vectors[name] for name in names}, skipped, order


def list_auto_embeddings(project: Project, *, config: RoundConfig) -> tuple[list[str], list[str]]:
    """``(kinds, notes)``: the embeddings ``auto`` puts heads on for ``project``, in order of
    preference, and why any other was left out (``labeler.learning.auto_embeddings``)."""
    return choose_auto_embeddings(
        len(project.load_images()),
        on_gpu=resolve_device(config.train.device).type == "cuda",
        is_cached=lambda kind: is_embedding_cached(project, kind),
    )


def _learn_network(
    project: Project, inputs: RoundInputs, *, config: RoundConfig, progress: bool
) -> Learned:
    """The ``cnn`` learner: the network of ``config.model``, as asked."""
    cached = None
    if inputs.weights_path is None:
        trained = _train_network(project, inputs, config=config, progress=progress)
    else:
        trained, cached = _train_pretrained(project, inputs, config=config, progress=progress)
    predictor: Predictor
    if cached is None:
        predictor = ImagePredictor(
            trained.model,
            project.load_images(),
            device=config.train.device,
            n_threads=config.train.n_threads,
        )
    else:
        predictor = FeaturePredictor(trained.model.head, cached.features)
    accuracy = float(trained.val_accuracy) if np.isfinite(trained.val_accuracy) else None
    choice = LearnerChoice(
        CNN,
        f"asked for: --model {config.model.name}",
        (CandidateScore(CNN, accuracy, trained.validation),),
        trained=trained,
    )
    return Learned(predictor, choice, trained=trained, cached=cached)


def _train_network(
    project: Project, inputs: RoundInputs, *, config: RoundConfig, progress: bool
) -> TrainResult:
    images = np.asarray(project.load_images()[inputs.labeled_ids])
    if config.warm_start:
        previous, source, n_previous_labels = _load_last_network(project)
        return train_warm(
            previous,
            images,
            inputs.labels,
            n_classes=len(project.class_names),
            model_config=config.model,
            train_config=config.train,
            progress=progress,
            previous_source=source,
            n_previous_labels=n_previous_labels,
        )
    return train_model(
        images,
        inputs.labels,
        n_classes=len(project.class_names),
        model_config=config.model,
        train_config=config.train,
        progress=progress,
    )


def _load_last_network(project: Project) -> tuple[Classifier | None, str, int | None]:
    """The network of the last done round (None when it learned a head, or has no round
    folder), how to name it in the report, and the labels it trained on."""
    last = project.store.get_last_done_round()
    folder = None if last is None else RoundFolder.of(project.path, last.folder)
    if last is None or folder is None:
        return None, "the project", None
    source = f"round {last.id}"
    if not folder.checkpoint.is_file():
        return None, source, None
    try:
        return load_checkpoint(folder.checkpoint)[0], source, last.n_labels
    except ValueError as error:
        logger.warning("cannot warm-start from %s: %s", folder.checkpoint, error)
        return None, f"{source} (its checkpoint is unreadable)", None


def _train_pretrained(
    project: Project, inputs: RoundInputs, *, config: RoundConfig, progress: bool
) -> tuple[TrainResult, CachedFeatures | None]:
    """Train a ``<backbone>-pretrained`` model that starts from the weights in
    ``inputs.weights_path``: fine-tuned whole, or, when frozen, only its head on the project's
    cached features (returned too, for scoring; computed first when no round has cached
    them)."""
    assert config.backbone is not None and inputs.weights_path is not None
    model = make_pretrained_model(
        config.model,
        n_classes=len(project.class_names),
        weights_path=inputs.weights_path,
        seed=config.train.seed,
    )
    if config.backbone.mode == "finetune":
        trained = train_model(
            np.asarray(project.load_images()[inputs.labeled_ids]),
            inputs.labels,
            n_classes=model.n_classes,
            model_config=config.model,
            train_config=config.train,
            progress=progress,
            initial_model=model,
        )
        return trained, None
    cached = get_project_features(
        project,
        model,
        weights_digest=get_weights_digest(inputs.weights_path),
        device=config.train.device,
        n_threads=config.train.n_threads,
        progress=progress,
    )
    trained = train_head(
        model, cached.features[inputs.labeled_ids], inputs.labels, train_config=config.train
    )
    return trained, cached
