"""A simulated labeling study from Python: the loop on a labeled dataset with the true labels
as the oracle, with the options of ``labeler simulate`` and a researcher's own strategies or
model."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labeler.api.options import (
    SIMULATION_DEFAULTS,
    get_learner,
    get_model_config,
    get_requested_image_size,
    get_selection_config,
    get_train_config,
    resolve_options,
)
from labeler.api.rounds import name_model, name_strategy
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import get_channels
from labeler.data.input_size import choose_image_size
from labeler.data.labeled_data import load_labeled_data
from labeler.engines.base import Engine
from labeler.learning.custom_model import ModelFactory
from labeler.learning.model_presets import get_preset
from labeler.loop.simulation import SimulationConfig, run_simulation
from labeler.loop.simulation_report import (
    SimulationSummary,
    format_table,
    save_learning_curves,
    summarize,
)
from labeler.loop.stop_report import format_stop_table, get_stop_points
from labeler.selection.custom_strategy import CustomStrategy
from labeler.selection.stop_meter import DEFAULT_STOP_THRESHOLD, DEFAULT_STOP_WINDOW
from labeler.store.atomic_files import write_json_atomic, write_text_atomic

CURVE_FILE = "learning_curves.png"
TABLE_FILE = "table.md"
SUMMARY_FILE = "summary.json"
RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class SimulationOutcome:
    """A finished simulation: ``results`` (what ``results.json`` holds: every strategy's
    learning curve per seed), their ``summary`` (labels each strategy needs to reach each
    share of the full-data accuracy, and the savings against random), the savings ``table``
    (Markdown) and the ``out`` folder holding those files and the learning-curve PNG."""

    results: dict[str, Any]
    summary: SimulationSummary
    table: str
    out: Path


def simulate(
    dataset: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    strategies: Sequence[str | CustomStrategy] = SIMULATION_DEFAULTS["strategies"],
    model: str | ModelFactory = SIMULATION_DEFAULTS["model"],
    engine: Engine | None = None,
    progress: bool = True,
    **options: Any,
) -> SimulationOutcome:
    """Run every strategy on ``dataset`` (a dataset folder of ``labeler generate`` or a labeled
    ImageFolder tree) from ``initial`` to ``budget`` labels, answering with the true labels,
    as ``labeler simulate`` does; write ``results.json``, ``table.md``, ``summary.json`` and
    ``learning_curves.png`` into ``out`` (rerun with the same options, it continues).

    ``strategies``: names, or functions ``scores = f(probs)`` (recorded as
    ``custom:<name>``); ``model``: a ``--model`` name or a factory ``f(n_classes,
    in_channels, image_size) -> torch.nn.Module``; ``options``: the other flags by their
    names (``seeds``, ``initial``, ``query_size``, ``budget``, ``pool_size``,
    ``label_noise`` (the oracle's share of wrong answers), ...; see
    ``labeler.api.options.SIMULATION_DEFAULTS``).
    """
    if isinstance(strategies, str):
        raise ValueError(
            f"strategies must be a list of names or functions, got the string {strategies!r} "
            "(e.g. strategies=['auto', 'random'])"
        )
    names = tuple(name_strategy(strategy, engine) for strategy in strategies)
    named = {"model": name_model(model, engine), **options}
    args = resolve_options(named, SIMULATION_DEFAULTS, what="simulation")
    del args.strategies  # given as ``names``
    config = SimulationConfig(
        strategies=names,
        n_seeds=args.seeds,
        first_seed=args.first_seed,
        initial=args.initial,
        budget=args.budget,
        # Checked for each strategy; the first stands in until then.
        selection=get_selection_config(args, strategy=(*names, "random")[0]),
        pool_size=args.pool_size,
        initial_strategy=args.initial_strategy,
        embedding=args.embedding,
        score_subset=args.score_subset,
        learner=get_learner(args),
        label_noise=args.label_noise,
        label_noise_kind=args.label_noise_kind,
        warm_start=args.warm_start,
    )
    image_size = choose_image_size(dataset, get_requested_image_size(args))
    train_config = get_train_config(args, augment=choose_augmentation(dataset, args.augment))
    data = load_labeled_data(
        dataset,
        image_size=image_size,
        colour=args.colour,
        test_fraction=args.test_fraction,
        seed=args.first_seed,
    )
    model_config = get_model_config(
        args, image_size=image_size, in_channels=get_channels(data.train_images)
    )
    if progress:
        if data.skipped:
            print(f"skipped {len(data.skipped)} unreadable images, e.g. {data.skipped[0][0]}")
        print(
            f"simulating {', '.join(names)} on {dataset}: {data.train_labels.shape[0]} "
            f"train, {data.test_labels.shape[0]} test images, {len(data.class_names)} classes, "
            f"{config.n_seeds} seeds, {config.initial} -> {config.budget} labels by "
            f"{config.query_size}"
        )
    results = run_simulation(
        data,
        Path(out),
        config=config,
        model_config=model_config,
        train_config=train_config,
        engine=engine,
        progress=progress,
        model_preset=args.model if get_preset(args.model) is not None else None,
    )
    summary, table = write_report(results, Path(out))
    return SimulationOutcome(results, summary, table, Path(out))


def write_report(
    results: dict[str, Any], out: Path, *, title: str = ""
) -> tuple[SimulationSummary, str]:
    """Write the savings table, the summary JSON and the learning-curve PNG into ``out``;
    return the summary and the table."""
    summary = summarize(results)
    table = format_table(summary)
    points = get_stop_points(results)
    if points:
        stops = format_stop_table(
            points, threshold=DEFAULT_STOP_THRESHOLD, window=DEFAULT_STOP_WINDOW
        )
        table += "\n\n" + stops
    write_text_atomic(out / TABLE_FILE, table + "\n")
    write_json_atomic(
        out / SUMMARY_FILE,
        {**_summary_to_json(summary), "stops": [dataclasses.asdict(p) for p in points]},
    )
    save_learning_curves(results, summary, out / CURVE_FILE, title=title)
    return summary, table


def _summary_to_json(summary: SimulationSummary) -> dict[str, Any]:
    raw = dataclasses.asdict(summary)
    for item in raw["strategies"]:
        for key in ("labels_to_reach", "saving", "saving_lower_bound"):
            item[key] = {f"{threshold:.2f}": value for threshold, value in item[key].items()}
    return raw
