"""One round of guided labeling on a project: train on all labels, score the pool, queue a batch.

A round writes its files (checkpoint, config, scores, report) into a temporary folder that is
renamed into ``rounds/round-NNNN`` only when complete, and only then is the round marked done in
the store, in the same transaction that replaces the queue. A round killed midway leaves a
temporary folder that is never read (and is removed by the next round) and a 'running' record
that the store marks failed; the next round starts afresh.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.engines.base import Engine
from labeler.learning.backbones import (
    BackboneConfig,
    find_weights_file,
    get_backbone_name,
    get_weights_digest,
)
from labeler.learning.checkpoints import save_checkpoint
from labeler.learning.embedding_kinds import check_embedding_kind
from labeler.learning.feature_cache import CachedFeatures, get_project_features
from labeler.learning.head_training import train_head
from labeler.learning.models import Classifier, ModelConfig, make_pretrained_model
from labeler.learning.predictors import (
    FeaturePredictor,
    ImagePredictor,
    Predictor,
    ShardedPredictor,
)
from labeler.learning.training import TrainConfig, TrainResult, check_labels, train_model
from labeler.loop.initial_round import get_initial_strategy_name, pick_initial
from labeler.pruning.trimmed_model import (
    SCORING_MODELS,
    PruningPlan,
    check_plan_fits,
    load_pruning_plan,
    make_scoring_model,
)
from labeler.selection.cold_start import get_cold_start
from labeler.selection.pool_query import PoolQuery, query_pool
from labeler.selection.strategies import SelectionConfig
from labeler.store.atomic_files import fsync_folder
from labeler.store.project import Project
from labeler.store.project_files import (
    RoundFolder,
    RoundPredictions,
    get_images_file,
    get_rounds_folder,
)

logger = logging.getLogger(__name__)

_TEMP_PREFIX = ".round-"


@dataclass(frozen=True)
class RoundConfig:
    """Everything a round needs besides the project, written as JSON beside its outputs.

    ``initial``: when the labels are too few to train on, queue this many unlabeled samples
    instead (0: refuse with an error that says what to label), picked by the cold-start
    strategy ``initial_strategy`` (``labeler.loop.initial_round``) on the project's
    ``embedding`` (a kind of ``labeler.learning.embeddings``). ``score_subset``: score
    only this many random unlabeled samples (None: all). ``seed``: selection randomness.
    ``scoring_model``: "full" scores with the trained model; "pruned" cuts the blocks that
    ``labeler prune apply`` chose from it, fine-tunes the rest briefly and scores with that
    (``labeler.pruning.trimmed_model``). ``backbone``: how a ``<backbone>-pretrained`` model
    is trained (frozen or fine-tuned) and where its weights are; set for those models (default
    ``BackboneConfig()``) and only for them.
    """

    selection: SelectionConfig = field(default_factory=SelectionConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    initial: int = 0
    initial_strategy: str = "random"
    embedding: str = "pixels"
    score_subset: int | None = None
    seed: int = 0
    scoring_model: str = "full"
    backbone: BackboneConfig | None = None

    def __post_init__(self) -> None:
        if get_backbone_name(self.model.name) is None:
            if self.backbone is not None:
                raise ValueError(
                    f"backbone settings (mode, weights) apply to pretrained models only, not to "
                    f"{self.model.name!r}"
                )
        else:
            if self.backbone is None:
                object.__setattr__(self, "backbone", BackboneConfig())
            if self.scoring_model == "pruned":
                raise ValueError(
                    f"a pruned scoring model is cut from the small resnet or plain networks, "
                    f"not from {self.model.name!r}: use --scoring-model full"
                )
        if self.scoring_model not in SCORING_MODELS:
            raise ValueError(
                f"unknown scoring model {self.scoring_model!r}; valid ones: "
                f"{', '.join(SCORING_MODELS)}"
            )
        if self.initial < 0:
            raise ValueError(f"initial must be 0 or positive, got {self.initial}")
        get_cold_start(self.initial_strategy)  # unknown names are refused before any work
        check_embedding_kind(self.embedding)
        if self.score_subset is not None and self.score_subset < self.selection.query_size:
            raise ValueError(
                f"score subset ({self.score_subset}) must be at least the query size "
                f"({self.selection.query_size})"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RoundSummary:
    """What a round did, for the command line to report."""

    round_id: int
    strategy: str
    n_labels: int
    n_scored: int
    n_queued: int
    val_accuracy: float | None
    test_accuracy: float | None
    folder: str
    seconds: float


def run_round(
    project: Project,
    *,
    config: RoundConfig,
    progress: bool = True,
    engine: Engine | None = None,
) -> RoundSummary:
    """Run one round on ``project`` (see the module docstring); return what it did.

    ``engine``: a Ray engine scores the pool on its workers (a pool of actors, each loading
    the round's checkpoint and memory-mapping the packed images once).
    """
    started = time.perf_counter()
    store = project.store
    query_size = config.selection.query_size
    unlabeled = store.get_unlabeled_ids()
    if unlabeled.shape[0] == 0:
        raise ValueError("every pool image is labeled already; there is nothing to select")
    labeled_ids, labels = store.get_current_labels()
    try:
        check_labels(
            labels,
            n_classes=len(project.class_names),
            min_per_class=config.train.min_labels_per_class,
        )
    except ValueError:
        if config.initial == 0:
            counts = np.bincount(labels, minlength=len(project.class_names))
            held = ", ".join(
                f"{name}: {count}" for name, count in zip(project.class_names, counts, strict=True)
            )
            raise ValueError(
                f"too few labels to train on ({held}): label at least "
                f"{config.train.min_labels_per_class} of each class, or start with --initial "
                "random picks"
            ) from None
        return _run_initial_round(
            project, unlabeled, config=config, started=started, progress=progress
        )
    if query_size > unlabeled.shape[0]:
        raise ValueError(
            f"query size {query_size} is larger than the pool of {unlabeled.shape[0]} "
            "unlabeled images"
        )
    plan = None
    if config.scoring_model == "pruned":  # checked before any training starts
        plan = load_pruning_plan(project.path)
        check_plan_fits(plan, config.model)
    weights_path = None
    backbone = get_backbone_name(config.model.name)
    if backbone is not None and config.backbone is not None:  # found before any training too
        weights_path = find_weights_file(backbone, weights=config.backbone.weights)

    round_id = store.start_round(
        strategy=config.selection.strategy, query_size=query_size, config=config.to_dict()
    )
    # Only now: holding the round lock, no other process can be writing a round folder.
    _remove_abandoned_round_folders(project)
    final = project.get_round_folder(round_id)
    temp = final.parent / f"{_TEMP_PREFIX}{round_id:04d}.tmp-{secrets.token_hex(4)}"
    inputs = _RoundInputs(labeled_ids, labels, unlabeled, plan, weights_path)
    try:
        temp.mkdir(parents=True)
        report, query = _train_score_select(
            project,
            round_id,
            RoundFolder(temp),
            inputs,
            config=config,
            progress=progress,
            engine=engine,
        )
        report["seconds"] = time.perf_counter() - started
        RoundFolder(temp).write_report(report)
        os.replace(temp, final)
        fsync_folder(final.parent)
        store.finish_round(
            round_id,
            folder=str(final.relative_to(project.path)),
            n_labels=report["n_labels"],
            val_accuracy=report["val_accuracy"],
            test_accuracy=report["test_accuracy"],
            scored_ids=query.scored_ids,
            scores=query.scores,
            selected_ids=query.selected,
        )
    except BaseException as error:
        # KeyboardInterrupt included: the round must not stay 'running' in this process.
        store.fail_round(round_id, f"{type(error).__name__}: {error}")
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return RoundSummary(
        round_id=round_id,
        strategy=config.selection.strategy,
        n_labels=report["n_labels"],
        n_scored=report["n_scored"],
        n_queued=len(store.get_queue()),
        val_accuracy=report["val_accuracy"],
        test_accuracy=report["test_accuracy"],
        folder=str(final.relative_to(project.path)),
        seconds=report["seconds"],
    )


@dataclass(frozen=True)
class _RoundInputs:
    """What a trained round starts from: the labels so far (``labeled_ids`` with their
    ``labels``), the ``unlabeled`` pool, and what was found before training began: the pruning
    ``plan`` to score with and a pretrained model's ``weights_path`` (None when not used)."""

    labeled_ids: NDArray[np.int64]
    labels: NDArray[np.int64]
    unlabeled: NDArray[np.int64]
    plan: PruningPlan | None
    weights_path: Path | None


@dataclass(frozen=True)
class _Learned:
    """What training reported (with the model), the predictor of that model, and the cached
    backbone features it was trained on (a frozen backbone; else None)."""

    trained: TrainResult
    predictor: Predictor
    cached: CachedFeatures | None

    @property
    def model(self) -> Classifier:
        return self.trained.model


def _train_score_select(
    project: Project,
    round_id: int,
    folder: RoundFolder,
    inputs: _RoundInputs,
    *,
    config: RoundConfig,
    progress: bool,
    engine: Engine | None,
) -> tuple[dict[str, Any], PoolQuery]:
    """Train, decide what scores the pool, score and select, and write the model and the
    predictions into ``folder``; return the round's report (to be written once the round's
    time is known) and the query."""
    n_labels = int(inputs.labeled_ids.shape[0])
    learned = _train(project, inputs, config=config, progress=progress)
    save_checkpoint(
        folder.checkpoint,
        learned.model,
        model_config=config.model,
        n_classes=len(project.class_names),
        class_names=project.class_names,
        extra={"round_id": round_id, "n_labels": n_labels},
    )
    predictor, scoring = _make_scoring_predictor(
        project, round_id, folder, learned, inputs, config=config, engine=engine
    )
    query = query_pool(
        predictor,
        inputs.unlabeled,
        inputs.labeled_ids,
        selection=config.selection,
        rng=np.random.default_rng([config.seed, round_id]),
        score_subset=config.score_subset,
        progress=progress,
    )
    test_accuracy = _get_test_accuracy(project, learned.predictor)
    folder.write_predictions(
        RoundPredictions(query.scored_ids, query.scores, query.guesses, query.confidences)
    )
    trained = learned.trained
    report = {
        "round_id": round_id,
        "strategy": config.selection.strategy,
        "n_labels": n_labels,
        "n_labels_per_class": np.bincount(
            inputs.labels, minlength=len(project.class_names)
        ).tolist(),
        "n_scored": int(query.scored_ids.shape[0]),
        "selected_ids": query.selected.tolist(),
        # None when no validation split was held out (too few labels): NaN is not JSON.
        "val_accuracy": trained.val_accuracy if math.isfinite(trained.val_accuracy) else None,
        "validation": trained.validation,
        "augment": list(config.train.augment),
        "test_accuracy": test_accuracy,
        "train_seconds": trained.seconds,
        "n_epochs": trained.n_epochs,
        "seconds": None,  # the whole round's, set when it is known
        "scoring_model": scoring,
        "config": config.to_dict(),
    }
    if inputs.weights_path is not None:
        report["backbone"] = _describe_backbone(inputs.weights_path, learned.cached)
    return report, query


def _train(
    project: Project, inputs: _RoundInputs, *, config: RoundConfig, progress: bool
) -> _Learned:
    """Train the round's model on the labels so far, and make its predictor."""
    images = project.load_images()
    if inputs.weights_path is None:
        trained = train_model(
            np.asarray(images[inputs.labeled_ids]),
            inputs.labels,
            n_classes=len(project.class_names),
            model_config=config.model,
            train_config=config.train,
            progress=progress,
        )
        cached = None
    else:
        trained, cached = _train_pretrained(
            project,
            inputs.labeled_ids,
            inputs.labels,
            config=config,
            weights_path=inputs.weights_path,
            progress=progress,
        )
    predictor: Predictor
    if cached is None:
        predictor = ImagePredictor(
            trained.model, images, device=config.train.device, n_threads=config.train.n_threads
        )
    else:
        predictor = FeaturePredictor(trained.model.head, cached.features)
    return _Learned(trained, predictor, cached)


def _make_scoring_predictor(
    project: Project,
    round_id: int,
    folder: RoundFolder,
    learned: _Learned,
    inputs: _RoundInputs,
    *,
    config: RoundConfig,
    engine: Engine | None,
) -> tuple[Predictor, dict[str, Any]]:
    """What scores the pool, decided once, and how the report describes it: the trained model
    (on the images, or its head on cached features), or the trimmed model ``prune apply``
    chose (saved beside the round's own); on an engine's workers when one other than local
    is given and images are scored."""
    scoring: dict[str, Any] = {"kind": "full", "n_blocks": _count_blocks(config.model)}
    if learned.cached is not None:
        return learned.predictor, scoring
    predictor = learned.predictor
    assert isinstance(predictor, ImagePredictor)
    checkpoint = folder.checkpoint
    if inputs.plan is not None:
        scoring_model = make_scoring_model(
            learned.model,
            np.asarray(predictor.images[inputs.labeled_ids]),
            inputs.labels,
            plan=inputs.plan,
            n_threads=config.train.n_threads,
            device=config.train.device,
        )
        checkpoint = folder.scoring_checkpoint
        save_checkpoint(
            checkpoint,
            scoring_model,
            model_config=scoring_model.config,
            n_classes=len(project.class_names),
            class_names=project.class_names,
            extra={"round_id": round_id, "pruned_from": folder.checkpoint.name},
        )
        predictor = dataclasses.replace(predictor, model=scoring_model)
        scoring = {
            **inputs.plan.describe(),
            "checkpoint": checkpoint.name,
            "test_accuracy": _get_test_accuracy(project, predictor),
        }
    if engine is not None and engine.name != "local":
        return (
            ShardedPredictor(engine, checkpoint, get_images_file(project.path), local=predictor),
            scoring,
        )
    return predictor, scoring


def _run_initial_round(
    project: Project,
    unlabeled: NDArray[np.int64],
    *,
    config: RoundConfig,
    started: float,
    progress: bool,
) -> RoundSummary:
    """Queue ``config.initial`` unlabeled samples picked by the cold-start strategy: the start
    before any model exists."""
    store = project.store
    n_picks = config.initial
    if n_picks > unlabeled.shape[0]:
        raise ValueError(
            f"--initial {n_picks} asks for more images than the pool's {unlabeled.shape[0]} "
            "unlabeled ones"
        )
    strategy = get_initial_strategy_name(config.initial_strategy)
    round_id = store.start_round(strategy=strategy, query_size=n_picks, config=config.to_dict())
    try:
        picks = pick_initial(
            project,
            unlabeled,
            n_picks,
            cold_start=config.initial_strategy,
            embedding=config.embedding,
            rng=np.random.default_rng([config.seed, round_id]),
            progress=progress,
        )
        n_labels = int(store.get_current_labels()[0].shape[0])
        store.finish_round(
            round_id,
            folder="",
            n_labels=n_labels,
            val_accuracy=None,
            test_accuracy=None,
            scored_ids=picks,
            scores=np.zeros(n_picks),
            selected_ids=picks,
        )
    except BaseException as error:
        store.fail_round(round_id, f"{type(error).__name__}: {error}")
        raise
    return RoundSummary(
        round_id=round_id,
        strategy=strategy,
        n_labels=n_labels,
        n_scored=0,
        n_queued=len(store.get_queue()),
        val_accuracy=None,
        test_accuracy=None,
        folder="",
        seconds=time.perf_counter() - started,
    )


def _train_pretrained(
    project: Project,
    labeled_ids: NDArray[np.int64],
    labels: NDArray[np.int64],
    *,
    config: RoundConfig,
    weights_path: Path,
    progress: bool,
) -> tuple[TrainResult, CachedFeatures | None]:
    """Train a ``<backbone>-pretrained`` model that starts from the weights in
    ``weights_path``: fine-tuned whole, or, when frozen, only its head on the project's cached
    features (returned too, for scoring; computed first when no round has cached them)."""
    assert config.backbone is not None
    model = make_pretrained_model(
        config.model,
        n_classes=len(project.class_names),
        weights_path=weights_path,
        seed=config.train.seed,
    )
    if config.backbone.mode == "finetune":
        trained = train_model(
            np.asarray(project.load_images()[labeled_ids]),
            labels,
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
        weights_digest=get_weights_digest(weights_path),
        device=config.train.device,
        n_threads=config.train.n_threads,
        progress=progress,
    )
    trained = train_head(model, cached.features[labeled_ids], labels, train_config=config.train)
    return trained, cached


def _describe_backbone(weights_path: Path, cached: CachedFeatures | None) -> dict[str, Any]:
    """What a pretrained round's report says of its weights and features."""
    description: dict[str, Any] = {"weights": str(weights_path)}
    if cached is not None:
        description["features"] = str(cached.path)
        description["feature_seconds"] = cached.seconds
    return description


def _get_test_accuracy(project: Project, predictor: Predictor) -> float | None:
    """Accuracy of ``predictor`` on the project's test samples (known labels), or None when
    it has none."""
    test_ids, test_labels = project.store.get_known_labels("test")
    if test_ids.shape[0] == 0:
        return None
    return predictor.get_accuracy(test_ids, test_labels)


def _count_blocks(model_config: ModelConfig) -> int | None:
    """Blocks of the small residual and plain networks (None for the others)."""
    if model_config.name not in ("resnet", "plain"):
        return None
    return sum(model_config.get_stage_depths())


def _remove_abandoned_round_folders(project: Project) -> None:
    """Delete temporary folders of rounds that a killed process left (never read)."""
    rounds_dir = get_rounds_folder(project.path)
    if not rounds_dir.is_dir():
        return
    for leftover in rounds_dir.glob(f"{_TEMP_PREFIX}*.tmp-*"):
        logger.info("removing %s, left by an interrupted round", leftover)
        shutil.rmtree(leftover, ignore_errors=True)
