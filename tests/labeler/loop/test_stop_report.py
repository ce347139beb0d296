"""Where the stop meter stops a simulated run, against the oracle point, by hand."""

from __future__ import annotations

from labeler.loop.stop_report import format_stop_table, get_stop_points


def make_results() -> dict:
    counts = [20, 40, 60, 80, 100, 120]
    return {
        "full_data_accuracy": {"0": 0.9, "1": 0.9},
        "runs": [
            {  # stable from 60 on: stops at 100 (three rounds at 60, 80, 100); oracle 100
                "strategy": "margin",
                "seed": 0,
                "n_labels": counts,
                "test_accuracy": [0.5, 0.7, 0.85, 0.88, 0.895, 0.9],
                "stop_kappas": [None, 0.9, 0.995, 0.999, 0.992, 1.0],
            },
            {  # never stable
                "strategy": "random",
                "seed": 1,
                "n_labels": counts,
                "test_accuracy": [0.5, 0.6, 0.7, 0.8, 0.85, 0.87],
                "stop_kappas": [None, 0.8, 0.9, 0.95, 0.97, 0.98],
            },
            {  # written before the meter: left out
                "strategy": "bald",
                "seed": 0,
                "n_labels": counts,
                "test_accuracy": [0.5] * 6,
            },
        ],
    }


def test_each_run_stops_where_the_rule_first_holds() -> None:
    margin, random = get_stop_points(make_results(), threshold=0.99, window=3)
    # 0.99 x 0.9 = 0.891: first reached at 100.
    assert (margin.stop_labels, margin.oracle_labels, margin.stop_accuracy) == (100, 100, 0.895)
    assert margin.on_time and margin.safe
    assert (random.stop_labels, random.oracle_labels, random.stop_accuracy) == (None, None, None)
    assert random.undecided and not random.on_time and random.safe  # it never stopped early
    early = get_stop_points(make_results(), threshold=0.99, window=1)[0]
    # Stops at 60 against the oracle's 100: 40% early, but 0.85 / 0.9 = 0.944 < 0.98: unsafe.
    assert early.stop_labels == 60 and not early.on_time and not early.safe


def test_the_table_counts_runs_on_time_and_safe() -> None:
    points = get_stop_points(make_results(), threshold=0.99, window=3)
    table = format_stop_table(points, threshold=0.99, window=3)
    assert "| margin | 0 | 100 | 100 | 0.895 | 0.994 | yes | yes |" in table
    assert "| random | 1 | never | never | — | — | no | yes |" in table
    assert "On time in 1 of 1 decided runs (1 undecided: neither the stop nor the oracle " in table
    assert "; safe in 2 of 2." in table
    assert format_stop_table([], threshold=0.99, window=3) == "Stop meter: no run measured it."
