"""Does the unlabeled pool help the first labels? Label spreading against the linear head alone.

At 1, 2 and 4 labels per class, chosen by ``max_herding`` (our cold start) on an embedding,
three learners are tested on the held-out split:

- ``head``: the linear head on the labeled rows only (``labeler.learning.linear_head``, what
  ``--model auto`` uses);
- ``spread+head``: scikit-learn's ``LabelSpreading`` (k-nearest-neighbour graph, k = 10,
  alpha 0.2) over the whole pool spreads the labels to every pool image, and the linear head
  is fitted on the whole pool with those labels;
- ``spread (transductive)``: the same spreading over pool and test images together, the test
  images' spread labels as the prediction.

It reads the embeddings ``bench/first_labels.py`` cached under ``--work`` (run that first), each
centred and divided by its overall root mean square, and the joint embedding of the two.
Spreading is kept as an option only if it gains here; the result says whether it did.

    .venv/bin/python bench/semi_supervised.py     # a few minutes after bench/first_labels.py
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.first_labels import KINDS, embed_all, load_dataset
from bench.machine import describe_machine
from labeler.learning.joint_embedding import add_joint_embedding
from labeler.learning.linear_head import fit_linear_head
from labeler.selection.cold_start import get_cold_start

RESULTS = Path(__file__).resolve().parent / "results"
BUDGETS = (1, 2, 4)
LEARNERS = ("head", "spread+head", "spread (transductive)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="fonts,counting,colour")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/first-labels"))
    parser.add_argument("--out", type=Path, default=RESULTS / "semi_supervised")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": describe_machine(), "results": {}}
    for name in args.datasets.split(","):
        data = load_dataset(name, args.work)
        vectors = add_joint_embedding(embed_all(name, data, args.work)[0])
        report["results"][name] = run_dataset(data, vectors, args.seeds)
        print(format_dataset(name, report["results"][name]), flush=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    text = format_report(report)
    args.out.with_suffix(".md").write_text(text)
    print(text)


def run_dataset(data: Any, vectors: dict[str, Any], n_seeds: int) -> dict[str, Any]:
    from sklearn.semi_supervised import LabelSpreading

    n_pool = data.train_labels.shape[0]
    n_classes = len(data.class_names)
    result: dict[str, Any] = {}
    for kind, rows in vectors.items():
        scaled = _scale(np.asarray(rows, dtype=np.float64), n_pool)
        pool, test = scaled[:n_pool], scaled[n_pool:]
        for budget in BUDGETS:
            cell = result.setdefault(kind, {}).setdefault(str(budget), {})
            for seed in range(n_seeds):
                picks = get_cold_start("max_herding")(pool, budget * n_classes, seed=seed)
                labels = data.train_labels[picks]
                if np.unique(labels).shape[0] < 2:
                    continue
                head = fit_linear_head(pool[picks], labels, n_classes=n_classes)
                known = np.full(n_pool, -1)
                known[picks] = labels
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    spread = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.2).fit(
                        pool, known
                    )
                    both = np.concatenate([known, np.full(test.shape[0], -1)])
                    spread_all = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.2).fit(
                        scaled, both
                    )
                spread_head = fit_linear_head(pool, spread.transduction_, n_classes=n_classes)
                guesses = {
                    "head": head.predict(test),
                    "spread+head": spread_head.predict(test),
                    "spread (transductive)": spread_all.transduction_[n_pool:],
                }
                for learner, guess in guesses.items():
                    accuracy = float(np.mean(guess == data.test_labels))
                    cell.setdefault(learner, []).append(accuracy)
    return result


def _scale(rows: NDArray[np.float64], n_pool: int) -> NDArray[np.float64]:
    centred = rows - rows[:n_pool].mean(axis=0)
    return centred / max(float(np.sqrt(np.mean(centred[:n_pool] ** 2))), 1e-12)


def format_dataset(name: str, result: dict[str, Any]) -> str:
    lines = [
        f"### {name}",
        "",
        "| embedding | labels per class | " + " | ".join(LEARNERS) + " |",
        "|---|---:|" + "---:|" * len(LEARNERS),
    ]
    for kind, by_budget in result.items():
        for budget, cell in by_budget.items():
            values = [
                f"{np.mean(cell[learner]):.3f}" if cell.get(learner) else "-"
                for learner in LEARNERS
            ]
            lines.append(f"| {kind} | {budget} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def format_report(report: dict[str, Any]) -> str:
    gains = [
        np.mean(cell["spread+head"]) - np.mean(cell["head"])
        for result in report["results"].values()
        for by_budget in result.values()
        for cell in by_budget.values()
        if cell.get("head")
    ]
    lines = [
        "# Label spreading at the first labels",
        "",
        "Written by `bench/semi_supervised.py` (its docstring says what each learner is). Mean "
        "test accuracy over seeds, first labels by `max_herding` on the same embedding; "
        f"embeddings {', '.join(KINDS)} and their joint one.",
        "",
        f"Machine: {report['machine']}.",
        "",
        f"Spreading then the head, against the head alone, over {len(gains)} cells: mean "
        f"{np.mean(gains) * 100:+.1f} points, best {np.max(gains) * 100:+.1f}, worst "
        f"{np.min(gains) * 100:+.1f}.",
        "",
    ]
    for name, result in report["results"].items():
        lines += [format_dataset(name, result), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
