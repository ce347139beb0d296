"""Annotator quality: agreement, kappa per pair, the model's view and known classes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from labeler.loop.annotator_quality import get_annotator_quality
from labeler.selection.agreement import cohen_kappa
from labeler.store.project import open_project


@pytest.fixture
def project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Path:
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    return path


def test_pairs_agreement_and_known_accuracy_match_a_hand_count(
    project: Path, run_cli: Callable
) -> None:
    with open_project(project) as opened:
        ids, known = opened.store.get_known_labels("pool")
        names = opened.class_names
        truth = [(int(i), names[int(k)]) for i, k in zip(ids[:20], known[:20], strict=True)]
        flip = {0, 1, 2, 3, 4}  # ann2 gets the first five wrong
        wrong = [
            (sample, names[1 - names.index(name)] if n in flip else name)
            for n, (sample, name) in enumerate(truth)
        ]
        opened.store.add_labels(truth, annotator="ann1", source="t")
        opened.store.add_labels(wrong, annotator="ann2", source="t")
        opened.store.add_labels(truth[:5], annotator="ann3", source="t")
        # An undone label does not count: ann3's extra label is retracted.
        opened.store.add_labels(truth[19:], annotator="ann3", source="t")
        assert opened.store.undo_last_label("ann3") is not None
        quality = get_annotator_quality(opened)
    by_name = {item["name"]: item for item in quality.annotators}
    assert [item["n_labels"] for item in quality.annotators] == [20, 20, 5]
    assert by_name["ann1"]["known_accuracy"] == 1.0 and by_name["ann2"]["known_accuracy"] == 0.75
    # ann1 agrees with ann2 on 15 of 20 and with ann3 on 5 of 5: 20 of 25 comparisons.
    assert by_name["ann1"]["agreement"] == pytest.approx(20 / 25)
    # ann3's five samples are ann2's flipped ones: it agrees with ann1 only.
    assert by_name["ann3"]["agreement"] == pytest.approx(5 / 10)
    pairs = {(p["first"], p["second"]): p for p in quality.pairs}
    assert pairs["ann1", "ann2"]["n_shared"] == 20 and pairs["ann1", "ann2"]["agreement"] == 0.75
    expected = cohen_kappa(
        [names.index(name) for _, name in truth],
        [names.index(name) for _, name in wrong],
        n_classes=2,
    )
    assert pairs["ann1", "ann2"]["kappa"] == pytest.approx(expected)
    assert pairs["ann1", "ann3"]["n_shared"] == 5 and pairs["ann1", "ann3"]["kappa"] is None
    assert quality.round_id is None and by_name["ann1"]["model_agreement"] is None

    listed = run_cli("annotators", "list", project, "--quality")
    assert listed.code == 0, listed.err
    assert "ann1 / ann2" in listed.out and f"{expected:.3f}" in listed.out
