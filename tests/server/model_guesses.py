"""A finished round whose guesses the test chooses: the known classes, a given share wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder, RoundPredictions


def add_guessing_round(project: Path, *, wrong_share: float, seed: int = 0) -> dict[int, int]:
    """Finish a round over ``project`` whose guess is each unlabeled pool image's known class,
    except ``wrong_share`` of them (least confident first) guessed as the next class; the
    queue keeps the round's first 6 images. Returns ``{sample_id: guessed class}``."""
    rng = np.random.default_rng(seed)
    with open_project(project) as opened:
        store = opened.store
        ids, known = store.get_known_labels("pool")
        unlabeled = set(store.get_unlabeled_ids().tolist())
        keep = np.array([int(s) in unlabeled for s in ids])
        ids, known = ids[keep], known[keep]
        n_classes = len(store.class_names)
        confidences = np.sort(rng.uniform(0.5, 1.0, len(ids)))[::-1]
        guesses = known.copy()
        n_wrong = round(wrong_share * len(ids))
        if n_wrong:
            guesses[-n_wrong:] = (known[-n_wrong:] + 1) % n_classes
        round_id = store.start_round(strategy="margin", query_size=6, config={})
        folder = f"rounds/round-{round_id:04d}"
        (project / folder).mkdir(parents=True)
        predictions = RoundPredictions(ids, confidences, guesses, confidences.astype(np.float64))
        RoundFolder(project / folder).write_predictions(predictions)
        store.finish_round(
            round_id,
            folder=folder,
            n_labels=0,
            val_accuracy=None,
            test_accuracy=None,
            scored_ids=ids,
            scores=confidences,
            selected_ids=ids[:6],
        )
    return {int(s): int(g) for s, g in zip(ids, guesses, strict=True)}
