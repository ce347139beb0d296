"""Finding wrong labels: how many of the labels ``labeler suspects`` ranks first are really wrong.

For each dataset, seed, noise rate (5%, 10%, 20%) and noise kind, pool samples are labeled
(20 per class, at least 300, at most half the pool), a share of them wrongly
(``labeler.data.label_noise``: ``uniform``, any other class; ``confusion``, each class always
mistaken for one other).

Then the default round's machinery runs on them: the learner chosen on the labels
(``choose_learner``, linear heads on ``efficientnet_lite0``, ``pixels`` and their joint
embedding), its out-of-fold probabilities (``labeler.learning.out_of_fold``) and
``rank_suspects``. No annotator disagreement is given: one annotator per label.

Measured, mean over seeds:
- ``flagged``: how many labels confident learning flags, and its precision (share of them
  wrong) and recall (share of the wrong labels flagged);
- ``P@k``: precision of the top ``k`` suspects, ``k`` = the number of wrong labels (then also
  the recall at that ``k``);
- ``fixed per review``: a reviewer re-labels the top 10% of the ranking, against re-labeling
  a random 10%; errors fixed per review, and the ratio (random re-review finds the noise rate);
- ``test accuracy`` of a linear head (on the chosen embedding) at equal total labels: the
  noisy labels plus that review (the top 10% corrected), against the same number of labels
  spent on new, equally noisy samples instead, and against clean labels.

Targets (issue 21) at 10% noise: precision of the top suspects above 51%; at least 4x more
errors fixed per review than random re-review.

    .venv/bin/python bench/label_noise.py       # a few minutes once bench/first_labels.py
                                                # has cached the embeddings in /tmp/first-labels
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.first_labels import DATASETS, KINDS, embed_all, load_dataset
from bench.machine import describe_machine
from labeler.data.label_noise import NOISE_KINDS, add_label_noise
from labeler.learning.joint_embedding import add_joint_embedding
from labeler.learning.learner_choice import choose_learner, get_head_embedding
from labeler.learning.linear_head import fit_linear_head
from labeler.learning.out_of_fold import get_out_of_fold_probs
from labeler.learning.train_config import TrainConfig
from labeler.selection.label_issues import rank_suspects

RESULTS = Path(__file__).resolve().parent / "results"
NOISE_RATES = (0.05, 0.10, 0.20)
REVIEW_SHARE = 0.10
N_LABELS_PER_CLASS = 20
MIN_LABELS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/first-labels"))
    parser.add_argument("--out", type=Path, default=RESULTS / "label_noise")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name in args.datasets.split(","):
        data = load_dataset(name, args.work)
        vectors, _ = embed_all(name, data, args.work)
        vectors = add_joint_embedding(vectors)
        results[name] = run_dataset(name, data, vectors, n_seeds=args.seeds)
        print(format_dataset(name, results[name]), flush=True)
    report = {
        "machine": describe_machine(),
        "config": {
            "seeds": args.seeds,
            "noise_rates": list(NOISE_RATES),
            "noise_kinds": list(NOISE_KINDS),
            "review_share": REVIEW_SHARE,
            "kinds": list(KINDS),
        },
        "results": results,
        "seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    text = format_report(report)
    args.out.with_suffix(".md").write_text(text)
    print(text)


def run_dataset(
    name: str, data: Any, vectors: dict[str, NDArray[np.float32]], *, n_seeds: int
) -> dict[str, Any]:
    n_pool = data.train_labels.shape[0]
    n_classes = len(data.class_names)
    pool = {kind: rows[:n_pool] for kind, rows in vectors.items()}
    test = {kind: rows[n_pool:] for kind, rows in vectors.items()}
    n_labels = min(n_pool // 2, max(MIN_LABELS, N_LABELS_PER_CLASS * n_classes))
    n_review = round(REVIEW_SHARE * n_labels)
    rows: list[dict[str, Any]] = []
    for kind in NOISE_KINDS:
        for rate in NOISE_RATES:
            for seed in range(n_seeds):
                rng = np.random.default_rng([seed, int(rate * 100), NOISE_KINDS.index(kind)])
                order = rng.permutation(n_pool)
                labeled, extra = order[:n_labels], order[n_labels : n_labels + n_review]
                truth = data.train_labels[labeled]
                given = add_label_noise(truth, rate, kind, n_classes=n_classes, rng=rng)
                extra_given = add_label_noise(
                    data.train_labels[extra], rate, kind, n_classes=n_classes, rng=rng
                )
                rows.append(
                    {
                        "kind": kind,
                        "rate": rate,
                        "seed": seed,
                        **measure(
                            pool,
                            test,
                            data,
                            labeled,
                            given,
                            extra,
                            extra_given,
                            n_review=n_review,
                            seed=seed,
                        ),
                    }
                )
    return {"n_pool": n_pool, "n_classes": n_classes, "n_labels": n_labels, "rows": rows}


def measure(
    pool: dict[str, NDArray[np.float32]],
    test: dict[str, NDArray[np.float32]],
    data: Any,
    labeled: NDArray[np.int64],
    given: NDArray[np.int64],
    extra: NDArray[np.int64],
    extra_given: NDArray[np.int64],
    *,
    n_review: int,
    seed: int,
) -> dict[str, Any]:
    n_classes = len(data.class_names)
    truth = data.train_labels[labeled]
    wrong = given != truth
    n_wrong = int(wrong.sum())
    choice = choose_learner(
        given,
        n_classes=n_classes,
        head_vectors={kind: rows[labeled] for kind, rows in pool.items()},
        train_cnn=None,
        train_config=TrainConfig(),
        seed=seed,
    )
    kind = get_head_embedding(choice.chosen)
    assert kind is not None
    computed = get_out_of_fold_probs(pool[kind][labeled], given, n_classes=n_classes, seed=seed)
    assert computed is not None
    ranking = rank_suspects(given, computed[0])
    top_k = ranking.order[:n_wrong]
    reviewed = ranking.order[:n_review]
    fixed_top = int(wrong[reviewed].sum())
    rng = np.random.default_rng([seed, 99])
    fixed_random = float(
        np.mean(
            [wrong[rng.choice(wrong.shape[0], n_review, replace=False)].sum() for _ in range(50)]
        )
    )
    corrected = given.copy()
    corrected[reviewed] = truth[reviewed]

    def accuracy(rows: NDArray[np.int64], labels: NDArray[np.int64]) -> float:
        head = fit_linear_head(pool[kind][rows], labels, n_classes=n_classes)
        return float(np.mean(head.predict(test[kind]) == data.test_labels))

    flagged = ranking.flagged
    return {
        "learner": choice.chosen,
        "n_wrong": n_wrong,
        "n_flagged": int(flagged.sum()),
        "flagged_precision": float(wrong[flagged].mean()) if flagged.any() else None,
        "flagged_recall": float((flagged & wrong).sum() / max(n_wrong, 1)),
        "precision_at_k": float(wrong[top_k].mean()) if n_wrong else None,
        "fixed_top": fixed_top,
        "fixed_random": fixed_random,
        "accuracy_reviewed": accuracy(labeled, corrected),
        "accuracy_more_labels": accuracy(
            np.concatenate([labeled, extra]), np.concatenate([given, extra_given])
        ),
        "accuracy_noisy": accuracy(labeled, given),
        "accuracy_clean": accuracy(labeled, truth),
    }


def _mean(values: list[Any]) -> float | None:
    kept = [value for value in values if value is not None]
    return float(np.mean(kept)) if kept else None


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean over seeds of every measure, per noise kind and rate."""
    summary = []
    for kind in NOISE_KINDS:
        for rate in NOISE_RATES:
            rows = [r for r in result["rows"] if r["kind"] == kind and r["rate"] == rate]
            if not rows:
                continue
            keys = [key for key in rows[0] if key not in ("kind", "rate", "seed", "learner")]
            item: dict[str, Any] = {"kind": kind, "rate": rate}
            item.update({key: _mean([row[key] for row in rows]) for key in keys})
            item["review_ratio"] = (
                item["fixed_top"] / item["fixed_random"] if item["fixed_random"] else None
            )
            summary.append(item)
    return summary


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "—" if value is None else pattern.format(value)


def format_dataset(name: str, result: dict[str, Any]) -> str:
    learners = sorted({row["learner"] for row in result["rows"]})
    lines = [
        f"### {name}: {result['n_classes']} classes, {result['n_labels']} labels of a "
        f"{result['n_pool']}-image pool; learners chosen: {', '.join(learners)}",
        "",
        "| noise | rate | wrong | flagged | flagged precision | flagged recall | P@k | fixed per "
        "review: top / random (ratio) | test acc: reviewed / more labels / noisy / clean |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for item in summarize(result):
        lines.append(
            f"| {item['kind']} | {item['rate']:.0%} | {item['n_wrong']:.0f} | "
            f"{item['n_flagged']:.0f} | {_fmt(item['flagged_precision'])} | "
            f"{_fmt(item['flagged_recall'])} | {_fmt(item['precision_at_k'])} | "
            f"{item['fixed_top']:.1f} / {item['fixed_random']:.1f} "
            f"({_fmt(item['review_ratio'], '{:.1f}x')}) | "
            f"{item['accuracy_reviewed']:.3f} / {item['accuracy_more_labels']:.3f} / "
            f"{item['accuracy_noisy']:.3f} / {item['accuracy_clean']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        "# Finding wrong labels: confident learning on out-of-fold probabilities",
        "",
        f"Written by `bench/label_noise.py` (its docstring says how). Mean over "
        f"{config['seeds']} seeds. The review re-labels the top {config['review_share']:.0%} "
        f"of the ranking; random re-review would find the noise rate. Machine: "
        f"{report['machine']}. Total {report['seconds'] / 60:.1f} min.",
        "",
    ]
    for name, result in report["results"].items():
        lines.append(format_dataset(name, result))
    targets = []
    for name, result in report["results"].items():
        for item in summarize(result):
            if item["rate"] != 0.10:
                continue
            precision = item["precision_at_k"] or 0.0
            ratio = item["review_ratio"] or 0.0
            met = precision > 0.51 and ratio >= 4.0
            targets.append(
                f"- {name}, {item['kind']} noise: P@k {precision:.2f} (target > 0.51), "
                f"{ratio:.1f}x random re-review (target >= 4x): {'met' if met else 'NOT met'}"
            )
    lines += ["## Targets at 10% noise", "", *targets, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
