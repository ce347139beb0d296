"""labeler status: labels per class, rounds, the queue; as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from labeler.data.dataset_writer import write_dataset
from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder, RoundPredictions
from labeler.store.project_status import SCORE_QUANTILES
from tests.conftest import FakeFamily


def test_status_shows_labels_rounds_and_queue(project: Path, run_cli) -> None:
    run_cli("label", project, "0", "class_0")
    run_cli("label", project, "1", "class_0")
    with open_project(project) as opened:
        store = opened.store
        round_id = store.start_round(strategy="entropy", query_size=3, config={})
        store.finish_round(
            round_id,
            folder="rounds/round-0001",
            n_labels=2,
            val_accuracy=0.5,
            test_accuracy=0.625,
            scored_ids=[5, 6, 7],
            scores=[0.1, 0.2, 0.3],
            selected_ids=[7, 6, 5],
        )
        store.lease_next("ann", 1)
    result = run_cli("status", project)
    assert result.code == 0, result.err
    assert "pool: 40 samples, 2 labeled, 38 unlabeled; test: 20 samples" in result.out
    lines = result.out.splitlines()
    class_rows = [line.split() for line in lines if line.startswith("class_")]
    # Known classes: 0 is class_0, 1 is class_1; both are labeled class_0, so 19 + 19 left.
    assert class_rows == [["class_0", "2", "19"], ["class_1", "0", "19"]]
    round_row = next(line for line in lines if line.split()[:3] == ["1", "done", "entropy"])
    assert "0.500" in round_row and "0.625" in round_row
    assert "last test accuracy: 0.625 (round 1)" in result.out
    assert "queue: 3 waiting, 1 leased" in result.out

    result = run_cli("status", project, "--json")
    status = json.loads(result.out)
    assert status["n_labeled"] == 2
    assert status["classes"][0] == {"name": "class_0", "labeled": 2, "unlabeled_known": 19}
    assert status["rounds"][0]["test_accuracy"] == 0.625
    assert (status["n_queued"], status["n_leased"]) == (3, 1)


def test_status_of_a_missing_project(tmp_path: Path, run_cli) -> None:
    result = run_cli("status", tmp_path / "none")
    assert result.code == 2
    assert "does not exist" in result.err


def test_status_shows_the_last_rounds_score_distribution(project: Path, run_cli) -> None:
    scores = np.linspace(0.0, 1.0, 21)
    scored_ids = np.arange(21, dtype=np.int64)
    with open_project(project) as opened:
        store = opened.store
        round_id = store.start_round(strategy="margin", query_size=3, config={})
        folder = RoundFolder(opened.get_round_folder(round_id))
        folder.path.mkdir(parents=True)
        folder.write_predictions(
            RoundPredictions(scored_ids, scores, np.zeros(21, np.int64), np.full(21, 0.5))
        )
        folder.write_report({"selected_ids": [20, 19, 18]})
        store.finish_round(
            round_id,
            folder=str(folder.path.relative_to(opened.path)),
            n_labels=0,
            val_accuracy=None,
            test_accuracy=None,
            scored_ids=scored_ids,
            scores=scores,
            selected_ids=[20, 19, 18],
        )
    status = json.loads(run_cli("status", project, "--json").out)["last_scores"]
    assert status["n_scored"] == 21
    np.testing.assert_allclose(status["scored"], np.quantile(scores, SCORE_QUANTILES))
    np.testing.assert_allclose(status["selected"], np.quantile(scores[18:], SCORE_QUANTILES))
    text = run_cli("status", project).out
    assert "last round's scores (21 images scored; min/p25/median/p75/p90/max): " in text
    assert "pool 0 0.25 0.5 0.75 0.9 1; selected 0.9 0.925 0.95 0.975 0.99 1" in text


def test_status_of_a_project_without_scored_rounds_shows_no_scores(project: Path, run_cli) -> None:
    with open_project(project) as opened:
        round_id = opened.store.start_round(strategy="initial-random", query_size=2, config={})
        opened.store.finish_round(
            round_id,
            folder="",
            n_labels=0,
            val_accuracy=None,
            test_accuracy=None,
            scored_ids=[1, 2],
            scores=[0.0, 0.0],
            selected_ids=[1, 2],
        )
    assert json.loads(run_cli("status", project, "--json").out)["last_scores"] is None
    assert "last round's scores" not in run_cli("status", project).out


def make_project_of(tmp_path: Path, run_cli, n_pool: int) -> Path:
    """A project on a fake-family dataset of ``n_pool`` pool and 20 test images."""
    family = FakeFamily()
    data = tmp_path / "data"
    write_dataset(data, family, "a", family.make_params("a"),
                  n_per_split={"train": n_pool, "test": 20}, seed=0, chunk_size=64)  # fmt: skip
    project = tmp_path / "project"
    assert run_cli("init", project, "--images", data).code == 0
    return project


def test_the_stop_meter_measures_rounds_on_a_stop_set_never_queued(tmp_path: Path, run_cli) -> None:
    project = make_project_of(tmp_path, run_cli, 600)
    assert run_cli("round", project, "--initial", "20", "--initial-strategy", "random").code == 0
    assert run_cli("oracle", project).code == 0
    kappas = []
    for _ in range(2):
        result = run_cli("round", project, "--model", "linear@pixels", "--query-size", "10")
        assert result.code == 0, result.err
        with open_project(project) as opened:
            last = opened.store.get_last_done_round()
            assert last is not None
            folder = RoundFolder.of(project, last.folder)
            assert folder is not None
            report = folder.read_report()
            assert report is not None
            stop_set = json.loads(opened.store.get_meta("stop_set") or "{}")["ids"]
            queued = {item.sample_id for item in opened.store.get_queue()}
            predictions = folder.read_predictions()
            saved = folder.read_stop_guesses()
        # A tenth of the 600 pool images, never queued, never among the candidates scored.
        assert len(stop_set) == 60 and not queued & set(stop_set)
        assert predictions is not None and not set(predictions.scored_ids.tolist()) & set(stop_set)
        assert saved is not None and saved[0].tolist() == stop_set
        kappas.append(report["stop_set"]["kappa"])
        assert report["stop_set"]["n"] == 60
        assert run_cli("oracle", project).code == 0
    assert kappas[0] is None  # the first trained round has nothing to compare with
    assert isinstance(kappas[1], float)
    status = json.loads(run_cli("status", project, "--json").out)
    meter = status["stop_meter"]
    assert meter["kappas"] == kappas[1:] and meter["n_stop_set"] == 60
    assert (meter["threshold"], meter["window"]) == (0.99, 3) and not meter["should_stop"]
    text = run_cli("status", project, "--stop-window", "1", "--stop-threshold", "0.01").out
    assert "stop set: 60 images, never queued" in text
    assert "stop meter: the model has stopped changing" in text or kappas[1] < 0.01
    bad = run_cli("status", project, "--stop-threshold", "0")
    assert bad.code == 2 and "stop threshold must be a finite number in (0, 1], got 0.0" in bad.err
    bad = run_cli("status", project, "--stop-window", "0")
    assert bad.code == 2 and "stop window must be an integer >= 1, got 0" in bad.err


def test_a_small_pool_has_no_stop_set_and_says_so(project: Path, run_cli) -> None:
    assert run_cli("round", project, "--initial", "10").code == 0
    assert run_cli("oracle", project).code == 0
    result = run_cli("round", project, "--model", "linear@pixels", "--query-size", "5")
    assert result.code == 0, result.err
    status = json.loads(run_cli("status", project, "--json").out)
    assert status["stop_meter"]["n_stop_set"] == 0
    assert status["stop_meter"]["message"].startswith("off: the pool is too small")
    assert status["n_queued"] == 5


def test_the_audit_slice_measures_the_model_on_random_pool_images(tmp_path: Path, run_cli) -> None:
    project = make_project_of(tmp_path, run_cli, 600)
    assert run_cli("round", project, "--initial", "20", "--initial-strategy", "random").code == 0
    assert run_cli("oracle", project).code == 0
    args = ("--model", "linear@pixels", "--strategy", "margin", "--query-size", "10")
    args += ("--audit-share", "0.2")
    result = run_cli("round", project, *args)
    assert result.code == 0, result.err
    with open_project(project) as opened:
        last = opened.store.get_last_done_round()
        assert last is not None
        folder = RoundFolder.of(project, last.folder)
        assert folder is not None
        report = folder.read_report()
        drawn = folder.read_audit()
        predictions = folder.read_predictions()
        queued = [item.sample_id for item in opened.store.get_queue()]
        stop_set = json.loads(opened.store.get_meta("stop_set") or "{}")["ids"]
    assert report is not None and drawn is not None and predictions is not None
    audit, guesses = drawn
    # Two random images in place of the two last picks, spread through the batch, never from
    # the stop set; their guesses are the round's.
    assert report["accuracy_estimate"]["audit"] == {"share": 0.2, "n": 2}
    assert len(queued) == 10 and set(audit.tolist()) <= set(queued)
    assert queued[0] not in audit and not set(audit.tolist()) & set(stop_set)
    guess_of = dict(zip(predictions.scored_ids.tolist(), predictions.guesses.tolist(), strict=True))
    assert guesses.tolist() == [guess_of[sample] for sample in audit.tolist()]
    best = predictions.scored_ids[np.argsort(-predictions.scores, kind="stable")][:8]
    assert [sample for sample in queued if sample not in audit] == best.tolist()
    cross_validation = report["accuracy_estimate"]["cross_validation"]
    assert cross_validation["n"] == 20 and cross_validation["source"].startswith("linear@pixels")
    assert [row["name"] for row in cross_validation["classes"]] == ["class_0", "class_1"]

    before = json.loads(run_cli("status", project, "--json").out)["accuracy_estimate"]
    assert before["audit"]["n"] == 0 and before["audit"]["n_unlabeled"] == 2
    assert before["message"].startswith("accuracy on the pool: no audit image labeled yet")
    assert run_cli("oracle", project).code == 0
    estimate = json.loads(run_cli("status", project, "--json").out)["accuracy_estimate"]
    with open_project(project) as opened:
        known_ids, known_labels = opened.store.get_known_labels("pool")
    known = dict(zip(known_ids.tolist(), known_labels.tolist(), strict=True))
    right = sum(known[sample] == guess for sample, guess in zip(audit, guesses, strict=True))
    assert estimate["audit"]["n"] == 2 and estimate["audit"]["correct"] == right
    assert estimate["audit"]["rounds"] == [last.id] and estimate["audit"]["n_unlabeled"] == 0
    assert estimate["cross_validation"]["round"] == last.id
    text = run_cli("status", project).out
    assert f"accuracy estimate: accuracy on the pool {right / 2:.3f}" in text
    assert "audit of 2 random images" in text and "class recall, cross-validated:" in text

    bad = run_cli("round", project, "--audit-share", "0.6")
    assert bad.code == 2 and "audit share must be a finite number in [0, 0.5], got 0.6" in bad.err
