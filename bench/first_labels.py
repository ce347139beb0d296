"""The first labels: our default against the peers anyone can install, at 1 to 16 labels per class.

Every method labels the pool in batches so that it holds 1, 2, 4, 8 and 16 labels per class in
turn (labels in all = budget x classes; the batches are the differences), and at each budget
its classifier is tested on the held-out split. Methods:

- ``ours``: what ``labeler round`` does by default: every batch by ``--strategy auto`` (the
  first one too: coverage by ``max_herding`` on the preferred embedding while some class has
  no label; after, half of each batch by margin with k-center diversity and half by coverage)
  with the learner ``--model auto`` chooses on the labels so far
  (``labeler.learning.learner_choice``; heads only here: at 16 labels per class no class has
  the 20 labels the CNN's validation split needs), tested with that learner.
- ``ours-switch-<S>``: the same with the switch from coverage to the mixed batches at S labels
  per class (the default switches at 1: once every class has a label); ``ours-cover`` never
  switches; ``ours-margin`` picks the whole batch by margin past the switch (the default
  before the mixed batches).
- Peers, with scikit-activeml 1.0 for the selection and the same linear head as ours for the
  classifier (``labeler.learning.linear_head``), so that only the choice of labels differs:
  ``skactiveml-typiclust@<kind>`` (TypiClust, batch by batch, the labels so far passed as
  known); ``skactiveml-margin@pixels`` (its uncertainty sampling, margin, around a logistic
  regression, after a random first batch); ``random@<kind>`` (uniform picks).

Embeddings (``labeler.learning.embedding_kinds``), of pool and test images together as a
project embeds its samples: ``pixels`` (PCA, 64 components) and ``efficientnet_lite0``
(ImageNet features, extra ``pretrained``), cached under ``--work``; ours also reads their
joint embedding (``labeler.learning.joint_embedding``), as ``--model auto`` does, in the order
of preference a round measures (``labeler.learning.embedding_preference``). Two
``(reference)`` rows, TypiClust and random picks with the linear head on that joint
embedding, are no peer's (no library has it): they separate what the embedding gives from
what the choice of labels gives.

Datasets: the font glyphs (``bench/font_glyphs.py``: 26 letters, 2,158 pool images of 15
families, 988 test images of 6 other families, 32 px), and 2,000 pool / 1,000 test images of
generated counting (6 classes), orientation (2), SVRT problems 4 and 11 (2 each, spatial
relations) at 64 px, and the 8-class colour folder (``bench/colour_folder.py``) at 64 px. A
seed changes every method's own randomness (the data stay).

Held out from every choice of a default, for checking a change on sets it was not chosen on
(``--datasets digits,font-digits,svrt-02,svrt-08,svrt-15 --out
bench/results/first_labels_heldout``): scikit-learn's digits (8 px scans, 30% test per class),
the glyphs of the digits ``0``-``9`` (``bench/font_glyphs.py --classes digits``, test fonts of
unseen families) and SVRT problems 2, 8 and 15 at 64 px (2,000 pool / 1,000 test images).

Targets (issue 19): ``ours`` at or above the best peer at every budget (mean over seeds); at 1
and 2 labels per class at least 10 points above ``random@pixels``; labels to reach 90% of the
full-pool accuracy (the best linear head on the whole labeled pool) at most 0.8x the best
peer's.

    .venv/bin/python bench/first_labels.py      # about 25 minutes on the 2-core machine, most
                                                # of it embedding with efficientnet_lite0
    .venv/bin/python bench/first_labels.py --report-only
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
import torch
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.generated_folder import write_generated
from bench.machine import describe_machine
from labeler.data.input_size import choose_image_size
from labeler.data.labeled_data import LabeledData, load_labeled_data
from labeler.learning.embedding_kinds import get_embedding_kind
from labeler.learning.embedding_preference import order_by_agreement
from labeler.learning.joint_embedding import add_joint_embedding, get_joint_name
from labeler.learning.linear_head import fit_linear_head
from labeler.loop.auto_step import AutoStep, plan_auto_step, select_auto
from labeler.selection.auto_strategy import SWITCH_LABELS_PER_CLASS, UNCERTAINTY_SHARE

RESULTS = Path(__file__).resolve().parent / "results"
BUDGETS = (1, 2, 4, 8, 16)
KINDS = ("efficientnet_lite0", "pixels")  # the order of preference ``--model auto`` uses
JOINT = get_joint_name(KINDS)
# family, problem, pool and test images (a multiple of the classes, which a generated set
# balances).
GENERATED = {
    "counting": ("counting", "shapes", 1998, 996),
    "orientation": ("orientation", "hv", 2000, 1000),
    "svrt-04": ("svrt", "4", 2000, 1000),
    "svrt-11": ("svrt", "11", 2000, 1000),
}
DATASETS = ("fonts", "counting", "colour", "orientation", "svrt-04", "svrt-11")
# Sets no default was chosen on, for checking a change (``--datasets``, own ``--out``):
# scikit-learn's digits, the font glyphs of the digits, and three more SVRT problems.
HELD_OUT = {
    "svrt-02": ("svrt", "2", 2000, 1000),
    "svrt-08": ("svrt", "8", 2000, 1000),
    "svrt-15": ("svrt", "15", 2000, 1000),
}
SWITCHES = (2, 4)
N_POOL, N_TEST = 2000, 1000  # the colour folder's

Rows = NDArray[np.int64]
Vectors = dict[str, NDArray[np.float32]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/first-labels"))
    parser.add_argument("--out", type=Path, default=RESULTS / "first_labels")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--force", action="store_true", help="rerun datasets already saved")
    parser.add_argument(
        "--rerun",
        default="",
        help="rerun only the methods whose names start with this (e.g. ours) on the saved "
        "datasets, keeping the others' results",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    json_path = args.out.with_suffix(".json")
    if args.report_only:
        report = json.loads(json_path.read_text())
    else:
        report = run(args, json_path)
    text = format_report(report)
    args.out.with_suffix(".md").write_text(text)
    print(text)


def run(args: argparse.Namespace, json_path: Path) -> dict[str, Any]:
    """Run every dataset not in ``json_path`` yet (saved after each: a rerun continues)."""
    started = time.perf_counter()
    config = {"seeds": args.seeds, "budgets": list(BUDGETS), "kinds": list(KINDS)}
    report: dict[str, Any] = {"machine": describe_machine(), "config": config, "results": {}}
    if json_path.exists() and not args.force:
        previous = json.loads(json_path.read_text())
        if previous["config"] == config:
            report["results"] = previous["results"]
            started -= previous["seconds"]
    args.work.mkdir(parents=True, exist_ok=True)
    for name in args.datasets.split(","):
        if name in report["results"] and not args.rerun:
            continue
        tick = time.perf_counter()
        data = load_dataset(name, args.work)
        vectors, embed_seconds = embed_all(name, data, args.work)
        vectors = add_joint_embedding(vectors)
        n_pool = data.train_labels.shape[0]
        # In the order a round reads them: measured on the pool (embedding_preference).
        order, order_note = order_by_agreement(
            list(vectors), {kind: rows[:n_pool] for kind, rows in vectors.items()}
        )
        pool = {kind: vectors[kind][:n_pool] for kind in order}
        test = {kind: vectors[kind][n_pool:] for kind in order}
        n_classes = len(data.class_names)
        kept = report["results"].get(name, {}).get("accuracy", {}) if args.rerun else {}
        result: dict[str, Any] = {
            "n_pool": n_pool,
            "n_test": int(data.test_labels.shape[0]),
            "n_classes": n_classes,
            "embed_seconds": embed_seconds,
            "embedding_order": order_note,
            "full_pool_accuracy": {
                kind: score(pool[kind], data.train_labels, np.arange(n_pool), test[kind], data)
                for kind in KINDS
            },
            "accuracy": {},
            "learners": {},
        }
        for method, run_method in get_methods(n_classes).items():
            if method in kept and not method.startswith(args.rerun):
                result["accuracy"][method] = kept[method]
                continue
            for seed in range(args.seeds):
                accuracies, learners = run_method(pool, test, data, seed)
                for budget, accuracy in zip(BUDGETS, accuracies, strict=True):
                    result["accuracy"].setdefault(method, {}).setdefault(str(budget), []).append(
                        accuracy
                    )
                if learners:
                    result["learners"].setdefault(method, []).append(learners)
        result["seconds"] = time.perf_counter() - tick
        report["results"][name] = result
        print(f"{name}: {result['seconds']:.0f} s", flush=True)
        print(format_dataset(name, result), flush=True)
        report["seconds"] = time.perf_counter() - started
        json_path.write_text(json.dumps(report, indent=1) + "\n")
    return report


Method = Callable[[Vectors, Vectors, LabeledData, int], tuple[list[float], list[str]]]


def get_methods(n_classes: int) -> dict[str, Method]:
    methods: dict[str, Method] = {"ours": _make_ours(None)}
    for switch in SWITCHES:
        methods[f"ours-switch-{switch}"] = _make_ours(switch)
    methods["ours-cover"] = _make_ours(10**9)
    methods["ours-margin"] = _make_ours(None, uncertainty_share=1.0)
    for kind in KINDS:
        methods[f"skactiveml-typiclust@{kind}"] = _make_peer(kind, _typiclust_batch)
    methods["skactiveml-margin@pixels"] = _make_peer("pixels", _margin_batch)
    for kind in KINDS:
        methods[f"random@{kind}"] = _make_peer(kind, _random_batch)
    # Not peers (no library has our joint embedding): they tell how much of ours is the
    # embedding and how much the choice of labels.
    methods[f"typiclust@{JOINT} (reference)"] = _make_peer(JOINT, _typiclust_batch)
    methods[f"random@{JOINT} (reference)"] = _make_peer(JOINT, _random_batch)
    return methods


def _make_ours(switch: int | None, *, uncertainty_share: float = UNCERTAINTY_SHARE) -> Method:
    """Our default (``switch`` None), or it with the strategy switch at ``switch`` labels per
    class, or with ``uncertainty_share`` of each batch past the switch picked by margin."""

    def run_ours(
        pool: Vectors, test: Vectors, data: LabeledData, seed: int
    ) -> tuple[list[float], list[str]]:
        n_classes = len(data.class_names)
        labels = data.train_labels
        rng = np.random.default_rng([seed, 7])
        labeled: Rows = np.zeros(0, dtype=np.int64)
        at = SWITCH_LABELS_PER_CLASS if switch is None else switch
        accuracies, learners = [], []

        def plan() -> AutoStep:
            # In row order, as a round reads its labels (by sample id) and ``simulate`` its
            # labeled rows: the learner choice's folds follow the order.
            rows = np.sort(labeled)
            return plan_auto_step(
                pool,
                rows,
                labels[rows],
                n_classes=n_classes,
                seed=seed,
                switch=at,
                uncertainty_share=uncertainty_share,
            )

        step = plan()
        for budget in BUDGETS:
            n_new = budget * n_classes - labeled.shape[0]
            labeled = np.concatenate([labeled, select_auto(step, pool, labeled, n_new, rng=rng)])
            step = plan()
            if step.choice is None or step.choice.head is None:  # a single class so far
                accuracies.append(float(np.mean(data.test_labels == labels[labeled][0])))
                learners.append("majority")
                continue
            guesses = step.choice.head.predict(test[step.embedding])
            accuracies.append(float(np.mean(guesses == data.test_labels)))
            learners.append(step.choice.chosen)
        return accuracies, learners

    return run_ours


Batch = Callable[[NDArray[np.float32], Rows, NDArray[np.int64], int, int, int], Rows]


def _make_peer(kind: str, batch: Batch) -> Method:
    def run_peer(
        pool: Vectors, test: Vectors, data: LabeledData, seed: int
    ) -> tuple[list[float], list[str]]:
        n_classes = len(data.class_names)
        labeled: Rows = np.zeros(0, dtype=np.int64)
        accuracies = []
        for budget in BUDGETS:
            n_new = budget * n_classes - labeled.shape[0]
            picks = batch(pool[kind], labeled, data.train_labels, n_new, n_classes, seed)
            if np.intersect1d(picks, labeled).size or np.unique(picks).size != n_new:
                raise RuntimeError(f"{kind}: a batch repeated a row")
            labeled = np.concatenate([labeled, picks])
            accuracies.append(score(pool[kind], data.train_labels, labeled, test[kind], data))
        return accuracies, []

    return run_peer


def _random_batch(
    vectors: NDArray[np.float32], labeled: Rows, labels: Any, n_new: int, n_classes: int, seed: int
) -> Rows:
    rng = np.random.default_rng([seed, labeled.shape[0]])
    unlabeled = np.setdiff1d(np.arange(vectors.shape[0]), labeled)
    return rng.choice(unlabeled, size=n_new, replace=False).astype(np.int64)


def _known(labeled: Rows, labels: Any, n_rows: int) -> NDArray[np.float64]:
    known = np.full(n_rows, np.nan)
    known[labeled] = labels[labeled]
    return known


def _typiclust_batch(
    vectors: NDArray[np.float32], labeled: Rows, labels: Any, n_new: int, n_classes: int, seed: int
) -> Rows:
    from skactiveml.pool import TypiClust

    strategy = TypiClust(random_state=seed)
    known = _known(labeled, labels, vectors.shape[0])
    return np.asarray(strategy.query(vectors, known, batch_size=n_new), dtype=np.int64)


def _margin_batch(
    vectors: NDArray[np.float32], labeled: Rows, labels: Any, n_new: int, n_classes: int, seed: int
) -> Rows:
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling
    from sklearn.linear_model import LogisticRegression

    if labeled.shape[0] == 0:
        return _random_batch(vectors, labeled, labels, n_new, n_classes, seed)
    classifier = SklearnClassifier(
        LogisticRegression(max_iter=1000), classes=np.arange(n_classes), random_state=seed
    )
    strategy = UncertaintySampling(method="margin_sampling", random_state=seed)
    known = _known(labeled, labels, vectors.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = strategy.query(vectors, known, clf=classifier, batch_size=n_new)
    return np.asarray(rows, dtype=np.int64)


def score(
    pool: NDArray[np.float32], labels: Any, labeled: Rows, test: NDArray[np.float32], data: Any
) -> float:
    """Test accuracy of the linear head fitted on the ``labeled`` pool rows (the commonest
    labeled class when they hold a single class)."""
    if np.unique(labels[labeled]).shape[0] < 2:
        return float(np.mean(data.test_labels == labels[labeled][0]))
    head = fit_linear_head(pool[labeled], labels[labeled], n_classes=len(data.class_names))
    return float(np.mean(head.predict(test) == data.test_labels))


def load_dataset(name: str, work: Path) -> LabeledData:
    if name == "digits":
        from bench.cold_start_rounds import load_digits

        return load_digits()
    if name == "font-digits":
        from bench.font_glyphs import GlyphSetConfig, write_glyph_folder

        folder = work / "font-digits"
        if not folder.is_dir():
            write_glyph_folder(folder, config=GlyphSetConfig(classes="digits"))
        return load_labeled_data(folder, image_size=32, progress=False)
    if name == "fonts":
        folder = Path(__file__).resolve().parents[1] / "datasets" / "font-glyphs"
        if not folder.is_dir():
            raise SystemExit(
                f"{folder} is missing: build it with bench/font_glyphs.py (its docstring)"
            )
        return load_labeled_data(folder, image_size=choose_image_size(folder), progress=False)
    if name == "colour":
        from bench.colour_folder import write_folder

        folder = write_folder(work / "colour", n_train=N_POOL, n_test=N_TEST)
        return load_labeled_data(folder, image_size=choose_image_size(folder), progress=False)
    generated = {**GENERATED, **HELD_OUT}
    if name not in generated:
        valid = [*DATASETS, "digits", "font-digits", *HELD_OUT]
        raise SystemExit(f"unknown dataset {name!r}; valid ones: {', '.join(valid)}")
    family, problem, n_pool, n_test = generated[name]
    folder = write_generated(work / name, family, problem, n_train=n_pool, n_test=n_test)
    return load_labeled_data(folder, image_size=choose_image_size(folder), progress=False)


def embed_all(name: str, data: LabeledData, work: Path) -> tuple[Vectors, dict[str, float]]:
    """Every kind's vectors of pool and test images together (cached in ``work``)."""
    images = np.concatenate([data.train_images, data.test_images])
    vectors, seconds = {}, {}
    for kind in KINDS:
        path = work / f"{name}-{kind}.npy"
        if path.exists():
            vectors[kind] = np.load(path)
            seconds[kind] = json.loads(path.with_suffix(".json").read_text())["seconds"]
            continue
        tick = time.perf_counter()
        rows = get_embedding_kind(kind).embed(
            images, device=torch.device("cpu"), n_threads=1, progress=False
        )
        seconds[kind] = time.perf_counter() - tick
        np.save(path, rows)
        path.with_suffix(".json").write_text(json.dumps({"seconds": seconds[kind]}))
        vectors[kind] = rows
    return vectors, seconds


def _mean(values: list[float]) -> float:
    return float(np.mean(values))


def labels_to_reach(curve: dict[str, list[float]], target: float, n_classes: int) -> float:
    """Labels at which the mean accuracy first reaches ``target``, interpolated linearly in
    labels between the two budgets around the crossing (the budgets double, so the first one
    reaching it alone would overstate the labels by up to 2x); inf when no budget reaches it,
    and the first budget's labels when that one already does."""
    previous: tuple[float, float] | None = None
    for budget in BUDGETS:
        labels, accuracy = float(budget * n_classes), _mean(curve[str(budget)])
        if accuracy >= target:
            if previous is None or accuracy == previous[1]:
                return labels
            fraction = (target - previous[1]) / (accuracy - previous[1])
            return previous[0] + fraction * (labels - previous[0])
        previous = (labels, accuracy)
    return float("inf")


def get_peers(result: dict[str, Any]) -> list[str]:
    return [
        method
        for method in result["accuracy"]
        if not method.startswith("ours") and not method.endswith("(reference)")
    ]


def format_dataset(name: str, result: dict[str, Any]) -> str:
    n_classes = result["n_classes"]
    full = max(result["full_pool_accuracy"].values())
    lines = [
        f"### {name}: {n_classes} classes, {result['n_pool']} pool / {result['n_test']} test; "
        f"best full-pool linear head {full:.3f} "
        f"({', '.join(f'{k} {v:.3f}' for k, v in result['full_pool_accuracy'].items())})",
        "",
        "| method | "
        + " | ".join(f"{b}/class" for b in BUDGETS)
        + " | labels to 90% of full (interpolated) |",
        "|---|" + "---:|" * (len(BUDGETS) + 1),
    ]
    peers = get_peers(result)
    for method, curve in result["accuracy"].items():
        cells = []
        for budget in BUDGETS:
            values = curve[str(budget)]
            best_peer = max(_mean(result["accuracy"][p][str(budget)]) for p in peers)
            mark = ""
            if method == "ours":
                mark = " ✓" if _mean(values) >= best_peer - 1e-9 else " ✗"
            cells.append(f"{_mean(values):.3f} ± {np.std(values):.3f}{mark}")
        reach = labels_to_reach(curve, 0.9 * full, n_classes)
        cells.append("—" if reach == float("inf") else f"{reach:.0f}")  # interpolated
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    if "ours" in result["learners"]:
        chosen = [learner for run in result["learners"]["ours"] for learner in run]
        counts = {name: chosen.count(name) for name in sorted(set(chosen))}
        lines += ["", f"Learners ours chose (runs x budgets): {counts}"]
    if "embedding_order" in result:
        lines += ["", f"Ours read first: {result['embedding_order']}."]
    return "\n".join(lines)


def check_targets(name: str, result: dict[str, Any]) -> list[str]:
    peers = get_peers(result)
    ours = result["accuracy"]["ours"]
    n_classes = result["n_classes"]
    findings = []
    for budget in BUDGETS:
        key = str(budget)
        best = max(peers, key=lambda p: _mean(result["accuracy"][p][key]))
        gap = _mean(ours[key]) - _mean(result["accuracy"][best][key])
        if gap < -1e-9:
            findings.append(f"{name}, {budget}/class: {gap * 100:+.1f} pts against {best}")
    for budget in (1, 2):
        key = str(budget)
        gain = _mean(ours[key]) - _mean(result["accuracy"]["random@pixels"][key])
        if gain < 0.10:
            findings.append(f"{name}, {budget}/class: {gain * 100:+.1f} pts over random@pixels")
    full = max(result["full_pool_accuracy"].values())
    ours_reach = labels_to_reach(ours, 0.9 * full, n_classes)
    peer_reach = min(labels_to_reach(result["accuracy"][p], 0.9 * full, n_classes) for p in peers)
    if ours_reach == peer_reach == float("inf"):
        findings.append(f"{name}: neither ours nor any peer reached 90% of full by 16/class")
    elif not ours_reach <= 0.8 * peer_reach:
        findings.append(
            f"{name}: {ours_reach:.0f} labels to 90% of full against the best peer's "
            f"{peer_reach:.0f}"
        )
    return findings


def format_report(report: dict[str, Any]) -> str:
    lines = [
        "# The first labels: our default against scikit-activeml and random",
        "",
        "Written by `bench/first_labels.py` (its docstring says what each method is). Mean ± "
        f"standard deviation over {report['config']['seeds']} seeds of test accuracy; ✓/✗: "
        "`ours` at or above / below the best peer at that budget.",
        "",
        f"Machine: {report['machine']}. Total {report['seconds'] / 60:.1f} min.",
        "",
    ]
    findings: list[str] = []
    for name, result in report["results"].items():
        lines += [format_dataset(name, result), ""]
        seconds = ", ".join(f"{k} {v:.1f} s" for k, v in result["embed_seconds"].items())
        lines += [f"Embedding {result['n_pool'] + result['n_test']} images: {seconds}.", ""]
        findings += check_targets(name, result)
    lines += ["## Targets not met", ""]
    lines += [f"- {finding}" for finding in findings] or ["- none"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
