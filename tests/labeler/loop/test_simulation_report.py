from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from labeler.loop.simulation_report import format_table, save_learning_curves, summarize


def _make_results(curves: dict[str, list[list[float]]], full: list[float]) -> dict[str, Any]:
    counts = [10, 20, 30, 40]
    runs = [
        {"strategy": name, "seed": seed, "n_labels": counts, "test_accuracy": accuracy}
        for name, per_seed in curves.items()
        for seed, accuracy in enumerate(per_seed)
    ]
    return {
        "format": 1,
        "config": {"strategies": list(curves), "budget": 40},
        "full_data_accuracy": {str(seed): value for seed, value in enumerate(full)},
        "runs": runs,
    }


def test_labels_to_reach_and_savings_are_read_off_the_mean_curve() -> None:
    results = _make_results(
        {
            "margin": [[0.80, 0.99, 1.00, 1.00], [0.80, 0.97, 1.00, 1.00]],  # mean .98 at 20
            "random": [[0.70, 0.90, 0.96, 0.99], [0.70, 0.90, 0.94, 0.99]],  # mean .95 at 30
        },
        full=[1.0, 1.0],
    )
    summary = summarize(results)
    margin, random = summary.strategies
    assert margin.labels_to_reach == {0.95: 20, 0.98: 20, 0.99: 30}
    assert random.labels_to_reach == {0.95: 30, 0.98: 40, 0.99: 40}
    assert margin.saving[0.95] == pytest.approx(1 - 20 / 30)
    assert margin.saving[0.99] == pytest.approx(1 - 30 / 40)
    assert margin.mean_accuracy[1] == pytest.approx(0.98)
    assert margin.std_accuracy[1] == pytest.approx(0.01)
    # Trapezoids over [10, 40] divided by 30.
    expected_area = ((0.80 + 0.98) + (0.98 + 1.0) + (1.0 + 1.0)) * 10 / 2 / 30
    assert margin.area_under_curve == pytest.approx(expected_area)


def test_a_threshold_missed_within_the_budget_is_said_not_extrapolated() -> None:
    results = _make_results(
        {"margin": [[0.5, 0.9, 0.99, 1.0]], "random": [[0.5, 0.6, 0.7, 0.8]]}, full=[1.0]
    )
    summary = summarize(results)
    margin, random = summary.strategies
    assert random.labels_to_reach[0.95] is None
    assert margin.saving[0.95] is None
    assert margin.saving_lower_bound[0.95] == pytest.approx(1 - 30 / 40)
    table = format_table(summary)
    assert ">40" in table
    assert ">25% (random >budget)" in table
    assert "| random | 1 |" in table


def test_learning_curve_png_is_written(tmp_path: Path) -> None:
    results = _make_results(
        {"margin": [[0.5, 0.9, 0.99, 1.0]], "random": [[0.5, 0.6, 0.7, 0.8]]}, full=[1.0]
    )
    path = tmp_path / "curves.png"
    save_learning_curves(results, summarize(results), path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 400
        pixels = np.asarray(image.convert("L"))
    assert pixels.min() < 100  # something was drawn


def test_results_without_finished_runs_are_refused() -> None:
    with pytest.raises(ValueError, match="no full-data accuracy"):
        summarize({"config": {"strategies": ["margin"], "budget": 10}, "full_data_accuracy": {}})


def test_runs_with_different_schedules_cannot_be_averaged() -> None:
    results = _make_results({"margin": [[0.5, 0.6, 0.7, 0.8]] * 2}, full=[1.0, 1.0])
    results["runs"][1]["n_labels"] = [10, 20, 30, 50]
    with pytest.raises(ValueError, match="different label schedules"):
        summarize(results)


def test_a_problem_learned_no_better_than_chance_is_flagged() -> None:
    curves = {"margin": [[0.5, 0.52, 0.51, 0.53]], "random": [[0.5, 0.49, 0.5, 0.51]]}
    results = _make_results(curves, [0.53])
    results["dataset"] = {"class_names": ["a", "b"]}
    results["chance_accuracy"] = 0.5
    summary = summarize(results)
    assert summary.chance_accuracy == 0.5 and not summary.is_learned
    table = format_table(summary)
    assert "**Not learned:** full-data accuracy 0.530 is within 0.05 of chance (0.500)" in table
    # Learned well above chance: no flag. Without a recorded chance level, 1 / classes.
    results["full_data_accuracy"] = {"0": 0.9}
    assert "Not learned" not in format_table(summarize(results))
    del results["chance_accuracy"]
    results["dataset"]["class_names"] = ["a", "b", "c", "d"]
    results["full_data_accuracy"] = {"0": 0.28}
    flagged = summarize(results)
    assert flagged.chance_accuracy == 0.25 and not flagged.is_learned


def test_results_without_a_dataset_description_are_not_flagged() -> None:
    results = _make_results({"random": [[0.5, 0.5, 0.5, 0.5]]}, [0.5])
    assert summarize(results).is_learned
