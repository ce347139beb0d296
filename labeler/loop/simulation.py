"""The label-savings simulation: the guided-labeling loop with the true labels as the oracle.

Every strategy runs with the same seeds, the same initial random picks, the same schedule
(``initial``, then ``query_size`` more per round up to ``budget``) and the same training seeds,
so curves differ only by which samples each strategy asked for. The full-data accuracy (all pool
labels) is measured per seed on the same test split, so thresholds like "99% of full-data
accuracy" compare like with like.

``results.json`` is rewritten (atomically) after every finished run, and a rerun with the same
configuration skips the runs it already holds, so a long simulation can be interrupted and
continued.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from labeler.data.label_noise import add_label_noise, check_noise
from labeler.data.labeled_data import LabeledData
from labeler.engines.base import Engine
from labeler.learning.auto_embeddings import choose_auto_embeddings, get_auto_preference
from labeler.learning.devices import resolve_device
from labeler.learning.embedding_kinds import get_embedding_kind
from labeler.learning.embedding_preference import order_by_agreement
from labeler.learning.joint_embedding import (
    check_embedding_name,
    join_embeddings,
    split_joint_name,
)
from labeler.learning.learner_choice import (
    CNN,
    check_learner,
    get_head_embedding,
)
from labeler.learning.models import ModelConfig
from labeler.learning.training import TrainConfig
from labeler.loop.round_config import AUTO_EMBEDDING, check_model_preset
from labeler.loop.simulated_learner import Fitted, SimulationArrays, fit_learner, select_next
from labeler.loop.stop_set import predict_classes
from labeler.selection.agreement import cohen_kappa
from labeler.selection.cold_start import get_cold_start
from labeler.selection.stop_meter import choose_stop_set
from labeler.selection.strategies import (
    AUTO,
    SelectionConfig,
    check_strategy,
    check_strategy_fits,
)
from labeler.store.atomic_files import write_json_atomic

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
RESULTS_FORMAT = 1
# Training seeds of round r under seed s are s * _SEED_STRIDE + r: distinct, and shared by
# every strategy.
_SEED_STRIDE = 10_000
_FULL_DATA_ROUND = _SEED_STRIDE - 1
# The random stream (with the seed) that picks the oracle's wrong answers.
_NOISE_STREAM = 31
# The one that draws the stop set.
_STOP_SET_STREAM = 7


@dataclass(frozen=True)
class SimulationConfig:
    """One field per ``labeler simulate`` flag (the model and training have their own).

    ``selection``: how every strategy's batches are chosen (query size, diversity, class cap,
    MC-dropout draws), as a round chooses them; its ``strategy`` is replaced by each of
    ``strategies`` in turn (``get_selection``). ``initial_strategy``: how the ``initial``
    labels are picked, as ``round --initial`` picks them (``labeler.selection.cold_start``; the
    same picks for every strategy of a seed), on the pool's ``embedding`` (``auto``: the first
    embedding ``--model auto`` would use). ``learner``: ``cnn``, ``linear@<embedding>`` or
    ``auto``, as a round's (``labeler.loop.simulated_learner``). ``warm_start``: each round's
    network trains on from the last one's weights (``labeler.learning.warm_start``).
    """

    strategies: tuple[str, ...] = ("margin", "bald", "random")
    n_seeds: int = 3
    first_seed: int = 0
    initial: int = 50
    budget: int = 1000
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    pool_size: int | None = None
    score_subset: int | None = None
    initial_strategy: str = "random"
    embedding: str = "pixels"
    learner: str = CNN
    label_noise: float = 0.0
    label_noise_kind: str = "uniform"
    warm_start: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "label_noise", check_noise(self.label_noise, self.label_noise_kind)
        )
        if not self.strategies:
            raise ValueError("strategies must name at least one strategy")
        for name in self.strategies:
            check_strategy(name)
        if len(set(self.strategies)) != len(self.strategies):
            raise ValueError(f"strategies must not repeat, got {list(self.strategies)}")
        for name, value in (
            ("n_seeds", self.n_seeds),
            ("initial", self.initial),
            ("budget", self.budget),
        ):
            if value < 1:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.budget < self.initial:
            raise ValueError(f"budget ({self.budget}) must be at least initial ({self.initial})")
        if self.pool_size is not None and self.pool_size < self.budget:
            raise ValueError(
                f"pool size ({self.pool_size}) must be at least the budget ({self.budget})"
            )
        if self.score_subset is not None and self.score_subset < self.query_size:
            raise ValueError(
                f"score subset ({self.score_subset}) must be at least the query size "
                f"({self.query_size})"
            )
        get_cold_start(self.initial_strategy)
        if self.embedding != AUTO_EMBEDDING:
            check_embedding_name(self.embedding)
        check_learner(self.learner)
        for name in self.strategies:
            check_strategy_fits(self.learner, name)
        # Each strategy with the shared settings, checked the way rounds check them.
        for name in self.strategies:
            self.get_selection(name)

    @property
    def query_size(self) -> int:
        return self.selection.query_size

    @property
    def seeds(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.n_seeds))

    def get_selection(self, strategy: str) -> SelectionConfig:
        return dataclasses.replace(self.selection, strategy=strategy)

    def get_label_schedule(self) -> list[int]:
        """Label counts at which a model is trained and tested: initial, + query_size each
        round, ..., budget."""
        counts = list(range(self.initial, self.budget, self.query_size))
        return [*counts, self.budget]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready and flat, as ``results.json`` records it: the selection's settings
        beside the others (its strategy left out: ``strategies`` names them)."""
        selection = dataclasses.asdict(self.selection)
        del selection["strategy"]
        return {
            "strategies": list(self.strategies),
            "n_seeds": self.n_seeds,
            "first_seed": self.first_seed,
            "initial": self.initial,
            "budget": self.budget,
            **selection,
            "pool_size": self.pool_size,
            "score_subset": self.score_subset,
            "initial_strategy": self.initial_strategy,
            "embedding": self.embedding,
            "learner": self.learner,
            # Only when asked for, as the label noise below.
            **({"warm_start": True} if self.warm_start else {}),
            # Only when asked for, so that a simulation without noise continues one recorded
            # before noise existed.
            **(
                {"label_noise": self.label_noise, "label_noise_kind": self.label_noise_kind}
                if self.label_noise
                else {}
            ),
        }


@dataclass(frozen=True)
class RunResult:
    """One strategy under one seed: test accuracy after training on each label count."""

    strategy: str
    seed: int
    n_labels: list[int]
    test_accuracy: list[float]
    seconds: float
    # The stop meter's kappa at each label count (None first, or where undefined).
    stop_kappas: list[float | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_simulation(
    data: LabeledData,
    out: str | Path,
    *,
    config: SimulationConfig,
    model_config: ModelConfig,
    train_config: TrainConfig,
    progress: bool = True,
    on_point: Callable[[str, int, int, float], None] | None = None,
    engine: Engine | None = None,
    model_preset: str | None = None,
) -> dict[str, Any]:
    """Run every (strategy, seed) of ``config`` on ``data``; return what ``results.json`` holds.

    ``out``: folder for ``results.json`` (created). ``on_point(strategy, seed, n_labels,
    accuracy)`` is called after each test, for live reporting. ``engine``: a Ray engine runs
    each seed's full-data training and each (strategy, seed) run as a task (one CPU each, so
    one torch thread when ``train_config.n_threads`` is None); their results are merged in the
    local order, each saved as it arrives, and ``on_point`` hears a run's points when it ends.
    ``model_preset``: the preset ``--model`` named (``labeler.learning.model_presets``), which
    must stand for ``model_config``; recorded as ``model_preset`` (None: no preset).
    """
    if model_preset is not None:
        check_model_preset(model_preset, model_config)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    pool_indices = _get_pool_indices(data, config)
    if config.budget > pool_indices.shape[0]:
        raise ValueError(
            f"budget {config.budget} is larger than the pool of {pool_indices.shape[0]} images"
        )
    n_classes = len(data.class_names)
    header = {
        "format": RESULTS_FORMAT,
        "dataset": data.describe(),
        "config": config.to_dict(),
        "model_config": dataclasses.asdict(model_config),
        "train_config": dataclasses.asdict(train_config),
        "n_pool": int(pool_indices.shape[0]),
        "n_test": int(data.test_labels.shape[0]),
    }
    results = _load_previous(out_dir / RESULTS_FILE, header)
    # Kept out of the header, so that a run started before it was recorded still continues.
    results["chance_accuracy"] = get_chance_accuracy(data.test_labels, n_classes=n_classes)
    results["model_preset"] = model_preset

    schedule = config.get_label_schedule()
    n_trainings = len(config.seeds) * (1 + len(config.strategies) * len(schedule))
    bar = tqdm(total=n_trainings, desc="simulate", unit="model", disable=not progress)
    arrays = make_arrays(data, pool_indices, config=config, train_config=train_config)
    arrays = dataclasses.replace(arrays, vectors=embed_arrays(arrays, train_config, progress))
    arrays, results["embedding_order"] = order_embeddings(arrays, config)
    inputs = _TaskInputs(arrays, data, config, model_config, train_config)
    tasks = _list_missing_tasks(results, config, bar=bar)
    cluster = engine if engine is not None and engine.name != "local" else None
    if cluster is None:
        # Run one by one: each run moves the bar and reports its points as it goes.
        answers: Iterable[Any] = (
            _run_task(inputs, task, bar=bar, on_point=on_point) for task in tasks
        )
    else:
        if train_config.n_threads is None:
            # A task has one CPU of the cluster: one torch thread, or they all crawl.
            one_thread = dataclasses.replace(train_config, n_threads=1)
            inputs = dataclasses.replace(inputs, train_config=one_thread)
        answers = cluster.map_in_order(_run_task, tasks, shared=inputs)
    for (strategy, seed), answer in zip(tasks, answers, strict=True):
        if not strategy:
            results["full_data_accuracy"][str(seed)] = answer
            logger.info("seed %d: full-data accuracy %.4f", seed, answer)
            bar.update(1)
        else:
            results["runs"].append(answer)
            if cluster is not None:  # a run on a cluster reports its points when it ends
                bar.update(len(schedule))
                for n_labels, accuracy in zip(
                    answer["n_labels"], answer["test_accuracy"], strict=True
                ):
                    if on_point is not None:
                        on_point(strategy, seed, n_labels, accuracy)
        _save(out_dir, results)
    bar.close()
    return results


@dataclass(frozen=True)
class _TaskInputs:
    """What every task of a simulation reads (sent to a cluster once)."""

    arrays: SimulationArrays
    data: LabeledData
    config: SimulationConfig
    model_config: ModelConfig
    train_config: TrainConfig


def make_arrays(
    data: LabeledData,
    pool_indices: NDArray[np.int64],
    *,
    config: SimulationConfig,
    train_config: TrainConfig,
) -> SimulationArrays:
    """The pool (rows ``pool_indices`` of the training split) and the test split, with the
    embedding kinds the learner and the cold start read named (not yet computed)."""
    arrays = SimulationArrays(
        data.train_images[pool_indices],
        data.train_labels[pool_indices],
        data.test_images,
        data.test_labels,
        n_classes=len(data.class_names),
    )
    n_images = arrays.n_pool + int(data.test_labels.shape[0])

    def get_auto_kinds() -> list[str]:
        # Asked only when needed: it reads the pretrained weights to see that they are there.
        return get_auto_preference(
            choose_auto_embeddings(
                n_images,
                on_gpu=resolve_device(train_config.device).type == "cuda",
                is_cached=lambda kind: False,
            )[0]
        )

    fixed = get_head_embedding(config.learner)
    head_kinds = [fixed] if fixed is not None else []
    if config.learner == AUTO:
        head_kinds = get_auto_kinds()
    cold_start_kind = None
    if config.initial_strategy != "random" or AUTO in config.strategies:
        cold_start_kind = config.embedding
        if cold_start_kind == AUTO_EMBEDDING:
            cold_start_kind = (head_kinds or get_auto_kinds())[0]
    return dataclasses.replace(
        arrays, head_kinds=tuple(head_kinds), cold_start_kind=cold_start_kind
    )


def order_embeddings(
    arrays: SimulationArrays, config: SimulationConfig
) -> tuple[SimulationArrays, str]:
    """``arrays`` with the embeddings ``auto`` chose put in its order of preference, measured
    on the pool (``labeler.learning.embedding_preference``), as a round orders them; and the
    sentence saying why (empty when nothing was ``auto``'s to order)."""
    auto_cold_start = config.embedding == AUTO_EMBEDDING and arrays.cold_start_kind is not None
    if config.learner == AUTO:
        names = list(arrays.head_kinds)
    elif auto_cold_start and not arrays.head_kinds:
        names = [str(arrays.cold_start_kind)]
    else:
        return arrays, ""
    pool = {name: arrays.get_pool_vectors(name) for name in arrays.vectors}
    ordered, order = order_by_agreement(names, pool)
    head_kinds = tuple(ordered) if config.learner == AUTO else arrays.head_kinds
    cold_start_kind = ordered[0] if auto_cold_start else arrays.cold_start_kind
    return (
        dataclasses.replace(arrays, head_kinds=head_kinds, cold_start_kind=cold_start_kind),
        order,
    )


def embed_arrays(
    arrays: SimulationArrays, train_config: TrainConfig, progress: bool
) -> dict[str, NDArray[np.float32]]:
    """Every embedding ``arrays`` names, and the parts of joint ones (each part computed
    once), of pool and test images together."""
    named = [name for name in dict.fromkeys([*arrays.head_kinds, arrays.cold_start_kind]) if name]
    images = np.concatenate([arrays.pool_images, arrays.test_images])
    parts = {
        kind: get_embedding_kind(kind).embed(
            images,
            device=resolve_device(train_config.device),
            n_threads=train_config.n_threads,
            progress=progress,
        )
        for kind in dict.fromkeys(part for name in named for part in split_joint_name(name))
    }
    joints = {
        name: join_embeddings({part: parts[part] for part in split_joint_name(name)})
        for name in named
        if len(split_joint_name(name)) > 1
    }
    return {name: joints[name] if name in joints else parts[name] for name in [*named, *parts]}


def _list_missing_tasks(
    results: dict[str, Any], config: SimulationConfig, *, bar: Any
) -> list[tuple[str, int]]:
    """The tasks ``results`` does not hold yet, in the order results are merged: per seed,
    ``("", seed)`` (full-data training) then ``(strategy, seed)`` for each strategy. Those
    done already move ``bar`` at once."""
    n_points = len(config.get_label_schedule())
    tasks: list[tuple[str, int]] = []
    for seed in config.seeds:
        if str(seed) in results["full_data_accuracy"]:
            bar.update(1)
        else:
            tasks.append(("", seed))
        for strategy in config.strategies:
            if _has_run(results, strategy, seed):
                bar.update(n_points)
            else:
                tasks.append((strategy, seed))
    return tasks


def _run_task(
    inputs: _TaskInputs,
    task: tuple[str, int],
    *,
    bar: Any = None,
    on_point: Callable[[str, int, int, float], None] | None = None,
) -> Any:
    """One task: ``("", seed)`` trains on the whole pool and returns its test accuracy;
    ``(strategy, seed)`` runs that strategy and returns its ``RunResult`` as a dict (moving
    ``bar`` and calling ``on_point`` after each point, when given)."""
    strategy, seed = task
    inputs = _with_label_noise(inputs, seed)
    if not strategy:
        return _get_full_data_accuracy(inputs, seed)
    return _run_one(
        inputs,
        strategy=strategy,
        seed=seed,
        bar=tqdm(disable=True) if bar is None else bar,
        on_point=on_point,
    ).to_dict()


def _with_label_noise(inputs: _TaskInputs, seed: int) -> _TaskInputs:
    """``inputs`` whose oracle makes ``config.label_noise`` of its answers wrong: the same
    wrong answers for every strategy of a seed (and for its full-data model), so that the
    strategies meet the same annotators."""
    config = inputs.config
    if not config.label_noise:
        return inputs
    arrays = inputs.arrays
    noisy = add_label_noise(
        arrays.pool_labels,
        config.label_noise,
        config.label_noise_kind,
        n_classes=arrays.n_classes,
        rng=np.random.default_rng([seed, _NOISE_STREAM]),
    )
    return dataclasses.replace(inputs, arrays=dataclasses.replace(arrays, pool_labels=noisy))


def _get_full_data_accuracy(inputs: _TaskInputs, seed: int) -> float:
    """Test accuracy of the learner trained on the whole pool (the same training seed as
    here)."""
    training_seed = seed * _SEED_STRIDE + _FULL_DATA_ROUND
    return fit_learner(
        inputs.arrays,
        np.arange(inputs.arrays.n_pool, dtype=np.int64),
        learner=inputs.config.learner,
        model_config=inputs.model_config,
        train_config=dataclasses.replace(inputs.train_config, seed=training_seed),
        seed=training_seed,
    ).test_accuracy


def _run_one(
    inputs: _TaskInputs,
    *,
    strategy: str,
    seed: int,
    bar: Any,
    on_point: Callable[[str, int, int, float], None] | None,
) -> RunResult:
    started = time.perf_counter()
    arrays, config = inputs.arrays, inputs.config
    selection = config.get_selection(strategy)
    # The initial picks depend on the seed only, so every strategy starts from the same labels.
    rng = np.random.default_rng([seed, 0])
    if config.initial_strategy == "random" or arrays.cold_start_kind is None:
        labeled = rng.choice(arrays.n_pool, size=config.initial, replace=False).astype(np.int64)
    else:
        labeled = get_cold_start(config.initial_strategy)(
            arrays.get_pool_vectors(arrays.cold_start_kind), config.initial, seed=rng
        )
    n_labels: list[int] = []
    accuracies: list[float] = []
    kappas: list[float | None] = []
    fitted: Fitted | None = None
    # As in a project: a stop set drawn once, predicted every round, never selected.
    stop_ids = choose_stop_set(
        np.setdiff1d(np.arange(arrays.n_pool, dtype=np.int64), labeled),
        n_pool=arrays.n_pool,
        rng=np.random.default_rng([seed, _STOP_SET_STREAM]),
    )
    stop_guesses: NDArray[np.int64] | None = None
    for round_index, target in enumerate(config.get_label_schedule()):
        if round_index:
            assert fitted is not None
            picks = select_next(
                arrays,
                fitted,
                labeled,
                selection=dataclasses.replace(selection, query_size=target - labeled.shape[0]),
                rng=np.random.default_rng([seed, round_index, 1]),
                score_subset=config.score_subset,
                excluded=stop_ids,
            )
            labeled = np.concatenate([labeled, picks])
        training_seed = seed * _SEED_STRIDE + round_index
        fitted = fit_learner(
            arrays,
            np.sort(labeled),
            learner=config.learner,
            model_config=inputs.model_config,
            train_config=dataclasses.replace(inputs.train_config, seed=training_seed),
            seed=training_seed,
            warm=config.warm_start,
            previous=None if fitted is None else fitted.network,
            n_previous_labels=n_labels[-1] if n_labels else None,
        )
        n_labels.append(int(labeled.shape[0]))
        accuracies.append(fitted.test_accuracy)
        guesses = None
        if fitted.predictor is not None and stop_ids.shape[0]:
            guesses = predict_classes(fitted.predictor, stop_ids)
        kappas.append(
            None
            if guesses is None or stop_guesses is None
            else cohen_kappa(stop_guesses, guesses, n_classes=arrays.n_classes)
        )
        stop_guesses = guesses
        bar.update(1)
        bar.set_postfix_str(
            f"{strategy} seed {seed}: {n_labels[-1]} labels, acc {fitted.test_accuracy:.3f}"
        )
        if on_point is not None:
            on_point(strategy, seed, n_labels[-1], fitted.test_accuracy)
    # No stop set (a small pool): no meter.
    measured = kappas if stop_ids.shape[0] else []
    seconds = time.perf_counter() - started
    return RunResult(strategy, seed, n_labels, accuracies, seconds, measured)


def _get_pool_indices(data: LabeledData, config: SimulationConfig) -> NDArray[np.int64]:
    n_train = data.train_labels.shape[0]
    if config.pool_size is None or config.pool_size >= n_train:
        return np.arange(n_train, dtype=np.int64)
    # One pool for every seed and strategy: fixed by the first seed.
    rng = np.random.default_rng([config.first_seed, 2])
    return np.sort(rng.choice(n_train, size=config.pool_size, replace=False)).astype(np.int64)


def get_chance_accuracy(labels: NDArray[np.int64], *, n_classes: int) -> float:
    """The accuracy of always guessing the most common class of ``labels`` (int64 ``[n]``)."""
    if labels.shape[0] == 0:
        return 1.0 / n_classes
    return float(np.bincount(labels, minlength=n_classes).max() / labels.shape[0])


def _load_previous(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    """The runs of an earlier, interrupted simulation with the same header, or a fresh start."""
    fresh = {**header, "full_data_accuracy": {}, "runs": []}
    if not path.exists():
        return fresh
    try:
        previous = load_results(path)
    except ValueError as error:
        logger.warning("ignoring %s: %s", path, error)
        return fresh
    if any(previous.get(key) != value for key, value in _as_json(header).items()):
        logger.info("%s holds a different simulation; starting afresh", path)
        return fresh
    logger.info("continuing %s: %d runs already done", path, len(previous.get("runs", [])))
    return previous


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a ``results.json``; ``ValueError`` naming the file if it is not one."""
    try:
        with open(path, encoding="utf-8") as file:
            results = json.load(file)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise ValueError(f"{path} is not a simulation results file (format {RESULTS_FORMAT})")
    for key in ("config", "full_data_accuracy", "runs"):
        if key not in results:
            raise ValueError(f"{path} lacks {key!r}")
    return results


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), to compare headers."""
    return json.loads(json.dumps(value))


def _has_run(results: dict[str, Any], strategy: str, seed: int) -> bool:
    return any(run["strategy"] == strategy and run["seed"] == seed for run in results["runs"])


def _save(out_dir: Path, results: dict[str, Any]) -> None:
    write_json_atomic(out_dir / RESULTS_FILE, results)
