"""Which embedding leads before labels can tell: the joint one always, or when its parts agree.

``--model auto`` takes the first embedding in its order of preference while no fold can test a
class, and coverage picks read it before any head is chosen. The rule
(``labeler.learning.joint_embedding.order_joint_embeddings``): the joint embedding of the
ImageNet features and the pixels' PCA leads only when the two agree on the pool's
neighbourhoods (``measure_agreement`` at least ``MIN_AGREEMENT``); otherwise the ImageNet
features lead and the joint embedding comes last. This bench runs our default loop
(``bench/first_labels.py``'s ``ours``: ``--strategy auto`` with the learner ``--model auto``
chooses) both ways on the first-labels datasets, 1 to 16 labels per class:

- ``joint first``: the joint embedding always leads (the rule before);
- ``by agreement``: the rule.

``bench/first_labels.py`` keeps each dataset's pool fixed and ours is nearly deterministic, so
its seeds barely differ. Here each seed draws its own pool, ``POOL_SHARE`` of the dataset's
pool images at random, so that the comparison spans several pools. Reported: the agreement of
the two embeddings on the whole pool, the order the rule chose, and the mean test accuracy of
both ways with the mean difference and its standard error over the draws.

    .venv/bin/python bench/joint_first.py      # about 10 minutes on 2 cores once
                                               # bench/first_labels.py has cached the embeddings
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.first_labels import BUDGETS, DATASETS, KINDS, _make_ours, embed_all, load_dataset
from bench.machine import describe_machine
from bench.saved_results import save_report
from labeler.learning.joint_embedding import (
    MIN_AGREEMENT,
    add_joint_embedding,
    get_joint_name,
    join_embeddings,
    measure_agreement,
)

RESULTS = Path(__file__).resolve().parent / "results"
POOL_SHARE = 0.8
WAYS = ("joint first", "by agreement")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--draws", type=int, default=8, help="pools drawn per dataset")
    parser.add_argument("--work", type=Path, default=Path("/tmp/first-labels"))
    parser.add_argument("--out", type=Path, default=RESULTS / "joint_first")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    results = {}
    for name in args.datasets.split(","):
        results[name] = run_dataset(name, args.work, n_draws=args.draws)
        print(format_dataset(name, results[name]), flush=True)
    report = {
        "machine": describe_machine(),
        "config": {"draws": args.draws, "pool_share": POOL_SHARE, "budgets": list(BUDGETS)},
        "results": results,
        "seconds": time.perf_counter() - started,
    }
    save_report(args.out, report, format_report)


def run_dataset(name: str, work: Path, *, n_draws: int) -> dict[str, Any]:
    data = load_dataset(name, work)
    vectors, _ = embed_all(name, data, work)
    n_pool = data.train_labels.shape[0]
    joint = get_joint_name(KINDS)
    ways = {
        "joint first": {joint: join_embeddings(vectors), **vectors},
        "by agreement": add_joint_embedding(vectors),
    }
    agreement = measure_agreement({kind: vectors[kind][:n_pool] for kind in KINDS})
    accuracy: dict[str, list[list[float]]] = {way: [] for way in WAYS}
    for draw in range(n_draws):
        rng = np.random.default_rng([draw, 555])
        rows = np.sort(rng.choice(n_pool, int(POOL_SHARE * n_pool), replace=False))
        pool_data = dataclasses.replace(data, train_labels=data.train_labels[rows])
        for way, ordered in ways.items():
            pool = {kind: values[:n_pool][rows] for kind, values in ordered.items()}
            test = {kind: values[n_pool:] for kind, values in ordered.items()}
            accuracy[way].append(_make_ours(None)(pool, test, pool_data, draw)[0])
    return {
        "agreement": agreement,
        "leading": next(iter(ways["by agreement"])),
        "accuracy": accuracy,
    }


def format_dataset(name: str, result: dict[str, Any]) -> str:
    joint = np.array(result["accuracy"]["joint first"])
    rule = np.array(result["accuracy"]["by agreement"])
    gain: NDArray[np.float64] = rule - joint
    error = gain.std(axis=0, ddof=1) / np.sqrt(gain.shape[0]) if gain.shape[0] > 1 else gain[0] * 0
    lines = [
        f"### {name}: agreement {result['agreement']:.3f}; the rule puts {result['leading']} first",
        "",
        "| way | " + " | ".join(f"{budget}/class" for budget in BUDGETS) + " | mean |",
        "|---|" + "---:|" * (len(BUDGETS) + 1),
    ]
    for way, values in (("joint first", joint), ("by agreement", rule)):
        cells = " | ".join(f"{value:.3f}" for value in values.mean(axis=0))
        lines.append(f"| {way} | {cells} | {values.mean():.3f} |")
    cells = " | ".join(
        f"{mean:+.3f} ± {se:.3f}" for mean, se in zip(gain.mean(axis=0), error, strict=True)
    )
    lines.append(f"| gain | {cells} | {gain.mean():+.3f} |")
    return "\n".join(lines) + "\n"


def format_report(report: dict[str, Any]) -> str:
    config = report["config"]
    gains = [
        np.mean(np.array(r["accuracy"]["by agreement"]) - np.array(r["accuracy"]["joint first"]))
        for r in report["results"].values()
    ]
    parts = [
        "# Which embedding leads before the labels can tell",
        "",
        "Written by `bench/joint_first.py` (its docstring says how). Our default loop with the "
        "joint embedding always first, against the rule: the joint embedding first only when "
        f"its parts agree (at least {MIN_AGREEMENT} of each image's nearest neighbours "
        f"shared). Mean test accuracy over {config['draws']} pools per dataset, each "
        f"{config['pool_share']:.0%} of the pool drawn at random; gain = rule minus joint "
        f"first, ± its standard error over the draws. Machine: {report['machine']}. "
        f"Total {report['seconds'] / 60:.1f} min.",
        "",
        f"Mean gain over every dataset and budget: {np.mean(gains):+.3f}.",
        "",
    ]
    parts += [format_dataset(name, result) for name, result in report["results"].items()]
    return "\n".join(parts)


if __name__ == "__main__":
    main()
