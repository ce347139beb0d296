"""Rounds with the defaults: the learner chosen on the labels (``--model auto``), coverage
while labels are few (``--strategy auto``), and linear heads on embeddings."""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from labeler.learning.linear_head import LinearHead
from labeler.store import project_files
from labeler.store.project import open_project
from tests.last_round import get_last_round_folder, read_last_report

FAST_FLAGS = ["--width", "4", "--min-steps", "20", "--max-epochs", "3", "--batch-size", "16"]
FAST_FLAGS += ["--device", "cpu", "--threads", "1"]
JOINT = "efficientnet_lite0+pixels"


@pytest.fixture
def project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Path:
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    return path


def test_the_default_round_covers_the_pool_then_chooses_a_head_on_the_labels(
    project: Path, run_cli: Callable
) -> None:
    result = run_cli("round", project, "--initial", "8", *FAST_FLAGS)
    assert result.code == 0, result.err
    # The tiny set's pixels and ImageNet features disagree on which images are alike (its
    # shapes lie anywhere), so the features alone come first (embedding_preference).
    assert (
        "picked by max_herding on the efficientnet_lite0 embedding (efficientnet_lite0 first:"
        in (result.out)
    )
    assert "agree too little to join them (pixels" in result.out
    assert run_cli("oracle", project).code == 0

    result = run_cli("round", project, "--query-size", "6", *FAST_FLAGS)
    assert result.code == 0, result.err
    assert "learned from 8 labels" in result.out
    expected = ["linear@efficientnet_lite0", f"linear@{JOINT}", "linear@pixels", "cnn"]
    for name in expected:
        assert f"    {name}: " in result.out
    folder, report = get_last_round_folder(project), read_last_report(project)
    learner = report["learner"]
    assert learner["chosen"].startswith("linear@")
    assert [candidate["name"] for candidate in learner["candidates"]] == expected
    assert learner["embedding_order"].startswith("efficientnet_lite0 first:")
    assert learner["candidates"][-1]["accuracy"] is None  # too few labels for its split
    assert (folder / project_files.HEAD_FILE).is_file()
    assert not (folder / project_files.CHECKPOINT_FILE).exists()
    assert report["train_seconds"] is None and report["augment"] == []
    # Every unlabeled image was scored, so the page has a guess for each.
    predictions = project_files.RoundFolder(folder).read_predictions()
    assert predictions is not None and predictions.scored_ids.shape == (32,)
    assert report["n_scored"] == 32
    assert set(predictions.guesses.tolist()) <= {0, 1}
    # The head saved is the one that guessed.
    head = LinearHead.load(folder / project_files.HEAD_FILE)
    assert head.n_classes == 2
    auto = report["auto_strategy"]
    assert auto["strategy"] in ("max_herding", "margin") and auto["reason"]
    with open_project(project) as opened:
        queue = [item.sample_id for item in opened.store.get_queue()]
        labeled, _ = opened.store.get_current_labels()
    assert len(queue) == 6 and not set(queue) & set(labeled.tolist())
    assert report["selected_ids"] == queue

    status = run_cli("status", project)
    assert f"round 2 learned with {learner['chosen']}" in status.out
    data = json.loads(run_cli("status", project, "--json").out)
    assert data["rounds"][-1]["learner"] == learner["chosen"]
    assert data["last_learner"]["round"] == 2


def test_a_head_on_one_embedding_reports_its_cross_validated_accuracy(
    project: Path, run_cli: Callable
) -> None:
    flags = ["--model", "linear@pixels", "--embedding", "pixels", *FAST_FLAGS]
    assert run_cli("round", project, "--initial", "12", *flags).code == 0
    assert run_cli("oracle", project).code == 0
    result = run_cli("round", project, "--query-size", "4", "--strategy", "margin", *flags)
    assert result.code == 0, result.err
    report = read_last_report(project)
    assert report["learner"]["chosen"] == "linear@pixels"
    assert report["validation"].startswith(("3-fold", "4-fold", "5-fold"))
    assert 0.0 <= report["val_accuracy"] <= 1.0
    assert report["test_accuracy"] is not None
    assert "auto_strategy" not in report
    # Queued by margin: the scores of the queue are the highest, but for the audit slice (by
    # default a tenth of the batch, rounded up: 1 of 4) drawn at random.
    folder = get_last_round_folder(project)
    predictions = project_files.RoundFolder(folder).read_predictions()
    drawn = project_files.RoundFolder(folder).read_audit()
    assert predictions is not None and drawn is not None and drawn[0].shape == (1,)
    by_id = dict(zip(predictions.scored_ids.tolist(), predictions.scores.tolist(), strict=True))
    chosen = [sample for sample in report["selected_ids"] if sample not in drawn[0]]
    assert len(chosen) == 3
    assert min(by_id[s] for s in chosen) >= max(v for s, v in by_id.items() if s not in chosen)


def test_one_label_per_class_trains_a_head_and_margin_picks_half_the_batch(
    project: Path, run_cli: Callable
) -> None:
    with open_project(project) as opened:
        opened.store.add_labels([(0, "class_0"), (1, "class_1")], annotator="t", source="t")
    flags = ["--model", "linear@pixels", "--embedding", "pixels", *FAST_FLAGS]
    result = run_cli("round", project, "--query-size", "4", *flags)
    assert result.code == 0, result.err
    report = read_last_report(project)
    # One label per class: nothing to cross-validate; every class has a label, so margin
    # picks half the batch and coverage of the head's embedding the rest.
    assert report["val_accuracy"] is None
    auto = report["auto_strategy"]
    assert auto["strategy"] == "margin" and auto["uncertainty_share"] == 0.5
    assert (auto["n_uncertain"], auto["n_covered"], auto["embedding"]) == (2, 2, "pixels")
    selected = report["selected_ids"]
    assert len(selected) == len(set(selected)) == 4 and not {0, 1} & set(selected)


def test_a_class_without_labels_is_searched_for_by_coverage(
    shapes_folder: Path, tmp_path: Path, run_cli: Callable
) -> None:
    project = tmp_path / "shapes-project"
    assert run_cli("init", project, "--images", shapes_folder).code == 0
    with open_project(project) as opened:
        ids, known = opened.store.get_known_labels("pool")
        names = opened.class_names
        # Two labels of each of two classes; the third class has none yet.
        picks = [
            (int(sample), names[label]) for label in (0, 1) for sample in ids[known == label][:2]
        ]
        opened.store.add_labels(picks, annotator="t", source="t")
        missing = int(np.setdiff1d(np.arange(3), [0, 1])[0])
    flags = ["--model", "linear@pixels", "--embedding", "pixels", *FAST_FLAGS]
    result = run_cli("round", project, "--query-size", "6", *flags)
    assert result.code == 0, result.err
    report = read_last_report(project)
    assert report["auto_strategy"]["strategy"] == "max_herding"
    assert report["auto_strategy"]["embedding"] == "pixels"
    assert "fewest labels of a class (0)" in report["auto_strategy"]["reason"]
    # The head never predicts the class it has not seen, yet coverage queues some of it.
    folder = get_last_round_folder(project)
    predictions = project_files.RoundFolder(folder).read_predictions()
    assert predictions is not None and missing not in set(predictions.guesses.tolist())
    with open_project(project) as opened:
        queued = [item.sample_id for item in opened.store.get_queue()]
        truth = dict(zip(ids.tolist(), known.tolist(), strict=True))
    assert missing in {truth[sample] for sample in queued}


def test_pruning_needs_a_network(project: Path, run_cli: Callable) -> None:
    result = run_cli("round", project, "--scoring-model", "pruned", *FAST_FLAGS)
    assert result.code == 2
    assert "may choose a linear head; use --model resnet" in result.err
    flags = ["--model", "linear@pixels", "--embedding", "pixels", *FAST_FLAGS]
    assert run_cli("round", project, "--initial", "12", *flags).code == 0
    assert run_cli("oracle", project).code == 0
    assert run_cli("round", project, "--query-size", "4", *flags).code == 0
    result = run_cli("prune", "analyze", project, "--round", "last")
    assert result.code == 2
    assert "round 2 learned a linear head on an embedding, not a network" in result.err
    result = run_cli("prune", "analyze", project, "--model", "linear@pixels")
    assert result.code == 2
    assert "is a linear head on an embedding: pruning needs a network" in result.err


def test_the_first_labels_can_be_chosen_on_a_joint_embedding(
    project: Path, run_cli: Callable
) -> None:
    flags = ["--initial", "6", "--embedding", JOINT, "--initial-strategy", "typiclust"]
    result = run_cli("round", project, *flags, *FAST_FLAGS)
    assert result.code == 0, result.err
    assert f"picked by typiclust on the {JOINT} embedding" in result.out
    with open_project(project) as opened:
        assert len(opened.store.get_queue()) == 6
    bad = run_cli("round", project, "--initial", "6", "--embedding", "pixels+clip")
    assert bad.code == 2 and "unknown embedding kind 'clip'" in bad.err
