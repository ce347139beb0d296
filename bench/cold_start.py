"""Cold start: which first labels make the best linear classifier, chosen from an embedding alone.

For budgets of 1, 2, 4, 8 and 16 labels per class (labels in all = budget x classes; no
strategy ever sees a label) each strategy picks the pool rows to label, a logistic regression
is fitted on the embedding of those rows with their true labels, and its accuracy is measured
on the test split. Strategies: ours from ``labeler.selection.cold_start`` (random, typiclust,
max_herding, plus max_herding at half the median bandwidth to see how much that choice
matters) and scikit-activeml 1.0.1's TypiClust and ProbCover as peers, with their defaults
(ProbCover, whose default radii assume unit-norm features as in its paper, gets L2-normalised
rows and the true number of classes). A seed changes the data (digits' test split; the
generated datasets' images, drawn with that seed) and the strategies' own randomness.

Two embeddings, both PCA (numpy SVD fitted on the pool only, ``--dim`` components):
- ``pixels``: the raw pixels, area-averaged to at most 32 px a side (ink = 1);
- ``fourier``: log(1 + |2-D DFT|) of the ink at the lowest 32 x 17 frequencies, which no
  translation changes. The generated problems put objects anywhere, so on pixels a linear
  classifier is at chance even with the whole pool and cannot rank strategies; this cheap,
  label-free embedding makes orientation and counting linearly learnable. It is a bench
  device, not one of the project's embeddings.

Datasets: scikit-learn's digits (8x8 scans, 10 classes; 1,197 pool / 600 test), and generated
counting (6 classes), orientation (2 classes) and SVRT problem 4 (2 classes), each 2,000 pool
+ 1,000 test images at 128 px generated in memory (the same pure function that ``labeler
generate`` writes). Last, the cost of one call of typiclust and max_herding on 20,000 and
100,000 x 64 float32 points (``--scaling-only`` remeasures just that into the saved report).
One thread throughout.

    python bench/cold_start.py    # about 5.5 CPU minutes on one thread (9 minutes of wall
                                  # time on the shared 2-core machine)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from generators.registry import get_family
from labeler.selection.cold_start import get_cold_start
from labeler.selection.max_herding import get_median_distance, max_herding

RESULTS = Path(__file__).resolve().parent / "results"
BUDGETS = (1, 2, 4, 8, 16)
OURS = ("random", "typiclust", "max_herding")
EMBEDDINGS = ("pixels", "fourier")
# A result ranks strategies only where the whole pool, labeled, beats chance by this much.
INFORMATIVE_MARGIN = 0.2
PEERS = ("skactiveml_typiclust", "skactiveml_probcover")
GENERATED = {
    "counting": ("counting", "shapes"),
    "orientation": ("orientation", "hv"),
    "svrt-04": ("svrt", "4"),
}

Selector = Callable[[NDArray[np.float32], int, int], NDArray[np.int64]]
Images = NDArray[np.float32]
Labels = NDArray[np.int64]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="digits,counting,orientation,svrt-04")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dim", type=int, default=50, help="PCA components")
    parser.add_argument("--n-pool", type=int, default=2000, help="generated datasets' pool")
    parser.add_argument("--n-test", type=int, default=1000, help="generated datasets' test")
    parser.add_argument("--out", type=Path, default=RESULTS / "cold_start")
    parser.add_argument(
        "--scaling-only",
        action="store_true",
        help="measure only the cost per call and rewrite it into the saved report",
    )
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    # One thread for BLAS and OpenMP (numpy, scikit-learn's k-means): the machine is shared.
    with threadpool_limits(1):
        if args.scaling_only:
            report = json.loads(args.out.with_suffix(".json").read_text())
            report["scaling"] = measure_scaling()
        else:
            report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(format_report(report) + "\n")
    print(format_report(report))


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    report: dict[str, Any] = {
        "machine": describe_machine(),
        "config": {
            "datasets": args.datasets,
            "seeds": args.seeds,
            "dim": args.dim,
            "n_pool": args.n_pool,
            "n_test": args.n_test,
            "budgets": list(BUDGETS),
            "embeddings": list(EMBEDDINGS),
        },
        "results": {},
    }
    for name in args.datasets.split(","):
        dataset_started = time.perf_counter()
        for seed in range(args.seeds):
            pool_images, pool_labels, test_images, test_labels = (
                load_digits(seed) if name == "digits" else load_generated(name, args, seed)
            )
            n_classes = int(pool_labels.max()) + 1
            for kind in EMBEDDINGS:
                pool, test = fit_pca(embed(pool_images, kind), embed(test_images, kind), args.dim)
                result = report["results"].setdefault(
                    f"{name} / {kind}",
                    {
                        "n_pool": pool.shape[0],
                        "n_test": test.shape[0],
                        "n_classes": n_classes,
                        "accuracy": {},
                        "select_seconds": {},
                    },
                )
                full = fit_and_score(pool, pool_labels, test, test_labels)
                result.setdefault("full_pool_accuracy", []).append(full)
                for method, select in get_selectors(n_classes).items():
                    accuracies = result["accuracy"].setdefault(method, {})
                    times = result["select_seconds"].setdefault(method, {})
                    for budget in BUDGETS:
                        n_labels = budget * n_classes
                        tick = time.perf_counter()
                        rows = select(pool, n_labels, seed)
                        times.setdefault(str(budget), []).append(time.perf_counter() - tick)
                        if np.unique(rows).shape[0] != n_labels:
                            raise RuntimeError(f"{method} gave {rows.shape} rows, not distinct")
                        accuracy = fit_and_score(pool[rows], pool_labels[rows], test, test_labels)
                        accuracies.setdefault(str(budget), []).append(accuracy)
        print(f"{name}: {time.perf_counter() - dataset_started:.0f} s", flush=True)
    report["scaling"] = measure_scaling()
    report["seconds"] = time.perf_counter() - started
    return report


def get_selectors(n_classes: int) -> dict[str, Selector]:
    """Each strategy as ``select(embedding, n_labels, seed) -> rows``."""
    selectors: dict[str, Selector] = {name: _make_ours(name) for name in OURS}
    selectors["max_herding_half_sigma"] = _select_max_herding_half_sigma
    selectors["skactiveml_typiclust"] = _select_skactiveml_typiclust
    selectors["skactiveml_probcover"] = lambda embedding, n_labels, seed: (
        _select_skactiveml_probcover(embedding, n_labels, seed, n_classes)
    )
    return selectors


def _make_ours(name: str) -> Selector:
    strategy = get_cold_start(name)

    def select(embedding: NDArray[np.float32], n_labels: int, seed: int) -> Any:
        return strategy(embedding, n_labels, seed=seed)

    return select


def _select_max_herding_half_sigma(
    embedding: NDArray[np.float32], n_labels: int, seed: int
) -> NDArray[np.int64]:
    sigma = get_median_distance(embedding, seed=seed)
    return max_herding(embedding, n_labels, seed=seed, bandwidth=0.5 * sigma)


def _select_skactiveml_typiclust(
    embedding: NDArray[np.float32], n_labels: int, seed: int
) -> NDArray[np.int64]:
    from skactiveml.pool import TypiClust

    strategy = TypiClust(random_state=seed)
    unlabeled = np.full(embedding.shape[0], np.nan)
    return np.asarray(strategy.query(embedding, unlabeled, batch_size=n_labels), dtype=np.int64)


def _select_skactiveml_probcover(
    embedding: NDArray[np.float32], n_labels: int, seed: int, n_classes: int
) -> NDArray[np.int64]:
    from skactiveml.pool import ProbCover

    norms = np.linalg.norm(embedding, axis=1, keepdims=True)
    unit = embedding / np.maximum(norms, 1e-12)
    strategy = ProbCover(n_classes=n_classes, random_state=seed)
    unlabeled = np.full(embedding.shape[0], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no delta reaches alpha" on hard data: the smallest
        rows = strategy.query(unit, unlabeled, batch_size=n_labels)
    return np.asarray(rows, dtype=np.int64)


def load_digits(seed: int) -> tuple[Images, Labels, Images, Labels]:
    """scikit-learn's digits as ``(pool [n, 8, 8] ink in [0, 1], labels, test, labels)``, 600
    test images drawn from ``seed``."""
    from sklearn.datasets import load_digits as load

    digits = load()
    images = (digits.images / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(labels.shape[0])
    test, pool = order[:600], order[600:]
    return images[pool], labels[pool], images[test], labels[test]


def load_generated(
    name: str, args: argparse.Namespace, seed: int
) -> tuple[Images, Labels, Images, Labels]:
    """A generated problem's ``(pool [n, h, w] ink in [0, 1], labels, test, labels)``, the
    train and test splits of the stream of ``seed``."""
    if name not in GENERATED:
        raise SystemExit(f"unknown dataset {name!r}; valid ones: digits, {', '.join(GENERATED)}")
    family_name, problem = GENERATED[name]
    family = get_family(family_name)
    params = family.make_params(problem)
    splits = []
    for split, count in (("train", args.n_pool), ("test", args.n_test)):
        batch = family.generate(
            problem, params, split=split, seed=seed, start=0, count=count, with_metadata=False
        )
        # The generators draw black ink on white.
        splits.append((1.0 - batch.images.astype(np.float32) / 255.0, batch.labels))
    (pool, pool_labels), (test, test_labels) = splits
    return pool, pool_labels.astype(np.int64), test, test_labels.astype(np.int64)


def embed(images: Images, kind: str, side: int = 32) -> NDArray[np.float32]:
    """``[n, h, w]`` ink images as ``[n, p]`` features before PCA (see the module docstring)."""
    n_images, height, width = images.shape
    if kind == "fourier":
        magnitudes = np.abs(np.fft.rfft2(images))[:, :side, : side // 2 + 1]
        return np.log1p(magnitudes).reshape(n_images, -1).astype(np.float32)
    factor = max(1, height // side)
    height, width = height - height % factor, width - width % factor
    blocks = images[:, :height, :width].reshape(
        n_images, height // factor, factor, width // factor, factor
    )
    return blocks.mean(axis=(2, 4)).reshape(n_images, -1)


def fit_pca(
    pool: NDArray[np.float32], test: NDArray[np.float32], dim: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """PCA fitted on the pool by SVD; both splits projected on its first ``dim`` axes."""
    mean = pool.mean(axis=0)
    _, _, axes = np.linalg.svd(pool - mean, full_matrices=False)
    axes = axes[: min(dim, axes.shape[0])]
    return ((pool - mean) @ axes.T).astype(np.float32), ((test - mean) @ axes.T).astype(np.float32)


def fit_and_score(
    features: NDArray[np.float32],
    labels: NDArray[np.int64],
    test: NDArray[np.float32],
    test_labels: NDArray[np.int64],
) -> float:
    """Test accuracy of a logistic regression fitted on ``features``; with a single class
    among the labels, the constant prediction of that class."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(labels).shape[0] < 2:
        return float((test_labels == labels[0]).mean())
    model = LogisticRegression(max_iter=2000)
    model.fit(features, labels)
    return float((model.predict(test) == test_labels).mean())


def measure_scaling() -> dict[str, Any]:
    """Seconds per call on 20,000 and 100,000 x 64 float32 (10 Gaussian blobs)."""
    rng = np.random.default_rng(0)
    centres = 3.0 * rng.normal(size=(10, 64))
    timings: dict[str, Any] = {"dim": 64, "seconds": {}}
    for n_samples in (20_000, 100_000):
        points = centres[rng.integers(10, size=n_samples)] + rng.normal(size=(n_samples, 64))
        embedding = points.astype(np.float32)
        for name in ("typiclust", "max_herding"):
            for n_select in (1, 10, 100, 1000):
                tick = time.perf_counter()
                get_cold_start(name)(embedding, n_select, seed=0)
                call = f"{name}, {n_samples:,} rows, n_select={n_select}"
                timings["seconds"][call] = time.perf_counter() - tick
    return timings


def _cell(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def get_informative(report: dict[str, Any]) -> list[str]:
    """The (dataset, embedding) results where a linear classifier on the whole pool beats
    chance by at least ``INFORMATIVE_MARGIN``; elsewhere every strategy is at chance."""
    return [
        name
        for name, result in report["results"].items()
        if np.mean(result["full_pool_accuracy"]) >= 1.0 / result["n_classes"] + INFORMATIVE_MARGIN
    ]


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    budgets = [str(budget) for budget in config["budgets"]]
    header = " | ".join(budgets)
    informative = get_informative(report)
    methods = list(next(iter(report["results"].values()))["accuracy"])
    lines = [
        "# Cold start: the first labels chosen from an embedding alone",
        "",
        f"`bench/cold_start.py`: {config['seeds']} seeds, PCA to {config['dim']} components of "
        "the raw pixels (`pixels`) or of the DFT magnitudes (`fourier`, a bench-only "
        "translation-invariant embedding), a logistic regression on the selected rows, test "
        "accuracy mean ± std over seeds. Budgets are labels per class (labels in all = budget "
        "x classes); no strategy sees a label. Best mean in bold. Ran in "
        f"{report['seconds']:.0f} s on one thread.",
        "",
        "## Summary: mean test accuracy over the informative results",
        "",
        f"Informative = a logistic regression on the whole labeled pool beats chance by at "
        f"least {INFORMATIVE_MARGIN:.2f}: {', '.join(informative)}. Elsewhere every strategy, "
        "even the whole pool, is at chance, and the differences there are noise. Wins = "
        "(result, budget) cells with the best mean.",
        "",
        f"| strategy | {header} | wins |",
        "|---" * (len(budgets) + 2) + "|",
    ]
    best_by_cell = {
        (name, budget): max(
            np.mean(by_budget[budget]) for by_budget in report["results"][name]["accuracy"].values()
        )
        for name in informative
        for budget in budgets
    }
    summary = {
        method: [
            np.mean(
                [np.mean(report["results"][name]["accuracy"][method][b]) for name in informative]
            )
            for b in budgets
        ]
        for method in methods
    }
    best_summary = [max(summary[method][i] for method in methods) for i in range(len(budgets))]
    for method in methods:
        wins = sum(
            np.mean(report["results"][name]["accuracy"][method][budget]) == best
            for (name, budget), best in best_by_cell.items()
        )
        cells = [
            f"**{value:.3f}**" if value == best_summary[i] else f"{value:.3f}"
            for i, value in enumerate(summary[method])
        ]
        lines.append(f"| {method} | {' | '.join(cells)} | {wins} |")

    for name, result in report["results"].items():
        note = "" if name in informative else " (at chance even with the whole pool)"
        lines += [
            "",
            f"## {name}{note}",
            "",
            f"{result['n_classes']} classes, pool {result['n_pool']}, test {result['n_test']}; "
            f"the whole pool labeled: {_cell(result['full_pool_accuracy'])}.",
            "",
            f"| strategy | {header} | select s (16/class) |",
            "|---" * (len(budgets) + 2) + "|",
        ]
        best = {
            budget: max(np.mean(by_budget[budget]) for by_budget in result["accuracy"].values())
            for budget in budgets
        }
        for method, by_budget in result["accuracy"].items():
            cells = []
            for budget in budgets:
                cell = _cell(by_budget[budget])
                cells.append(f"**{cell}**" if np.mean(by_budget[budget]) == best[budget] else cell)
            seconds = np.mean(result["select_seconds"][method][budgets[-1]])
            lines.append(f"| {method} | {' | '.join(cells)} | {seconds:.2f} |")
    scaling = report["scaling"]
    lines += [
        "",
        f"## Cost per call on {scaling['dim']}-d float32 blobs (one thread)",
        "",
        "| call | seconds |",
        "|---|---|",
        *(f"| {call} | {seconds:.2f} |" for call, seconds in scaling["seconds"].items()),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
