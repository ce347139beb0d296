"""``--model auto``: the learner chosen on the labels so far.

No fixed learner fits every folder: a linear head on a pretrained embedding wins on photos at a
few labels per class, one on raw pixels wins on small scans, and a CNN trained from scratch wins
on abstract images once labels are many. So every round lets its labels choose:

1. **Heads** (``linear@<embedding>``, ``labeler.learning.linear_head``) are cross-validated:
   stratified k-fold with ``k = min(5, fewest labels of a class)``, every fold's head fitted on
   the rest. Heads fit in well under a second, so this is cheap at any budget. The folds are
   drawn once (seeded): drawing them three times and averaging changed no choice on the font
   glyphs, counting or the colour folder at 1-16 labels per class (bench/first_labels.py) and
   tripled the cost. With a class of one label no fold can test it: the first head in
   ``candidates`` is taken (the caller lists them in its order of preference) and the choice
   says so. A head no better than chance (``get_chance_level``) is not chosen while another is
   better, nor is a head on a joint embedding (``labeler.learning.joint_embedding``) one of
   whose parts, alone, is no better than chance: such a part only dilutes the others (pixels of
   counting or orientation images, bench/results/first_labels.md). Ties go to the earlier
   candidate, and so do near ties: the earliest head within one standard error of the best (the
   difference's, paired over the labels) is chosen, as in the one-standard-error rule of model
   selection. A lead of one label (the others alike) is exactly one standard error, at any
   count, and the order of preference was measured without labels
   (``labeler.learning.embedding_preference``). On orientation such leads had put a head on the
   pixels ahead of the ImageNet features (0.418 against 0.856 on the test images at 2 labels per
   class, bench/results/first_labels.md); with the rule, ``ours`` summed over the five budgets
   rose from 3.85 to 4.13 there and from 3.58 to 3.70 on SVRT 11, and was unchanged on the other
   four datasets.
2. **The CNN** joins once every class has the labels its own validation split needs
   (``TrainConfig.min_val_per_class``): it is trained once (as a round always trains it), and
   the best head is fitted on the same training part and tested on the same validation part.
   The CNN is chosen only when it is more accurate there (a tie keeps the head: cheaper, and
   fitted on every label). Cross-validating the CNN itself would train it k times a round.

``choose_learner`` returns the choice (every candidate's accuracy and how it was measured, the
reason, for the round's report) with the winner fitted: a head refitted on every label, or the
CNN's ``TrainResult``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.embedding_kinds import list_embedding_kinds
from labeler.learning.fitting import TrainResult, plan_validation, split_validation
from labeler.learning.joint_embedding import get_joint_name, split_joint_name
from labeler.learning.linear_head import LinearHead, fit_linear_head
from labeler.learning.out_of_fold import make_folds
from labeler.learning.train_config import TrainConfig
from labeler.learning.training import check_labels

logger = logging.getLogger(__name__)

AUTO = "auto"
CNN = "cnn"
HEAD_PREFIX = "linear@"


def check_learner(name: str) -> str:
    """``name`` if it names a learner (``auto``, ``cnn``, ``linear@<embedding kind>``), else
    ValueError listing the valid ones."""
    kind = get_head_embedding(name)
    known = list_embedding_kinds()
    if name in (AUTO, CNN) or (
        kind is not None and all(part in known for part in split_joint_name(kind))
    ):
        return name
    heads = ", ".join(get_head_name(kind) for kind in known)
    raise ValueError(
        f"unknown learner {name!r}; valid ones: {AUTO}, {CNN}, {heads} (or a head on several "
        f"joined with +, e.g. {get_head_name(get_joint_name(known))})"
    )


def get_head_name(embedding: str) -> str:
    """The learner name of a linear head on ``embedding``: ``linear@<embedding>``."""
    return HEAD_PREFIX + embedding


def get_head_embedding(learner: str) -> str | None:
    """The embedding a ``linear@<embedding>`` learner reads; None for any other name."""
    return learner[len(HEAD_PREFIX) :] if learner.startswith(HEAD_PREFIX) else None


@dataclass(frozen=True)
class CandidateScore:
    """A candidate learner's measured ``accuracy`` (None: not measured) and ``method``, how
    it was measured or why it was not."""

    name: str
    accuracy: float | None
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "accuracy": self.accuracy, "method": self.method}


@dataclass(frozen=True, eq=False)
class LearnerChoice:
    """The ``chosen`` learner, ``reason`` in one sentence, every candidate's score, and the
    winner fitted on the labels: ``head`` (a ``linear@`` learner, fitted on every label) or
    ``trained`` (the CNN). ``accuracy``: the winner's measured accuracy (None: unmeasured).
    ``best_head``: the head the choice ranked first (the CNN was compared with it); None when
    no head was a candidate."""

    chosen: str
    reason: str
    scores: tuple[CandidateScore, ...]
    head: LinearHead | None = field(default=None, repr=False)
    trained: TrainResult | None = field(default=None, repr=False)
    best_head: str | None = None

    @property
    def accuracy(self) -> float | None:
        return next(score.accuracy for score in self.scores if score.name == self.chosen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "reason": self.reason,
            "accuracy": self.accuracy,
            "candidates": [score.to_dict() for score in self.scores],
        }


def choose_learner(
    labels: NDArray[np.int64],
    *,
    n_classes: int,
    head_vectors: Mapping[str, NDArray[np.float32]],
    train_cnn: Callable[[], TrainResult] | None,
    train_config: TrainConfig,
    seed: int,
) -> LearnerChoice:
    """Choose among linear heads on the embeddings of ``head_vectors`` (kind -> the labeled
    samples' rows ``[n_labels, dim]``, in order of preference) and, when ``train_cnn`` is
    given, the CNN it trains on ``labels`` with ``train_config`` (module docstring).

    ``labels`` int64 ``[n_labels]``; ``seed`` fixes the folds. At least one head is needed.
    """
    if not head_vectors:
        raise ValueError("choose_learner needs at least one embedding for the heads")
    # A class may have no label yet (the heads then never predict it); two classes are needed.
    counts = check_labels(labels, n_classes=n_classes, min_per_class=0)
    names = [get_head_name(kind) for kind in head_vectors]
    cross_validated = _cross_validate_heads(
        labels, n_classes=n_classes, head_vectors=head_vectors, seed=seed
    )
    head_scores: list[CandidateScore]
    if cross_validated is None:
        fewest = int(counts[counts > 0].min())
        head_scores = [
            CandidateScore(name, None, f"not measured: a class has {fewest} label")
            for name in names
        ]
        best = names[0]
        reason = (
            f"{best}, the first candidate: with {fewest} label in some class no fold can test "
            "that class"
        )
    else:
        n_folds, hits_of_kind = cross_validated
        accuracies = {kind: float(np.mean(hits)) for kind, hits in hits_of_kind.items()}
        chance = get_chance_level(labels)
        head_scores = []
        eligible: list[tuple[float, int, str]] = []  # (accuracy, -preference, name)
        for kind, name in zip(head_vectors, names, strict=True):
            accuracy = accuracies[kind]
            method = f"{n_folds}-fold cross-validation"
            idle = [
                part for part in split_joint_name(kind) if not accuracies.get(part, 1.0) > chance
            ]
            if not accuracy > chance:
                method += f"; no better than chance ({chance:.3f})"
            elif idle:
                method += (
                    f"; left out: {', '.join(idle)} alone is no better than chance "
                    f"({chance:.3f}) and would only dilute the rest"
                )
            else:
                eligible.append((accuracy, -len(head_scores), name))
            head_scores.append(CandidateScore(name, accuracy, method))
        if not eligible:  # every head at chance: the best of them, for what it is worth
            eligible = [
                (score.accuracy or 0.0, -index, score.name)
                for index, score in enumerate(head_scores)
            ]
        best = max(eligible)[2]
        reason = f"{best}: the best cross-validated head"
        hits = {name: hits_of_kind[kind] for kind, name in zip(head_vectors, names, strict=True)}
        preferred = _get_preferred_within_error(
            [name for _, _, name in sorted(eligible, key=lambda entry: -entry[1])], best, hits
        )
        if preferred != best:
            gap = float(np.mean(hits[best]) - np.mean(hits[preferred]))
            reason = (
                f"{preferred}: earlier in the order of preference, and within one standard "
                f"error of the best cross-validated head, {best} (ahead by {gap:.3f}, standard "
                f"error {get_paired_error(hits[best], hits[preferred]):.3f})"
            )
            best = preferred
    best_kind = list(head_vectors)[names.index(best)]
    if train_cnn is not None:
        cnn_choice = _compare_with_cnn(
            labels,
            counts,
            n_classes=n_classes,
            best_head=best,
            best_vectors=head_vectors[best_kind],
            train_cnn=train_cnn,
            train_config=train_config,
        )
        if cnn_choice is not None:
            cnn_score, head_on_split, cnn_won, trained = cnn_choice
            all_scores = (*head_scores, head_on_split, cnn_score)
            if cnn_won:
                reason = (
                    f"cnn: more accurate than {best} on the CNN's validation split "
                    f"({cnn_score.accuracy:.3f} against {head_on_split.accuracy:.3f})"
                )
                return LearnerChoice(CNN, reason, all_scores, trained=trained, best_head=best)
            reason += (
                f", and at least as accurate as the CNN on its validation split "
                f"({head_on_split.accuracy:.3f} against {cnn_score.accuracy:.3f})"
            )
            head = fit_linear_head(head_vectors[best_kind], labels, n_classes=n_classes)
            # The head's own entry is its cross-validated one; the split's is shown beside.
            return LearnerChoice(best, reason, all_scores, head=head, best_head=best)
        head_scores.append(
            CandidateScore(
                CNN,
                None,
                f"not trained: its validation split needs {train_config.min_val_per_class} "
                f"labels of every class (fewest: {int(counts.min())})",
            )
        )
    head = fit_linear_head(head_vectors[best_kind], labels, n_classes=n_classes)
    logger.info("learner: %s", reason)
    return LearnerChoice(best, reason, tuple(head_scores), head=head, best_head=best)


def get_chance_level(labels: NDArray[np.int64]) -> float:
    """The cross-validated accuracy a head on an embedding that says nothing of the classes
    would reach by luck, with margin: the commonest class's share of ``labels`` plus 1.64
    binomial standard errors of it over the labels (a one-sided 95% bound)."""
    n_labels = labels.shape[0]
    share = float(np.bincount(labels).max() / n_labels)
    return share + 1.64 * float(np.sqrt(share * (1.0 - share) / n_labels))


def get_paired_error(first: NDArray[np.bool_], second: NDArray[np.bool_]) -> float:
    """The standard error of the difference between two heads' accuracies measured on the
    same labels: ``first`` and ``second`` bool ``[n_labels]``, whether each head's held-out
    guess of each label was right. Paired, so that the labels both get right or both get
    wrong add no noise: the standard deviation of the per-label differences over sqrt(n)."""
    differences = first.astype(np.float64) - second.astype(np.float64)
    if differences.shape[0] < 2:
        return 0.0
    return float(np.std(differences, ddof=1) / np.sqrt(differences.shape[0]))


def _get_preferred_within_error(
    ordered: list[str], best: str, hits: Mapping[str, NDArray[np.bool_]]
) -> str:
    """The first of ``ordered`` (names in order of preference) whose cross-validated accuracy
    is within one paired standard error of ``best``'s (the one-standard-error rule): with few
    labels a head that is ahead by less than the noise of the measure is as likely ahead by
    luck, and the order of preference was chosen without labels for a reason."""
    for name in ordered:
        gap = float(np.mean(hits[best]) - np.mean(hits[name]))
        # A lead of one label (the rest alike) is exactly one standard error: kept within.
        if gap <= get_paired_error(hits[best], hits[name]) + 1e-9:
            return name
    return best


def _cross_validate_heads(
    labels: NDArray[np.int64],
    *,
    n_classes: int,
    head_vectors: Mapping[str, NDArray[np.float32]],
    seed: int,
) -> tuple[int, dict[str, NDArray[np.bool_]]] | None:
    """``(folds, hits)`` of stratified k-fold, the same folds for every head: ``hits`` kind ->
    bool ``[n_labels]``, which labels the head's held-out guesses got right (its accuracy is
    their mean); None when some labeled class has a single label."""
    folds = make_folds(labels, n_classes=n_classes, seed=seed)
    if folds is None:
        return None
    hits_of_kind = {}
    for kind, vectors in head_vectors.items():
        rows = np.asarray(vectors)
        hits: NDArray[np.bool_] = np.zeros(labels.shape[0], dtype=bool)
        for train, test in folds:
            head = fit_linear_head(rows[train], labels[train], n_classes=n_classes)
            hits[test] = head.predict(rows[test]) == labels[test]
        hits_of_kind[kind] = hits
    return len(folds), hits_of_kind


def _compare_with_cnn(
    labels: NDArray[np.int64],
    counts: NDArray[np.int64],
    *,
    n_classes: int,
    best_head: str,
    best_vectors: NDArray[np.float32],
    train_cnn: Callable[[], TrainResult],
    train_config: TrainConfig,
) -> tuple[CandidateScore, CandidateScore, bool, TrainResult] | None:
    """The CNN against the best head on the CNN's own validation split: ``(the CNN's score,
    the head's score on that split, whether the CNN won, the CNN)``; None when the labels are
    too few for that split (the CNN is then not trained)."""
    _, val_fraction = plan_validation(counts, train_config)
    if val_fraction <= 0:
        return None
    train_ids, val_ids = split_validation(labels, val_fraction=val_fraction, seed=train_config.seed)
    trained = train_cnn()
    rows = np.asarray(best_vectors)
    head = fit_linear_head(rows[train_ids], labels[train_ids], n_classes=n_classes)
    head_accuracy = float(np.mean(head.predict(rows[val_ids]) == labels[val_ids]))
    method = f"the CNN's validation split ({val_ids.shape[0]} labels)"
    head_score = CandidateScore(f"{best_head} (split)", head_accuracy, method)
    cnn_score = CandidateScore(CNN, float(trained.val_accuracy), trained.validation)
    return cnn_score, head_score, float(trained.val_accuracy) > head_accuracy, trained
