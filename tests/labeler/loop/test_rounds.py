from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.learning import predictors
from labeler.learning.checkpoints import load_checkpoint
from labeler.learning.models import ModelConfig
from labeler.learning.training import TrainConfig
from labeler.loop.rounds import RoundConfig, run_round
from labeler.selection.strategies import SelectionConfig
from labeler.store import project_files
from labeler.store.project import Project, open_project
from server.images import ImageCache
from tests.last_round import get_last_round_folder, read_last_report

# A model and schedule small enough for a round to take about a second on a CPU.
FAST_FLAGS = ["--width", "4", "--min-steps", "20", "--max-epochs", "3", "--batch-size", "16"]
FAST_FLAGS += ["--device", "cpu"]
# The network and random first picks, as these tests were written for (--model auto and the
# cold starts on embeddings have their own tests).
CNN_FLAGS = ["--model", "resnet", "--strategy", "margin", "--initial-strategy", "random"]
FAST_CONFIG = RoundConfig(
    selection=SelectionConfig("margin", query_size=8),
    model=ModelConfig(width=4, image_size=16),
    train=TrainConfig(min_steps=20, max_epochs=3, batch_size=16, device="cpu"),
)


@pytest.fixture
def project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Path:
    """A project of the tiny fake dataset at 16 px (40 pool, 20 test samples), no labels."""
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    return path


def test_first_round_queues_random_picks_then_rounds_train_and_queue(
    project: Path, run_cli: Callable
) -> None:
    flags = ["--query-size", "8", *CNN_FLAGS, *FAST_FLAGS]
    result = run_cli("round", project, "--initial", "16", *flags)
    assert result.code == 0, result.err
    assert "queued 16 images to label first, picked by random" in result.out
    with open_project(project) as opened:
        queued = [item.sample_id for item in opened.store.get_queue()]
        known = {s.id: s.known_label for s in opened.store.get_samples("pool")}
    assert len(queued) == 16
    assert sorted(known[sample] for sample in queued).count(1) >= 2  # seed 0 picks both
    assert run_cli("oracle", project).code == 0

    result = run_cli("round", project, *flags)
    assert result.code == 0, result.err
    assert "cnn learned from 16 labels" in result.out
    with open_project(project) as opened:
        store = opened.store
        labeled, _ = store.get_current_labels()
        queue = [item.sample_id for item in store.get_queue()]
        last = store.get_last_done_round()
        assert last is not None and last.id == 2 and last.n_labels == 16
        assert last.test_accuracy is not None
        folder = opened.path / str(last.folder)
        pool_ids = set(store.get_sample_ids("pool").tolist())
    assert len(queue) == 8
    assert set(queue) <= pool_ids - set(labeled.tolist())
    report = json.loads((folder / project_files.REPORT_FILE).read_text())
    assert report["selected_ids"] == queue
    scores = np.load(folder / project_files.SCORES_FILE)
    scored = np.load(folder / project_files.SCORED_IDS_FILE)
    assert scores.shape == scored.shape == (24,)
    guesses = np.load(folder / project_files.GUESSES_FILE)
    confidences = np.load(folder / project_files.CONFIDENCES_FILE)
    assert guesses.shape == confidences.shape == (24,)
    assert set(guesses.tolist()) <= {0, 1}
    assert np.all((confidences >= 0.5) & (confidences <= 1.0))  # the top class of two
    # The queue is the best-scored unlabeled samples, best first, with an audit slice (a
    # tenth, rounded up: 1 of 8) drawn at random from the others in the middle.
    audit = np.load(folder / project_files.AUDIT_IDS_FILE).tolist()
    assert len(audit) == 1 and audit[0] in queue[1:-1]
    chosen = [sample for sample in queue if sample not in audit]
    by_id = dict(zip(scored.tolist(), scores.tolist(), strict=True))
    queued_scores = [by_id[sample] for sample in chosen]
    assert queued_scores == sorted(queued_scores, reverse=True)
    assert min(queued_scores) >= max(v for s, v in by_id.items() if s not in chosen)
    _, info = load_checkpoint(folder / project_files.CHECKPOINT_FILE)
    assert info.n_classes == 2


def test_a_preset_round_trains_the_presets_network_at_its_size(
    tiny_dataset: Path, tmp_path: Path, run_cli: Callable
) -> None:
    path = tmp_path / "at128"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "128").code == 0
    assert run_cli("round", path, "--initial", "8", *CNN_FLAGS).code == 0
    assert run_cli("oracle", path).code == 0
    flags = ["--min-steps", "4", "--max-epochs", "1", "--batch-size", "8", "--device", "cpu"]
    cnn_flags = [*CNN_FLAGS[2:], "--model", "research-resnet"]
    result = run_cli("round", path, "--query-size", "4", *cnn_flags, *flags, "--threads", "1")
    assert result.code == 0, result.err
    folder = get_last_round_folder(path)
    config = load_checkpoint(folder / project_files.CHECKPOINT_FILE)[1].model_config
    assert (config.name, config.width, config.depth, config.image_size) == ("resnet", 16, 2, 128)
    # The report names the preset as well as the network it stands for.
    assert read_last_report(path)["config"]["model_preset"] == "research-resnet"


def test_next_round_replaces_the_unlabeled_part_of_the_queue(project: Path, run_cli) -> None:
    assert run_cli("round", project, "--initial", "12", *CNN_FLAGS, *FAST_FLAGS).code == 0
    assert run_cli("oracle", project).code == 0
    assert run_cli("round", project, "--query-size", "8", *CNN_FLAGS, *FAST_FLAGS).code == 0
    assert run_cli("oracle", project, "--limit", "3").code == 0
    result = run_cli("round", project, "--query-size", "5", "--strategy", "entropy", *FAST_FLAGS)
    assert result.code == 0, result.err
    with open_project(project) as opened:
        queue = opened.store.get_queue()
        labeled, _ = opened.store.get_current_labels()
    assert len(labeled) == 15
    assert len(queue) == 5
    assert {item.round_id for item in queue} == {3}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--strategy", "smart"], "unknown strategy 'smart'; valid ones: auto, badge, bald"),
        (["--model", "vgg"], "unknown model 'vgg'; valid ones: auto, linear@efficientnet_lite0"),
        (["--model", "linear@clip"], "unknown model 'linear@clip'; valid ones: auto"),
        (["--strategy", "bald"], "strategy 'bald' needs MC-dropout draws of a network"),
        ([], "label images of two classes or more, or start with --initial picks"),
        (["--model", "resnet"], "label at least 1 of each class, or start with --initial picks"),
        (
            ["--initial", "4", "--initial-strategy", "densest"],
            "unknown cold-start strategy 'densest'; valid ones: max_herding, random, typiclust",
        ),
        (["--initial", "4", "--embedding", "clip"], "unknown embedding kind 'clip'; valid ones:"),
        (["--initial", "41"], "--initial 41 asks for more images than the pool's 40 unlabeled"),
        (["--score-subsample", "0"], "score subset (0) must be at least the query size (50)"),
        (["--score-subset", "-5"], "score subset (-5) must be at least the query size (50)"),
        (["--audit-share", "-0.1"], "audit share must be a finite number in [0, 0.5], got -0.1"),
        (["--model", "research-resnet"], "--model research-resnet takes images of 128 px only"),
        (
            ["--model", "research-resnet", "--image-size", "128"],
            "--model research-resnet is a preset of fixed shape (width 16, depth 2): --width 4",
        ),
    ],
)
def test_bad_rounds_get_clear_errors(project: Path, run_cli, flags, message) -> None:
    result = run_cli("round", project, *flags, *FAST_FLAGS)
    assert result.code == 2
    assert message in result.err


def test_a_query_larger_than_the_pool_is_refused(project: Path, run_cli) -> None:
    with open_project(project) as opened:
        _add_labels(opened, range(10))
    result = run_cli("round", project, "--query-size", "31", *FAST_FLAGS)
    assert result.code == 2
    assert "query size 31 is larger than the pool of 30 unlabeled images" in result.err


def test_a_score_subset_larger_than_the_pool_scores_it_all_and_says_so(
    project: Path, run_cli
) -> None:
    with open_project(project) as opened:
        _add_labels(opened, range(10))
    flags = ["--query-size", "4", "--score-subsample", "1000", "--model", "linear@pixels"]
    result = run_cli("round", project, *flags, "--strategy", "badge", *FAST_FLAGS)
    assert result.code == 0, result.err
    assert "queued 4 by badge" in result.out
    assert "--score-subset 1000 is more than the 30 images there were to score" in result.out
    assert "scored 30 unlabeled images" in result.out


def test_a_warm_started_round_starts_from_the_last_rounds_network(project: Path, run_cli) -> None:
    assert run_cli("round", project, "--initial", "12", *CNN_FLAGS, *FAST_FLAGS).code == 0
    assert run_cli("oracle", project).code == 0
    notes = []
    for _ in range(2):
        result = run_cli("round", project, "--query-size", "4", "--warm-start", *CNN_FLAGS,
                         *FAST_FLAGS)  # fmt: skip
        assert result.code == 0, result.err
        report = read_last_report(project)
        notes.append(report["warm_start"])
        assert f"network trained {report['warm_start']}" in result.out
        assert run_cli("oracle", project).code == 0
    assert notes[0] == "from scratch: the project has no network to start from"
    assert notes[1] == "warm: round 2's weights, trained on for 33% of the steps"
    assert report["config"]["warm_start"] is True
    # Round 3's network saw 16 labels; with 16 more beside them it is not carried on.
    with open_project(project) as opened:
        labeled = set(opened.store.get_current_labels()[0].tolist())
        _add_labels(opened, [sample for sample in range(40) if sample not in labeled][:12])
    result = run_cli("round", project, "--query-size", "4", "--warm-start", *CNN_FLAGS,
                     *FAST_FLAGS)  # fmt: skip
    assert result.code == 0, result.err
    assert read_last_report(project)["warm_start"] == (
        "from scratch: 16 of the 32 labels are new since round 3's network (50% or more)"
    )
    # Without the flag the report says nothing of a warm start.
    assert run_cli("round", project, "--query-size", "4", *CNN_FLAGS, *FAST_FLAGS).code == 0
    assert read_last_report(project)["warm_start"] is None


def test_labels_of_one_class_only_are_refused(project: Path, run_cli) -> None:
    for sample in range(4):
        run_cli("label", project, str(sample * 2), "class_0")
    result = run_cli("round", project, *FAST_FLAGS)
    assert result.code == 2
    assert "(class_0: 4, class_1: 0): label images of two classes or more" in result.err
    # With --initial, random picks are queued instead, to find the missing class.
    result = run_cli("round", project, "--initial", "6", *CNN_FLAGS, *FAST_FLAGS)
    assert result.code == 0, result.err
    assert "queued 6 images to label first, picked by random" in result.out


def test_an_interrupted_round_is_failed_and_the_next_works(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_project(project) as opened:
        _add_labels(opened, range(10))

        def interrupt(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(predictors, "score_pool", interrupt)
        with pytest.raises(KeyboardInterrupt):
            run_round(opened, config=FAST_CONFIG, progress=False)
        monkeypatch.undo()
        failed = opened.store.get_rounds()[-1]
        assert failed.status == "failed" and "KeyboardInterrupt" in str(failed.error)
        assert not list((opened.path / "rounds").iterdir())  # nothing half-written kept

        summary = run_round(opened, config=FAST_CONFIG, progress=False)
        assert summary.round_id == 2
        assert len(opened.store.get_queue()) == 8


def test_a_killed_round_leaves_nothing_that_is_used(project: Path) -> None:
    with open_project(project) as opened:
        _add_labels(opened, range(10))
    # A child process runs a round whose scoring hangs after the checkpoint is written.
    script = f"""
import time
from labeler.loop import rounds
from labeler.learning import predictors
from labeler.store.project import open_project
from tests.labeler.loop.test_rounds import FAST_CONFIG
predictors.score_pool = lambda *a, **k: (print("scoring", flush=True), time.sleep(600))
with open_project({str(project)!r}) as opened:
    rounds.run_round(opened, config=FAST_CONFIG, progress=False)
"""
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "scoring"
        temp_folders = list((project / "rounds").glob(".round-*"))
        assert len(temp_folders) == 1 and (temp_folders[0] / project_files.CHECKPOINT_FILE).exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    with open_project(project) as opened:
        killed = opened.store.get_rounds()[0]
        assert killed.status == "failed"
        summary = run_round(opened, config=FAST_CONFIG, progress=False)
        assert summary.round_id == 2
        assert opened.store.get_last_done_round().id == 2  # type: ignore[union-attr]
    assert [p.name for p in (project / "rounds").iterdir()] == ["round-0002"]


def test_round_folder_and_queue_appear_together(project: Path) -> None:
    # finish_round runs only after the folder is in place: a done round always has its files.
    with open_project(project) as opened:
        _add_labels(opened, range(10))
        started = time.time()
        summary = run_round(opened, config=FAST_CONFIG, progress=False)
        (record,) = [r for r in opened.store.get_rounds() if r.id == summary.round_id]
    assert record.status == "done" and record.finished_at is not None
    assert record.finished_at >= started
    folder = project / str(record.folder)
    for name in (
        project_files.CHECKPOINT_FILE,
        project_files.REPORT_FILE,
        project_files.SCORES_FILE,
    ):
        assert (folder / name).is_file()


def _add_labels(project: Project, samples: Iterable[int]) -> None:
    """Label pool samples with their true class (the fake family alternates classes)."""
    project.store.add_labels(
        [(sample, f"class_{sample % 2}") for sample in samples], annotator="test", source="test"
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_round_scored_on_ray_equals_the_local_round(
    ray_cluster, project: Path, tmp_path: Path, run_cli: Callable
) -> None:
    import shutil

    assert run_cli("round", project, "--initial", "16", *CNN_FLAGS, *FAST_FLAGS).code == 0
    assert run_cli("oracle", project).code == 0
    other = tmp_path / "other"
    shutil.copytree(project, other)
    flags = ["--model", "resnet", "--strategy", "bald", "--n-draws", "4", "--query-size", "8"]
    flags += ["--threads", "1"]
    assert run_cli("round", project, *flags, *FAST_FLAGS).code == 0
    result = run_cli("round", other, *flags, *FAST_FLAGS, "--engine", "ray")
    assert result.code == 0, result.err
    folders = []
    for path in (project, other):
        folders.append(get_last_round_folder(path))
        with open_project(path) as opened:
            queue = [item.sample_id for item in opened.store.get_queue()]
        folders[-1] = (folders[-1], queue)
    (local, local_queue), (remote, remote_queue) = folders
    for name in (
        project_files.SCORED_IDS_FILE,
        project_files.SCORES_FILE,
        project_files.GUESSES_FILE,
    ):
        np.testing.assert_array_equal(np.load(remote / name), np.load(local / name))
    assert remote_queue == local_queue and len(local_queue) == 8


def test_a_colour_project_trains_and_scores_a_colour_model(tmp_path: Path, run_cli) -> None:
    # Red and blue squares of equal luminance would look alike in grayscale.
    root = tmp_path / "photos"
    rng = np.random.default_rng(0)
    for name, colour in (("red", (200, 40, 40)), ("blue", (40, 40, 255))):
        (root / name).mkdir(parents=True)
        for index in range(12):
            pixels = np.full((14, 20, 3), 255, dtype=np.uint8)
            top, left = rng.integers(0, 6), rng.integers(0, 12)
            pixels[top : top + 8, left : left + 8] = colour
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    project = tmp_path / "colour"
    result = run_cli("init", project, "--images", root, "--image-size", "16")
    assert result.code == 0, result.err
    assert "16 x 16 px colour (RGB)" in result.out
    assert run_cli("round", project, "--initial", "12", *CNN_FLAGS, *FAST_FLAGS).code == 0
    assert run_cli("oracle", project).code == 0
    result = run_cli("round", project, "--query-size", "4", *CNN_FLAGS, *FAST_FLAGS)
    assert result.code == 0, result.err
    with open_project(project) as opened:
        done = opened.store.get_rounds()[-1]
        assert done.status == "done" and done.folder is not None
        model, _ = load_checkpoint(opened.path / done.folder / "model.pt")
        png = ImageCache(opened.load_images(), max_items=2).get_png(0)
    assert model.config.in_channels == 3
    report = json.loads((project / done.folder / "report.json").read_text())
    assert report["augment"] == ["hflip", "shift"]  # photos: mirror images and small shifts
    assert report["validation"].startswith("none: the smallest class has")
    assert report["val_accuracy"] is None
    with Image.open(io.BytesIO(png)) as page_image:
        assert page_image.mode == "RGB" and page_image.size == (16, 16)


@pytest.mark.parametrize("cold_start", ["typiclust", "max_herding"])
def test_a_cold_start_on_the_pixels_embedding_queues_distinct_unlabeled_images(
    project: Path, tiny_dataset: Path, run_cli: Callable, cold_start: str
) -> None:
    with open_project(project) as opened:
        _add_labels(opened, [0])
    flags = ("--initial", "8", "--initial-strategy", cold_start, "--embedding", "pixels")
    flags += tuple(FAST_FLAGS)
    result = run_cli("round", project, *flags)
    assert result.code == 0, result.err
    assert f"queued 8 images to label first, picked by {cold_start} on the pixels" in result.out
    with open_project(project) as opened:
        queued = [item.sample_id for item in opened.store.get_queue()]
        pool = set(opened.store.get_sample_ids("pool").tolist())
        (record,) = opened.store.get_rounds()
    assert len(set(queued)) == 8 and set(queued) <= pool - {0}
    assert record.strategy == f"initial-{cold_start}"
    assert record.config["initial_strategy"] == cold_start
    # The same seed picks the same images again (the embedding is read from its cache).
    other = project.parent / "again"
    assert run_cli("init", other, "--images", tiny_dataset, "--image-size", "16").code == 0
    with open_project(other) as opened:
        _add_labels(opened, [0])
    assert run_cli("round", other, *flags).code == 0
    with open_project(other) as opened:
        assert [item.sample_id for item in opened.store.get_queue()] == queued
