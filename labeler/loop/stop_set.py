"""The stop set of a project and what each round measures on it (``labeler.selection.
stop_meter`` says why): chosen once, at the first trained round, from the unlabeled images
nobody holds, kept in the store's meta, and left out of every round's selection so that it
is never queued.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labeler.learning.predictors import Predictor
from labeler.selection.agreement import cohen_kappa
from labeler.selection.stop_meter import (
    DEFAULT_STOP_THRESHOLD,
    DEFAULT_STOP_WINDOW,
    MIN_POOL,
    STOP_SET_MIN,
    StopMeter,
    choose_stop_set,
    read_stop_meter,
)
from labeler.store.project import Project
from labeler.store.project_files import RoundFolder

META_KEY = "stop_set"


def get_stop_set(project: Project) -> NDArray[np.int64] | None:
    """The project's stop set (sorted pool ids), None before the first trained round."""
    raw = project.store.get_meta(META_KEY)
    if raw is None:
        return None
    return np.asarray(json.loads(raw)["ids"], dtype=np.int64)


def ensure_stop_set(
    project: Project, unlabeled: NDArray[np.int64], *, seed: int
) -> NDArray[np.int64]:
    """The stop set, chosen now (seeded) from ``unlabeled`` images out of the queue when the
    project has none yet."""
    existing = get_stop_set(project)
    if existing is not None:
        return existing
    queued = np.asarray([item.sample_id for item in project.store.get_queue()], dtype=np.int64)
    candidates = np.setdiff1d(unlabeled, queued)
    n_pool = int(project.store.get_sample_ids("pool").shape[0])
    ids = choose_stop_set(candidates, n_pool=n_pool, rng=np.random.default_rng([seed, 7]))
    project.store.set_meta(META_KEY, json.dumps({"ids": ids.tolist(), "seed": seed}))
    return ids


def predict_classes(predictor: Predictor, ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """The predictor's class for each of ``ids`` (the argmax of its mean probabilities)."""
    probs = predictor.predict(ids).probs
    return probs.mean(axis=2).argmax(axis=1).astype(np.int64)


def measure_stop_set(
    project: Project,
    folder: RoundFolder,
    predictor: Predictor,
    stop_ids: NDArray[np.int64],
) -> dict[str, Any]:
    """Predict the stop set, keep the guesses in the round's ``folder``, and measure Cohen's
    kappa against the last done round's guesses on the same set: the report's ``stop_set``
    entry (``kappa`` None when there is nothing to compare with)."""
    entry: dict[str, Any] = {"n": int(stop_ids.shape[0]), "kappa": None, "previous_round": None}
    if stop_ids.shape[0] == 0:
        return entry
    guesses = predict_classes(predictor, stop_ids)
    folder.write_stop_guesses(stop_ids, guesses)
    last = project.store.get_last_done_round()
    earlier = None if last is None else RoundFolder.of(project.path, last.folder)
    before = None if earlier is None else earlier.read_stop_guesses()
    if last is not None and before is not None and np.array_equal(before[0], stop_ids):
        kappa = cohen_kappa(before[1], guesses, n_classes=len(project.class_names))
        entry.update(kappa=kappa, previous_round=last.id)
    return entry


def get_stop_meter(
    rounds: list[dict[str, Any]],
    *,
    threshold: float = DEFAULT_STOP_THRESHOLD,
    window: int = DEFAULT_STOP_WINDOW,
) -> StopMeter:
    """The meter from the rounds as ``labeler.store.project_status.get_status`` lists them
    (each done round's ``stop_set`` entry, read from its report): one kappa per trained round
    that had an earlier one to compare with."""
    entries = [r["stop_set"] for r in rounds if r["status"] == "done" and r["stop_set"]]
    kappas: list[float | None] = [entry.get("kappa") for entry in entries[1:]]
    return read_stop_meter(kappas, threshold=threshold, window=window)


def describe_stop_meter(
    project: Project,
    rounds: list[dict[str, Any]],
    *,
    threshold: float = DEFAULT_STOP_THRESHOLD,
    window: int = DEFAULT_STOP_WINDOW,
) -> dict[str, Any]:
    """The meter as JSON-ready data (``StopMeter.to_dict``) with the stop set's size
    (``n_stop_set``, None before the first trained round): what status and the dashboard show.
    ``rounds``: as ``get_status`` lists them."""
    stop_set = get_stop_set(project)
    described = {
        **get_stop_meter(rounds, threshold=threshold, window=window).to_dict(),
        "n_stop_set": None if stop_set is None else int(stop_set.shape[0]),
    }
    if stop_set is not None and stop_set.shape[0] == 0:
        described["message"] = (
            f"off: the pool is too small for a stop set ({STOP_SET_MIN} images or more, a "
            f"tenth of the pool: a pool of {MIN_POOL} or more)"
        )
    return described
