"""Dataset folders from Python, as ``labeler generate`` writes them."""

from __future__ import annotations

import os
from collections.abc import Sequence

from labeler.data.dataset_writer import WriteSummary
from labeler.data.recipes import GenerateJob, plan_datasets, write_planned


def generate_dataset(
    out: str | os.PathLike[str],
    family: str,
    problem: str | int | None = None,
    *,
    n_train: int,
    n_test: int,
    seed: int = 0,
    preset: str = "standard",
    mode: str | None = None,
    image_size: int | None = None,
    holdout_families: Sequence[str] | None = None,
    workers: int = 1,
    force: bool = False,
    progress: bool = False,
) -> WriteSummary:
    """Write one problem of ``family`` as a dataset folder at ``out`` (PNG files, packed
    arrays, ground truth), checked as ``labeler generate`` checks its flags; image ``k`` of a
    split equals item ``k`` of the matching ``labeler.api.datasets`` dataset."""
    job = GenerateJob(
        family=family,
        out=os.fspath(out),
        n_train=n_train,
        n_test=n_test,
        problem=None if problem is None else str(problem),
        seed=seed,
        preset=preset,
        mode=mode,
        image_size=image_size,
        holdout_families=None if holdout_families is None else tuple(holdout_families),
    )
    (plan,) = plan_datasets([job], force=force)
    return write_planned(plan, workers=workers, force=force, progress=progress)
