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
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.engines.base import Engine
from labeler.learning.auto_embeddings import get_auto_preference
from labeler.learning.backbones import find_weights_file, get_backbone_name
from labeler.learning.checkpoints import save_checkpoint
from labeler.learning.embedding_preference import order_by_agreement
from labeler.learning.feature_cache import CachedFeatures
from labeler.learning.learner_choice import CNN
from labeler.learning.models import ModelConfig
from labeler.learning.predictors import ImagePredictor, Predictor, ShardedPredictor
from labeler.learning.training import check_labels
from labeler.loop.accuracy_audit import add_audit_slice, describe_cross_validation
from labeler.loop.initial_round import get_initial_strategy_name, pick_initial
from labeler.loop.round_config import AUTO_EMBEDDING, RoundConfig
from labeler.loop.round_learning import Learned, RoundInputs, learn, load_auto_parts
from labeler.loop.stop_set import ensure_stop_set, measure_stop_set
from labeler.pruning.trimmed_model import check_plan_fits, load_pruning_plan, make_scoring_model
from labeler.selection.auto_strategy import (
    COVERAGE,
    AutoStrategy,
    get_uncertainty_selection,
    interleave,
    plan_auto_strategy,
)
from labeler.selection.label_issues import rank_suspects
from labeler.selection.pool_query import PoolQuery, query_pool
from labeler.selection.strategies import AUTO, SelectionConfig
from labeler.store.atomic_files import fsync_folder
from labeler.store.project import Project
from labeler.store.project_files import (
    RoundFolder,
    RoundPredictions,
    get_images_file,
    get_rounds_folder,
)

__all__ = ["RoundConfig", "RoundSummary", "run_round"]

logger = logging.getLogger(__name__)

_TEMP_PREFIX = ".round-"


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
    learner: str = ""
    learner_reason: str = ""
    candidates: tuple[dict[str, Any], ...] = ()
    validation: str = ""
    batch_by: str = ""
    warm_start: str = ""


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
    # A network needs every class; a linear head learns from two classes and the auto strategy
    # keeps covering the pool until the others turn up.
    min_per_class = config.train.min_labels_per_class if config.learner == CNN else 0
    try:
        check_labels(labels, n_classes=len(project.class_names), min_per_class=min_per_class)
    except ValueError:
        if config.initial == 0:
            counts = np.bincount(labels, minlength=len(project.class_names))
            held = ", ".join(
                f"{name}: {count}" for name, count in zip(project.class_names, counts, strict=True)
            )
            needed = (
                f"at least {min_per_class} of each class"
                if min_per_class
                else "images of two classes or more"
            )
            raise ValueError(
                f"too few labels to train on ({held}): label {needed}, or start with --initial "
                "picks"
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
    inputs = RoundInputs(labeled_ids, labels, unlabeled, plan, weights_path)
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
        learner=report["learner"]["chosen"],
        learner_reason=report["learner"]["reason"],
        candidates=tuple(report["learner"]["candidates"]),
        validation=report["validation"],
        batch_by=report.get("auto_strategy", {}).get("reason", config.selection.strategy),
        warm_start=report["warm_start"] or "",
    )


def _train_score_select(
    project: Project,
    round_id: int,
    folder: RoundFolder,
    inputs: RoundInputs,
    *,
    config: RoundConfig,
    progress: bool,
    engine: Engine | None,
) -> tuple[dict[str, Any], PoolQuery]:
    """Train, decide what scores the pool, score and select, and write the model and the
    predictions into ``folder``; return the round's report (to be written once the round's
    time is known) and the query."""
    n_labels = int(inputs.labeled_ids.shape[0])
    n_classes = len(project.class_names)
    learned = learn(project, inputs, config=config, progress=progress)
    if learned.model is not None:
        save_checkpoint(
            folder.checkpoint,
            learned.model,
            model_config=config.model,
            n_classes=n_classes,
            class_names=project.class_names,
            extra={"round_id": round_id, "n_labels": n_labels},
        )
    if learned.head is not None:
        learned.head.save(folder.head)
    if learned.out_of_fold is not None:
        folder.write_out_of_fold(learned.out_of_fold.sample_ids, learned.out_of_fold.probs)
    predictor, scoring = _make_scoring_predictor(
        project, round_id, folder, learned, inputs, config=config, engine=engine
    )
    selection, auto = _resolve_strategy(config, inputs.labels, n_classes=n_classes)
    rng = np.random.default_rng([config.seed, round_id])
    # The stop set is measured, never queued, until the rest of the pool runs short: then
    # labeling is all but done and its images are worth labeling too.
    stop_ids = ensure_stop_set(project, inputs.unlabeled, seed=config.seed)
    candidates = np.setdiff1d(inputs.unlabeled, stop_ids)
    if candidates.shape[0] < selection.query_size:
        candidates = inputs.unlabeled
    stop_set = measure_stop_set(project, folder, predictor, stop_ids)
    # With auto past coverage, uncertainty picks its share of the batch and coverage the rest.
    n_uncertain, n_cover = (
        (selection.query_size, 0) if auto is None else auto.split(selection.query_size)
    )
    query = query_pool(
        predictor,
        candidates,
        inputs.labeled_ids,
        selection=selection
        if auto is None or auto.covers
        else dataclasses.replace(selection, query_size=n_uncertain),
        rng=rng,
        score_subset=config.score_subset,
        progress=progress,
    )
    folder.write_predictions(
        RoundPredictions(query.scored_ids, query.scores, query.guesses, query.confidences)
    )
    n_scored = int(query.scored_ids.shape[0])
    scored = query
    coverage_embedding = None
    if auto is not None and n_cover:
        # Every image was scored for the page's guesses; coverage picks the batch, or its part
        # of it, counting the uncertainty picks as covered.
        coverage_embedding = (
            learned.embedding or _get_cold_start_embedding(project, config, progress=progress)[0]
        )
        taken = query.selected[:0] if auto.covers else query.selected
        picks = pick_initial(
            project,
            np.setdiff1d(candidates, taken),
            n_cover,
            cold_start=COVERAGE,
            embedding=coverage_embedding,
            rng=rng,
            progress=progress,
        )
        query = _add_coverage(query, picks, replace=auto.covers)
    query, audit = add_audit_slice(folder, query, scored, share=config.audit_share, rng=rng)
    trained = learned.trained
    report = {
        "round_id": round_id,
        "strategy": config.selection.strategy,
        "n_labels": n_labels,
        "n_labels_per_class": np.bincount(inputs.labels, minlength=n_classes).tolist(),
        "n_scored": n_scored,
        "selected_ids": query.selected.tolist(),
        "learner": learned.describe(),
        "val_accuracy": learned.val_accuracy,  # None when not measured: NaN is not JSON
        "validation": learned.validation,
        "augment": list(config.train.augment) if trained is not None else [],
        "test_accuracy": _get_test_accuracy(project, learned.predictor),
        "train_seconds": trained.seconds if trained is not None else None,
        "n_epochs": trained.n_epochs if trained is not None else None,
        "warm_start": None if trained is None else (trained.start or None),
        "seconds": None,  # the whole round's, set when it is known
        "scoring_model": scoring,
        "suspects": _describe_suspects(learned, inputs.labels),
        "stop_set": stop_set,
        "accuracy_estimate": {
            "audit": audit,
            "cross_validation": _describe_cross_validation(learned, inputs.labels, project),
        },
        "config": config.to_dict(),
    }
    if auto is not None:
        report["auto_strategy"] = {
            "strategy": auto.strategy,
            "diversity": auto.diversity,
            "uncertainty_share": auto.uncertainty_share,
            "n_uncertain": n_uncertain,
            "n_covered": n_cover,
            "reason": auto.reason,
            "embedding": coverage_embedding,
        }
    if inputs.weights_path is not None:
        report["backbone"] = _describe_backbone(inputs.weights_path, learned.cached)
    return report, query


def _add_coverage(query: PoolQuery, picks: NDArray[np.int64], *, replace: bool) -> PoolQuery:
    """``query`` with coverage ``picks`` as its whole batch (``replace``; scored ids and
    scores become the picks and falling priorities), or interleaved with its own picks (the
    picks it did not score join its scored ids with score 0)."""
    if replace:
        priorities = np.linspace(1.0, 0.0, num=picks.shape[0], endpoint=False, dtype=np.float64)
        return PoolQuery(picks, picks, priorities, query.guesses[:0], query.confidences[:0])
    return query.with_batch(interleave(query.selected, picks))


def _describe_suspects(learned: Learned, labels: NDArray[np.int64]) -> dict[str, Any]:
    """The report's ``suspects`` entry: where the out-of-fold probabilities came from, and how
    many labels confident learning flags (``labeler suspects`` lists them)."""
    out_of_fold = learned.out_of_fold
    if out_of_fold is None:
        return {"source": learned.out_of_fold_note, "n_checked": 0, "n_flagged": None}
    ranking = rank_suspects(labels, out_of_fold.probs)
    return {
        "source": learned.out_of_fold_note,
        "n_checked": int(labels.shape[0]),
        "n_flagged": ranking.n_flagged,
    }


def _describe_cross_validation(
    learned: Learned, labels: NDArray[np.int64], project: Project
) -> dict[str, Any] | None:
    """The accuracy estimate's cross-validated part, from the out-of-fold probabilities the
    round computed for label checks; None without them."""
    out_of_fold = learned.out_of_fold
    if out_of_fold is None:
        return None
    return describe_cross_validation(
        labels, out_of_fold.probs, class_names=project.class_names, source=learned.out_of_fold_note
    )


def _resolve_strategy(
    config: RoundConfig, labels: NDArray[np.int64], *, n_classes: int
) -> tuple[SelectionConfig, AutoStrategy | None]:
    """The selection the pool is scored with, and the ``auto`` plan when the strategy is
    ``auto`` (its uncertainty strategy and diversity replace ``auto``; when it covers, the
    batch comes from coverage and the scores only give the page its guesses)."""
    if config.selection.strategy != AUTO:
        return config.selection, None
    auto = plan_auto_strategy(labels, n_classes=n_classes)
    return get_uncertainty_selection(config.selection), auto


def _get_cold_start_embedding(
    project: Project, config: RoundConfig, *, progress: bool
) -> tuple[str, str]:
    """``(embedding, why)``: the embedding coverage picks read when no head names one,
    ``config.embedding``, or with ``auto`` the first in ``--model auto``'s order of
    preference (``labeler.learning.embedding_preference``), with the sentence saying why."""
    if config.embedding != AUTO_EMBEDDING:
        return config.embedding, "asked for"
    # The parts alone: the order is measured on them, and the joint one is not read here.
    parts, _ = load_auto_parts(project, config=config, progress=progress)
    names, order = order_by_agreement(get_auto_preference(list(parts)), parts)
    return names[0], order


def _make_scoring_predictor(
    project: Project,
    round_id: int,
    folder: RoundFolder,
    learned: Learned,
    inputs: RoundInputs,
    *,
    config: RoundConfig,
    engine: Engine | None,
) -> tuple[Predictor, dict[str, Any]]:
    """What scores the pool, decided once, and how the report describes it: the trained model
    (on the images, or its head on cached features), or the trimmed model ``prune apply``
    chose (saved beside the round's own); on an engine's workers when one other than local
    is given and images are scored."""
    if learned.model is None:  # a linear head: nothing to prune or to share out
        return learned.predictor, {"kind": "full", "n_blocks": None}
    scoring: dict[str, Any] = {"kind": "full", "n_blocks": _count_blocks(config.model)}
    if learned.cached is not None:
        return learned.predictor, scoring
    predictor = learned.predictor
    assert isinstance(predictor, ImagePredictor)
    checkpoint = folder.checkpoint
    if inputs.plan is not None:
        scoring_model = make_scoring_model(
            predictor.model,
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
    embedding, order = (
        (None, "")
        if config.initial_strategy == "random"
        else _get_cold_start_embedding(project, config, progress=progress)
    )
    try:
        picks = pick_initial(
            project,
            unlabeled,
            n_picks,
            cold_start=config.initial_strategy,
            embedding=embedding or config.embedding,
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
        batch_by=config.initial_strategy
        + ("" if embedding is None else f" on the {embedding} embedding ({order})"),
    )


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
