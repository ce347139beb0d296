"""Learning curves from few labels: our guided rounds against a peer, side by side.

The peer is scikit-activeml's uncertainty sampling (least confident) with a logistic regression
on the raw pixels, the usual baseline of active-learning libraries. Both start from the same
stratified random labels (``--start`` per class), follow the same schedule of budgets, on the
same images (stored as a project would store them: size and colour chosen for the dataset),
the same split and the same seeds. At every budget each side trains on its own labels and is
measured on the test split. Ours: our default model and training (few labels: no validation
split) with the dataset's label-preserving augmentation, queried by ``--strategy``.

Also measured on our label sets, to decide whether to keep them (``--variants``):
- ``pseudo``: after training, the pool images the model is surest of (confidence >= 0.95, at
  most as many per class as there are labels) are added with the model's guesses, and the model
  is trained again (self-training);
- ``no_augment``: the same labels without augmentation.

    python bench/learning_curve.py --dataset datasets/counting --dataset /tmp/colour8
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from labeler.data.augmentation import choose_augmentation
from labeler.data.image_arrays import get_channels
from labeler.data.input_size import choose_image_size
from labeler.data.labeled_data import LabeledData, load_labeled_data
from labeler.learning.models import DEFAULT_MODEL_CONFIG, ModelConfig
from labeler.learning.predictors import ImagePredictor
from labeler.learning.scoring import score_pool
from labeler.learning.training import TrainConfig, evaluate_accuracy, train_model
from labeler.loop.simulation_report import get_labels_to_reach
from labeler.selection.pool_query import query_pool
from labeler.selection.strategies import SelectionConfig

RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLDS = (0.90, 0.95)
PSEUDO_CONFIDENCE = 0.95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", action="append", required=True, help="dataset or folder")
    parser.add_argument("--budgets", default="2,3,5,8,12,20,32,50", help="labels per class")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strategy", default="margin")
    parser.add_argument("--variants", default="pseudo,no_augment")
    parser.add_argument("--pool-size", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "learning_curve")
    args = parser.parse_args()
    budgets = [int(value) for value in args.budgets.split(",")]
    variants = [name for name in args.variants.split(",") if name]
    report: dict[str, Any] = {
        "machine": describe_machine(),
        "command": " ".join(sys.argv),
        "budgets_per_class": budgets,
        "seeds": args.seeds,
        "strategy": args.strategy,
        "datasets": [],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for path in args.dataset:
        done = list(report["datasets"])

        def save_partial(item: dict[str, Any], done: list[Any] = done) -> None:
            # After every seed, so that a long run that is stopped keeps what it measured.
            report["datasets"] = [*done, item]
            save(report, args.out)

        run_dataset(Path(path), budgets, args.seeds, args.strategy, variants, args, save_partial)
    print(format_report(report))


def run_dataset(
    path: Path,
    budgets: list[int],
    n_seeds: int,
    strategy: str,
    variants: list[str],
    args: argparse.Namespace,
    on_seed: Any,
) -> dict[str, Any]:
    size = choose_image_size(path)
    data = load_labeled_data(path, image_size=size, test_fraction=0.25, progress=False)
    n_classes = len(data.class_names)
    pool_rows = np.random.default_rng(123).permutation(len(data.train_labels))[: args.pool_size]
    data = LabeledData(
        data.class_names,
        data.train_images[np.sort(pool_rows)],
        data.train_labels[np.sort(pool_rows)],
        data.test_images,
        data.test_labels,
        data.source,
    )
    augment = choose_augmentation(path, "auto")
    model_config = ModelConfig(
        image_size=size, in_channels=get_channels(data.train_images), **_model_fields()
    )
    print(
        f"{path}: {len(data.train_labels)} pool, {len(data.test_labels)} test, {n_classes} "
        f"classes, {size} px, {model_config.in_channels} channel(s), augment {augment}"
    )
    curves: dict[str, list[list[float]]] = {"ours": [], "peer": [], **{v: [] for v in variants}}
    seconds: dict[str, float] = {name: 0.0 for name in curves}
    for seed in range(n_seeds):
        start = _stratified_start(data.train_labels, budgets[0], n_classes, seed)
        ours, peer = list(start), list(start)
        runs: dict[str, list[float]] = {name: [] for name in curves}
        for step, per_class in enumerate(budgets):
            train = TrainConfig(seed=seed, n_threads=args.threads, augment=augment)
            started = time.perf_counter()
            model = _train(data, ours, n_classes, model_config, train)
            runs["ours"].append(_test(model, data, args.threads))
            seconds["ours"] += time.perf_counter() - started
            if "pseudo" in variants:
                started = time.perf_counter()
                runs["pseudo"].append(
                    _pseudo_label_accuracy(model, data, ours, n_classes, model_config, train, args)
                )
                seconds["pseudo"] += time.perf_counter() - started
            if "no_augment" in variants:
                started = time.perf_counter()
                plain = TrainConfig(seed=seed, n_threads=args.threads)
                runs["no_augment"].append(
                    _test(_train(data, ours, n_classes, model_config, plain), data, args.threads)
                )
                seconds["no_augment"] += time.perf_counter() - started
            started = time.perf_counter()
            peer_accuracy, peer_next = _peer_step(
                data, peer, n_classes, seed, _next_size(budgets, step, n_classes, len(peer))
            )
            runs["peer"].append(peer_accuracy)
            seconds["peer"] += time.perf_counter() - started
            n_more = _next_size(budgets, step, n_classes, len(ours))
            if n_more:
                unlabeled = np.setdiff1d(np.arange(len(data.train_labels)), ours)
                query = query_pool(
                    ImagePredictor(model, data.train_images, n_threads=args.threads),
                    unlabeled,
                    np.asarray(ours, dtype=np.int64),
                    selection=SelectionConfig(strategy, query_size=n_more),
                    rng=np.random.default_rng([seed, step]),
                )
                ours += query.selected.tolist()
                peer += peer_next
            print(
                f"  seed {seed} {per_class:>3}/class: ours {runs['ours'][-1]:.3f} peer "
                f"{runs['peer'][-1]:.3f}"
                + "".join(f" {name} {runs[name][-1]:.3f}" for name in variants),
                flush=True,
            )
        for name in curves:
            curves[name].append(runs[name])
        summary = summarize(path, data, size, model_config, augment, budgets, curves, seconds)
        on_seed(summary)
    return summary


def _model_fields() -> dict[str, Any]:
    defaults = DEFAULT_MODEL_CONFIG.to_dict()
    return {k: v for k, v in defaults.items() if k not in ("image_size", "in_channels")}


def _stratified_start(
    labels: NDArray[np.int64], per_class: int, n_classes: int, seed: int
) -> list[int]:
    rng = np.random.default_rng([seed, 99])
    rows = [
        rng.choice(np.flatnonzero(labels == label), size=per_class, replace=False)
        for label in range(n_classes)
    ]
    return sorted(int(row) for row in np.concatenate(rows))


def _next_size(budgets: list[int], step: int, n_classes: int, n_now: int) -> int:
    return 0 if step + 1 == len(budgets) else budgets[step + 1] * n_classes - n_now


def _train(
    data: LabeledData,
    rows: list[int],
    n_classes: int,
    model_config: ModelConfig,
    train: TrainConfig,
    extra: tuple[NDArray[np.uint8], NDArray[np.int64]] | None = None,
) -> Any:
    images = data.train_images[rows]
    labels = data.train_labels[rows]
    if extra is not None:
        images = np.concatenate([images, extra[0]])
        labels = np.concatenate([labels, extra[1]])
    return train_model(
        images,
        labels,
        n_classes=n_classes,
        model_config=model_config,
        train_config=train,
        progress=False,
    ).model


def _test(model: Any, data: LabeledData, threads: int) -> float:
    from labeler.learning.devices import cpu_threads

    with cpu_threads(threads):
        return evaluate_accuracy(model, data.test_images, data.test_labels, device="cpu")


def _pseudo_label_accuracy(
    model: Any,
    data: LabeledData,
    rows: list[int],
    n_classes: int,
    model_config: ModelConfig,
    train: TrainConfig,
    args: argparse.Namespace,
) -> float:
    unlabeled = np.setdiff1d(np.arange(len(data.train_labels)), rows)
    predictions = score_pool(
        model, data.train_images, indices=unlabeled, n_threads=args.threads, progress=False
    )
    probs = predictions.probs.mean(axis=2)
    guesses, confidence = probs.argmax(axis=1), probs.max(axis=1)
    per_class = max(1, len(rows) // n_classes)
    chosen: list[int] = []
    for label in range(n_classes):
        members = np.flatnonzero((guesses == label) & (confidence >= PSEUDO_CONFIDENCE))
        best = members[np.argsort(-confidence[members])][:per_class]
        chosen += best.tolist()
    if not chosen:
        return _test(model, data, args.threads)
    picked = np.asarray(chosen)
    extra = (data.train_images[unlabeled[picked]], guesses[picked].astype(np.int64))
    retrained = _train(data, rows, n_classes, model_config, train, extra)
    return _test(retrained, data, args.threads)


def _peer_step(
    data: LabeledData, rows: list[int], n_classes: int, seed: int, n_more: int
) -> tuple[float, list[int]]:
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling
    from skactiveml.utils import MISSING_LABEL
    from sklearn.linear_model import LogisticRegression

    pool = data.train_images.reshape(len(data.train_images), -1).astype(np.float32) / 255.0
    test = data.test_images.reshape(len(data.test_images), -1).astype(np.float32) / 255.0
    y = np.full(len(pool), MISSING_LABEL)
    y[rows] = data.train_labels[rows]
    classifier = SklearnClassifier(
        LogisticRegression(max_iter=500), classes=np.arange(n_classes), random_state=seed
    )
    classifier.fit(pool, y)
    accuracy = float(np.mean(classifier.predict(test) == data.test_labels))
    if not n_more:
        return accuracy, []
    strategy = UncertaintySampling(method="least_confident", random_state=seed)
    picked = strategy.query(X=pool, y=y, clf=classifier, batch_size=n_more)
    return accuracy, [int(row) for row in np.atleast_1d(picked)]


def summarize(
    path: Path,
    data: LabeledData,
    size: int,
    model_config: ModelConfig,
    augment: tuple[str, ...],
    budgets: list[int],
    curves: dict[str, list[list[float]]],
    seconds: dict[str, float],
) -> dict[str, Any]:
    n_classes = len(data.class_names)
    labels = [budget * n_classes for budget in budgets]
    means = {name: np.mean(runs, axis=0).tolist() for name, runs in curves.items()}
    reach = {
        name: {f"{t:.2f}": get_labels_to_reach(labels, mean, t) for t in THRESHOLDS}
        for name, mean in means.items()
    }
    return {
        "dataset": str(path),
        "n_classes": n_classes,
        "n_pool": len(data.train_labels),
        "n_test": len(data.test_labels),
        "image_size": size,
        "channels": model_config.in_channels,
        "augment": list(augment),
        "model": model_config.to_dict(),
        "labels": labels,
        "curves": curves,
        "mean": means,
        "labels_to_reach": reach,
        "seconds": seconds,
        "n_seeds_done": len(curves["ours"]),
        "ours_at_or_above_peer": all(
            o >= p - 1e-9 for o, p in zip(means["ours"], means["peer"], strict=True)
        ),
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        "# Learning curves from few labels: ours against a peer",
        "",
        f"{report['machine']['date']}, {report['machine']['cpu_count']} CPUs, load "
        f"{report['machine']['load_average'][0]:.1f}. Command: `{report['command']}`",
        "",
        f"Ours: `{report['strategy']}` rounds of our default model and training; peer: "
        "scikit-activeml UncertaintySampling (least confident) + LogisticRegression on raw "
        f"pixels. Same start (stratified), budgets, images, split; {report['seeds']} seeds; "
        "mean test accuracy. `pseudo` and `no_augment` retrain on our label sets.",
    ]
    for item in report["datasets"]:
        names = list(item["mean"])
        lines += [
            "",
            f"## {Path(item['dataset']).name}: {item['n_classes']} classes, {item['n_pool']} "
            f"pool / {item['n_test']} test, {item['image_size']} px, {item['channels']} "
            f"channel(s), augment {item['augment'] or 'none'}; {item['n_seeds_done']} seed(s)",
            "",
            "| labels | " + " | ".join(names) + " |",
            "|---:|" + "---:|" * len(names),
        ]
        for index, n_labels in enumerate(item["labels"]):
            cells = [f"{item['mean'][name][index]:.3f}" for name in names]
            lines.append(f"| {n_labels} | " + " | ".join(cells) + " |")
        lines.append("")
        for threshold in THRESHOLDS:
            key = f"{threshold:.2f}"
            ours, peer = item["labels_to_reach"]["ours"][key], item["labels_to_reach"]["peer"][key]
            ratio = f"{ours / peer:.2f}x" if ours and peer else "n/a"
            lines.append(
                f"- labels to reach {threshold:.0%}: ours {ours or 'not reached'}, peer "
                f"{peer or 'not reached'} (ratio {ratio}; target at most 0.8x)"
            )
        verdict = "met" if item["ours_at_or_above_peer"] else "NOT met"
        lines.append(f"- ours at or above the peer at every budget: {verdict}")
        times = ", ".join(f"{name} {value:.0f} s" for name, value in item["seconds"].items())
        lines.append(f"- time spent: {times}")
    return "\n".join(lines)


def save(report: dict[str, Any], out: Path) -> None:
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".md").write_text(format_report(report) + "\n")
    _plot(report, out.with_suffix(".png"))


def _plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        1, len(report["datasets"]), figsize=(6 * len(report["datasets"]), 4), squeeze=False
    )
    for axis, item in zip(axes[0], report["datasets"], strict=True):
        for name, mean in item["mean"].items():
            axis.plot(item["labels"], mean, marker="o", label=name)
        axis.set_xscale("log")
        axis.set_xlabel("labels")
        axis.set_ylabel("test accuracy")
        axis.set_title(Path(item["dataset"]).name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


if __name__ == "__main__":
    main()
