"""A generated dataset folder for a benchmark, written once (seed 0) with the same recipe code
that ``labeler generate`` runs."""

from __future__ import annotations

from pathlib import Path

from labeler.data.recipes import make_job, plan_datasets, write_planned


def write_generated(out: Path, family: str, problem: str, *, n_train: int, n_test: int) -> Path:
    """``out``, holding ``n_train`` and ``n_test`` images of ``family``'s ``problem`` from seed
    0; written only when ``out`` does not exist yet."""
    if not out.exists():
        job = make_job(
            {
                "family": family,
                "problem": problem,
                "n_train": n_train,
                "n_test": n_test,
                "seed": 0,
                "out": str(out),
            }
        )
        for plan in plan_datasets([job]):
            write_planned(plan)
    return out
