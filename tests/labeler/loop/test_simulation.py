from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from labeler.data.labeled_data import LabeledData
from labeler.engines.base import LocalEngine
from labeler.learning.embedding_kinds import get_embedding_kind
from labeler.learning.joint_embedding import add_joint_embedding
from labeler.learning.linear_head import fit_linear_head
from labeler.learning.models import ModelConfig
from labeler.learning.predictors import HeadPredictor
from labeler.learning.training import TrainConfig
from labeler.loop import simulated_learner, simulation
from labeler.loop.simulated_learner import Fitted, SimulationArrays, select_next
from labeler.loop.simulation import SimulationConfig, run_simulation
from labeler.loop.simulation_report import summarize
from labeler.selection.strategies import SelectionConfig
from labeler.selection.typiclust import typiclust
from tests.shape_images import make_shape_images


def make_config(
    strategies: tuple[str, ...], *, query_size: int, n_seeds: int = 1, **fields: Any
) -> SimulationConfig:
    """A simulation of ``strategies`` adding ``query_size`` labels a round."""
    selection = SelectionConfig(query_size=query_size)
    return SimulationConfig(strategies=strategies, n_seeds=n_seeds, selection=selection, **fields)


def simulate_tiny(data: LabeledData, out: Path, config: SimulationConfig) -> dict[str, Any]:
    """``config`` run on ``data`` with the tiny model and training, quietly."""
    return run_simulation(
        data,
        out,
        config=config,
        model_config=TINY_MODEL,
        train_config=TINY_TRAINING,
        progress=False,
    )


# A stride-2 stem keeps this tiny model weak enough that which labels it gets matters.
TINY_MODEL = ModelConfig(width=4, depth=1, image_size=16, stem_stride=2)
TINY_TRAINING = TrainConfig(min_steps=150, max_epochs=5, batch_size=32, device="cpu")
TINY_FLAGS = ["--width", "4", "--depth", "1", "--image-size", "16", "--min-steps", "150"]
TINY_FLAGS += ["--max-epochs", "5"]
TINY_FLAGS += ["--batch-size", "32", "--device", "cpu"]


def make_bars(n_images: int, vertical_fraction: float, *, seed: int) -> tuple[np.ndarray, ...]:
    labels = (np.random.default_rng([seed, 1]).random(n_images) < vertical_fraction).astype(
        np.int64
    )
    return make_shape_images(labels, seed=seed), labels


@pytest.fixture(scope="module")
def rare_vertical_bars() -> LabeledData:
    """A pool where 1 image in 10 is a vertical bar, tested on a balanced split: random picks
    find few vertical bars, uncertainty sampling seeks them out."""
    train_images, train_labels = make_bars(600, 0.1, seed=0)
    test_images, test_labels = make_bars(400, 0.5, seed=1)
    return LabeledData(
        ("horizontal", "vertical"), train_images, train_labels, test_images, test_labels, "bars"
    )


def test_a_preset_is_refused_for_a_network_it_does_not_stand_for(
    rare_vertical_bars: LabeledData, tmp_path: Path
) -> None:
    config = make_config(("random",), initial=10, query_size=10, budget=20)
    arguments: dict[str, Any] = {"config": config, "train_config": TINY_TRAINING}
    arguments["model_preset"] = "research-resnet"
    with pytest.raises(ValueError, match="research-resnet takes images of 128 px only"):
        run_simulation(rare_vertical_bars, tmp_path, model_config=TINY_MODEL, **arguments)
    at_128 = dataclasses.replace(TINY_MODEL, image_size=128)
    with pytest.raises(ValueError, match="model preset research-resnet stands for"):
        run_simulation(rare_vertical_bars, tmp_path, model_config=at_128, **arguments)
    assert not (tmp_path / simulation.RESULTS_FILE).exists()


def test_guided_labeling_beats_random_over_seeds(
    rare_vertical_bars: LabeledData, tmp_path: Path
) -> None:
    config = make_config(("margin", "random"), initial=10, query_size=10, budget=60, n_seeds=3)
    results = simulate_tiny(rare_vertical_bars, tmp_path, config)
    summary = summarize(results)
    margin, random = summary.strategies
    assert summary.full_data_accuracy_mean > 0.97
    assert margin.area_under_curve > random.area_under_curve + 0.03
    assert margin.mean_accuracy[-1] > random.mean_accuracy[-1]
    assert margin.labels_to_reach[0.95] is not None
    # Same seeds, same start: both strategies share their first point on every seed.
    first_points = {
        (run["seed"], run["strategy"]): run["test_accuracy"][0] for run in results["runs"]
    }
    for seed in config.seeds:
        assert first_points[(seed, "margin")] == first_points[(seed, "random")]


def test_results_hold_every_point_and_a_rerun_continues(
    rare_vertical_bars: LabeledData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(("entropy", "random"), initial=10, query_size=20, budget=50, n_seeds=1)
    results = simulate_tiny(rare_vertical_bars, tmp_path, config)
    saved = json.loads((tmp_path / simulation.RESULTS_FILE).read_text())
    assert saved == json.loads(json.dumps(results))
    assert set(saved["full_data_accuracy"]) == {"0"}
    for run in saved["runs"]:
        assert run["n_labels"] == [10, 30, 50]
        assert len(run["test_accuracy"]) == 3
        assert all(0.0 <= value <= 1.0 for value in run["test_accuracy"])

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(simulated_learner, "train_model", no_training)
    again = run_simulation(
        rare_vertical_bars,
        tmp_path,
        config=config,
        model_config=TINY_MODEL,
        train_config=TINY_TRAINING,
        progress=False,
    )
    assert again == saved


def test_labels_are_picked_without_repeats(rare_vertical_bars: LabeledData) -> None:
    arrays = SimulationArrays(
        rare_vertical_bars.train_images,
        rare_vertical_bars.train_labels,
        rare_vertical_bars.test_images,
        rare_vertical_bars.test_labels,
        n_classes=2,
    )
    labeled = np.arange(10, dtype=np.int64)
    # No learner yet: the picks are random, never a labeled row, never twice the same.
    picked = select_next(
        arrays,
        Fitted(None, 0.5),
        labeled,
        selection=SelectionConfig("margin", query_size=30),
        rng=np.random.default_rng(0),
        score_subset=None,
    )
    assert len(set(picked.tolist())) == 30
    assert not set(picked.tolist()) & set(range(10))


def test_three_classes_through_init_round_and_simulate(
    shapes_folder: Path, tmp_path: Path, run_cli: Callable
) -> None:
    project = tmp_path / "project"
    result = run_cli("init", project, "--images", shapes_folder, "--image-size", "16")
    assert result.code == 0, result.err
    network = ["--model", "resnet", "--initial-strategy", "random"]
    assert run_cli("round", project, "--initial", "24", *network, *TINY_FLAGS).code == 0
    assert run_cli("oracle", project).code == 0
    flags = ["--query-size", "9", "--strategy", "bald", *network]
    result = run_cli("round", project, *flags, *TINY_FLAGS)
    assert result.code == 0, result.err
    assert "cnn learned from 24 labels" in result.out
    status = run_cli("status", project, "--json")
    assert json.loads(status.out)["n_queued"] == 9

    out = tmp_path / "simulation"
    result = run_cli(
        "simulate",
        shapes_folder,
        "--out",
        out,
        "--strategies",
        "margin,coreset,badge,random",
        "--seeds",
        "1",
        "--initial",
        "12",
        "--query-size",
        "12",
        "--budget",
        "36",
        *network,
        *TINY_FLAGS,
    )
    assert result.code == 0, result.err
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["class_names"] == ["hbar", "square", "vbar"]
    assert sorted(run["strategy"] for run in results["runs"]) == [
        "badge",
        "coreset",
        "margin",
        "random",
    ]
    assert results["full_data_accuracy"]["0"] > 0.9
    assert results["chance_accuracy"] == pytest.approx(1 / 3)  # 8 test images per class
    table = (out / "table.md").read_text()
    assert "| margin | 1 |" in table and "labels to 99%" in table
    assert "Not learned" not in table
    with Image.open(out / "learning_curves.png") as image:
        assert image.format == "PNG"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--strategies", "margin,smart"], "unknown strategy 'smart'; valid ones: auto, badge"),
        (["--strategies", "bald"], "strategy 'bald' needs MC-dropout draws of a network"),
        (["--budget", "100"], "budget 100 is larger than the pool of 72 images"),
        (["--initial", "20", "--budget", "10"], "budget (10) must be at least initial (20)"),
        (["--model", "vgg"], "unknown model 'vgg'; valid ones:"),
        (["--label-noise", "0.5"], "label noise must be in [0, 0.5), got 0.5"),
    ],
)
def test_bad_simulations_get_clear_errors(
    shapes_folder: Path, tmp_path: Path, run_cli: Callable, flags: list[str], message: str
) -> None:
    result = run_cli("simulate", shapes_folder, "--out", tmp_path / "out", *flags, *TINY_FLAGS)
    assert result.code == 2
    assert message in result.err


def test_chance_accuracy_is_the_most_common_class_share() -> None:
    from labeler.loop.simulation import get_chance_accuracy

    labels = np.array([0, 0, 0, 1, 2, 2], dtype=np.int64)
    assert get_chance_accuracy(labels, n_classes=4) == 0.5
    assert get_chance_accuracy(np.array([], dtype=np.int64), n_classes=4) == 0.25


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_simulation_on_ray_gives_the_local_points(
    ray_cluster, rare_vertical_bars: LabeledData, tmp_path: Path
) -> None:
    from labeler.engines.ray_engine import RayEngine

    config = make_config(("margin", "random"), initial=10, query_size=20, budget=30, n_seeds=2)
    training = dataclasses.replace(TINY_TRAINING, n_threads=1)
    arguments = {"config": config, "model_config": TINY_MODEL, "train_config": training}
    local = run_simulation(rare_vertical_bars, tmp_path / "local", progress=False, **arguments)
    points: list[tuple[str, int, int, float]] = []
    with RayEngine() as engine:
        remote = run_simulation(
            rare_vertical_bars,
            tmp_path / "ray",
            progress=False,
            engine=engine,
            on_point=lambda *point: points.append(point),
            **arguments,
        )
    for results in (local, remote):
        for run in results["runs"]:
            del run["seconds"]
    assert remote == local  # same points, same order
    assert len(points) == 2 * 2 * 2
    saved = json.loads((tmp_path / "ray" / simulation.RESULTS_FILE).read_text())
    assert [(run["strategy"], run["seed"]) for run in saved["runs"]] == [
        ("margin", 0), ("random", 0), ("margin", 1), ("random", 1)
    ]  # fmt: skip


class InProcessEngine(LocalEngine):
    """Runs tasks here but under another name, so that the simulation takes its engine path."""

    name = "in-process"


def test_an_interrupted_sweep_on_an_engine_continues(
    rare_vertical_bars: LabeledData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(("margin", "random"), initial=10, query_size=20, budget=30, n_seeds=1)
    arguments = {"config": config, "model_config": TINY_MODEL, "train_config": TINY_TRAINING}
    local = run_simulation(rare_vertical_bars, tmp_path / "local", progress=False, **arguments)
    original_run, original_full = simulation._run_one, simulation._get_full_data_accuracy
    ran: list[str] = []

    def run_one(*args, interrupt: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["strategy"] == interrupt:
            raise KeyboardInterrupt  # the sweep stops during this run
        ran.append(kwargs["strategy"])
        return original_run(*args, **kwargs)

    def full_data(*args, **kwargs):  # type: ignore[no-untyped-def]
        ran.append("full")
        return original_full(*args, **kwargs)

    monkeypatch.setattr(simulation, "_get_full_data_accuracy", full_data)
    monkeypatch.setattr(
        simulation, "_run_one", lambda *a, **k: run_one(*a, interrupt="random", **k)
    )
    with pytest.raises(KeyboardInterrupt):
        run_simulation(rare_vertical_bars, tmp_path / "sweep", progress=False,
                       engine=InProcessEngine(), **arguments)  # fmt: skip
    saved = json.loads((tmp_path / "sweep" / simulation.RESULTS_FILE).read_text())
    assert [run["strategy"] for run in saved["runs"]] == ["margin"]  # saved as it arrived
    assert ran == ["full", "margin"]
    ran.clear()
    monkeypatch.setattr(simulation, "_run_one", run_one)
    again = run_simulation(rare_vertical_bars, tmp_path / "sweep", progress=False,
                           engine=InProcessEngine(), **arguments)  # fmt: skip
    assert ran == ["random"]  # only what was missing
    for results in (local, again):
        for run in results["runs"]:
            del run["seconds"]
    assert json.loads(json.dumps(again)) == json.loads(json.dumps(local))


def test_a_cold_start_picks_the_same_first_labels_as_the_selection_function(
    rare_vertical_bars: LabeledData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(
        ("margin", "random"),
        initial=6,
        query_size=10,
        budget=16,
        n_seeds=1,
        initial_strategy="typiclust",
    )
    first_labels: list[list[bytes]] = []
    original = simulation.fit_learner

    def record(arrays: SimulationArrays, labeled: np.ndarray, **kwargs: Any) -> Any:
        if len(labeled) == 6:
            first_labels.append(sorted(image.tobytes() for image in arrays.pool_images[labeled]))
        return original(arrays, labeled, **kwargs)

    monkeypatch.setattr(simulation, "fit_learner", record)
    results = simulate_tiny(rare_vertical_bars, tmp_path, config)
    assert results["config"]["initial_strategy"] == "typiclust"
    # Oracle: typiclust itself on the pixels embedding of pool and test images together (as
    # a project embeds all its samples), pool rows, with the run's seed.
    pool = rare_vertical_bars.train_images
    images = np.concatenate([pool, rare_vertical_bars.test_images])
    vectors = get_embedding_kind("pixels").embed(
        images, device=torch.device("cpu"), n_threads=1, progress=False
    )[: len(pool)]
    rows = typiclust(vectors, 6, seed=np.random.default_rng([0, 0]))
    expected = sorted(image.tobytes() for image in pool[rows])
    assert first_labels == [expected, expected]  # both strategies start from the same picks


def test_an_unknown_cold_start_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown cold-start strategy 'best'; valid ones:"):
        SimulationConfig(initial_strategy="best")
    with pytest.raises(ValueError, match="unknown embedding kind 'clip'; valid ones:"):
        SimulationConfig(embedding="clip")


def test_the_default_loop_simulates_with_heads_and_coverage(
    rare_vertical_bars: LabeledData, tmp_path: Path
) -> None:
    config = make_config(
        ("auto", "random"),
        initial=4,
        query_size=8,
        budget=20,
        n_seeds=1,
        initial_strategy="max_herding",
        learner="linear@pixels",
    )
    results = simulate_tiny(rare_vertical_bars, tmp_path, config)
    assert results["config"]["learner"] == "linear@pixels"
    runs = {run["strategy"]: run for run in results["runs"]}
    assert runs["auto"]["n_labels"] == runs["random"]["n_labels"] == [4, 12, 20]
    # The same first labels, so the same first head.
    assert runs["auto"]["test_accuracy"][0] == runs["random"]["test_accuracy"][0]
    assert 0.0 <= min(runs["auto"]["test_accuracy"]) <= max(runs["auto"]["test_accuracy"]) <= 1
    # Full data: a linear head on the pixels of bars anywhere learns their orientation only
    # partly (it was 0.71 on the balanced test split), but well above chance.
    assert results["full_data_accuracy"]["0"] > results["chance_accuracy"] + 0.1


def test_a_learner_that_may_be_a_head_refuses_dropout_strategies() -> None:
    with pytest.raises(ValueError, match="needs MC-dropout draws of a network"):
        SimulationConfig(strategies=("bald",), learner="auto")
    with pytest.raises(ValueError, match="unknown learner 'linear@clip'"):
        SimulationConfig(learner="linear@clip")


def test_a_noisy_oracle_gives_every_strategy_of_a_seed_the_same_wrong_answers(
    rare_vertical_bars: LabeledData, tmp_path: Path
) -> None:
    from labeler.loop.simulation import _TaskInputs, _with_label_noise, make_arrays

    config = make_config(
        ("random", "margin"), query_size=8, initial=4, budget=20, learner="linear@pixels",
        label_noise=0.3, label_noise_kind="confusion",
    )  # fmt: skip
    arrays = make_arrays(
        rare_vertical_bars, np.arange(600), config=config, train_config=TINY_TRAINING
    )
    inputs = _TaskInputs(arrays, rare_vertical_bars, config, TINY_MODEL, TINY_TRAINING)
    first = _with_label_noise(inputs, 0).arrays.pool_labels
    assert (first != arrays.pool_labels).sum() == 180  # 30% of 600
    assert (_with_label_noise(inputs, 0).arrays.pool_labels == first).all()
    assert (_with_label_noise(inputs, 1).arrays.pool_labels != first).any()
    results = simulate_tiny(rare_vertical_bars, tmp_path, config)
    assert results["config"]["label_noise"] == 0.3
    assert results["config"]["label_noise_kind"] == "confusion"
    # Without noise the recorded config has no noise fields (older results still continue).
    assert "label_noise" not in make_config(("random",), query_size=8).to_dict()


def test_auto_embeddings_are_ordered_on_the_pool_as_a_round_orders_them() -> None:
    eff, joint = "efficientnet_lite0", "efficientnet_lite0+pixels"
    rng = np.random.default_rng(0)
    n_pool, n_test = 300, 50
    centres = rng.normal(scale=10.0, size=(20, 16))
    features = centres[np.arange(n_pool + n_test) % 20] + rng.normal(size=(n_pool + n_test, 16))
    # Pixels unrelated to the features: they would only dilute them.
    parts = {eff: features, "pixels": rng.normal(size=(n_pool + n_test, 8))}
    vectors = add_joint_embedding({kind: rows.astype(np.float32) for kind, rows in parts.items()})
    arrays = SimulationArrays(
        np.zeros((n_pool, 4, 4), dtype=np.uint8),
        np.zeros(n_pool, dtype=np.int64),
        np.zeros((n_test, 4, 4), dtype=np.uint8),
        np.zeros(n_test, dtype=np.int64),
        n_classes=2,
        vectors=vectors,
        head_kinds=(joint, eff, "pixels"),
        cold_start_kind=joint,
    )
    ordered, note = simulation.order_embeddings(
        arrays, make_config(("auto",), query_size=8, learner="auto", embedding="auto")
    )
    assert ordered.head_kinds == (eff, joint, "pixels") and ordered.cold_start_kind == eff
    assert note.startswith(f"{eff} first:") and "agree too little" in note
    # A network learner: only the cold start is auto's.
    network = dataclasses.replace(arrays, head_kinds=())
    config = make_config(("auto",), query_size=8, embedding="auto")
    ordered, _ = simulation.order_embeddings(network, config)
    assert ordered.head_kinds == () and ordered.cold_start_kind == eff
    # A head on a named embedding and a named cold start: nothing is auto's to order.
    fixed = dataclasses.replace(arrays, head_kinds=("pixels",), cold_start_kind="pixels")
    config = make_config(("auto",), query_size=8, learner="linear@pixels", embedding="pixels")
    assert simulation.order_embeddings(fixed, config) == (fixed, "")


def test_auto_past_the_switch_picks_half_by_margin_and_covers_with_the_rest() -> None:
    rng = np.random.default_rng(0)
    # Two far clusters; the two labels (one per class) lie in the first.
    vectors = np.concatenate([rng.normal(size=(40, 2)), 50 + rng.normal(size=(20, 2))])
    labels = np.arange(60, dtype=np.int64) % 2
    arrays = SimulationArrays(
        np.zeros((60, 4, 4), dtype=np.uint8), labels,
        np.zeros((2, 4, 4), dtype=np.uint8), np.array([0, 1]), n_classes=2,
        vectors={"pixels": np.concatenate([vectors, vectors[:2]]).astype(np.float32)},
        head_kinds=("pixels",), cold_start_kind="pixels",
    )  # fmt: skip
    labeled = np.array([0, 1], dtype=np.int64)
    head = fit_linear_head(vectors[labeled], labels[labeled], n_classes=2)
    fitted = Fitted(HeadPredictor(head, arrays.get_pool_vectors("pixels")), 0.5, "pixels")

    def pick(strategy: str, query_size: int) -> list[int]:
        selection = SelectionConfig(strategy, query_size=query_size, diversity="kcenter")
        rows = select_next(
            arrays, fitted, labeled, selection=selection, rng=np.random.default_rng(1),
            score_subset=None,
        )  # fmt: skip
        return rows.tolist()

    auto = pick("auto", 4)
    assert len(set(auto)) == 4 and not set(auto) & {0, 1}
    # Margin with k-center picks the first and third (what it picks for a batch of two);
    # coverage the second and fourth, first in the cluster no label covers.
    assert [auto[0], auto[2]] == pick("margin", 2)
    assert auto[1] >= 40
