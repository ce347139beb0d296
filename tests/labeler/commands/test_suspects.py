"""``labeler suspects`` and the round's out-of-fold probabilities behind it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.loop.annotator_quality import get_annotator_quality
from labeler.store.project import open_project
from labeler.store.project_files import RoundFolder


@pytest.fixture
def project(tmp_path: Path, run_cli: Callable) -> Path:
    """Three classes of noisy images, dark on the left, the right or the top half: a linear
    head on pixels tells them apart, so the labels it doubts are the flipped ones."""
    source = tmp_path / "halves"
    rng = np.random.default_rng(0)
    for name, region in (("left", np.s_[:, :8]), ("right", np.s_[:, 8:]), ("top", np.s_[:8, :])):
        (source / name).mkdir(parents=True)
        for index in range(24):
            pixels = rng.integers(150, 256, size=(16, 16)).astype(np.uint8)
            pixels[region] = rng.integers(0, 100, size=pixels[region].shape)
            Image.fromarray(pixels).save(source / name / f"{index:03d}.png")
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", source, "--image-size", "16").code == 0
    return path


def label_with_flips(
    project: Path, n_labels: int, flip_positions: list[int]
) -> tuple[dict[int, str], list[int], list[int]]:
    """Label ``n_labels`` pool samples (every other one) with their known class, except those
    at ``flip_positions`` (given the next class); return the true class names, the labeled
    samples and the flipped ones."""
    with open_project(project) as opened:
        ids, labels = opened.store.get_known_labels("pool")
        names = opened.class_names
        truth = {int(i): names[int(label)] for i, label in zip(ids, labels, strict=True)}
        chosen = list(truth)[::2][:n_labels]
        flipped = [chosen[position] for position in flip_positions]
        given = [
            (sample, _next_class(names, truth[sample]) if sample in flipped else truth[sample])
            for sample in chosen
        ]
        opened.store.add_labels(given, annotator="ann1", source="test")
    return truth, chosen, flipped


def _next_class(names: tuple[str, ...], name: str) -> str:
    return names[(names.index(name) + 1) % len(names)]


def test_a_round_keeps_out_of_fold_probabilities_and_suspects_rank_the_flips_first(
    project: Path, run_cli: Callable
) -> None:
    truth, chosen, flipped = label_with_flips(project, 36, [3, 15, 26])
    result = run_cli("round", project, "--model", "linear@pixels", "--query-size", "4")
    assert result.code == 0, result.err
    with open_project(project) as opened:
        record = opened.store.get_last_done_round()
        assert record is not None
        folder = RoundFolder.of(project, record.folder)
        assert folder is not None
        stored = folder.read_out_of_fold()
        report = folder.read_report()
    assert stored is not None and report is not None
    ids, probs = stored
    assert ids.tolist() == chosen and probs.shape == (36, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert report["suspects"]["source"].startswith("linear@pixels, ")
    assert report["suspects"]["n_checked"] == 36 and report["suspects"]["n_flagged"] >= 3

    listed = run_cli("suspects", project, "--json")
    assert listed.code == 0, listed.err
    suspects = json.loads(listed.out)
    top = [row["sample"] for row in suspects["rows"][:3]]
    assert sorted(top) == sorted(flipped)
    assert all(
        row["flagged"] and row["model_label"] != row["label"] for row in suspects["rows"][:3]
    )
    # The same out-of-fold model measures the annotator: it disagrees with the flipped labels.
    with open_project(project) as opened:
        (ann1,) = get_annotator_quality(opened).annotators
    assert ann1["n_reviewed"] == 0 and ann1["review_agreement"] is None
    assert ann1["n_model_checked"] == 36 and ann1["model_agreement"] == pytest.approx(33 / 36)
    # The suspects go to blind review first, then two random others.
    sent = run_cli("review", project, "--suspects", "3", "--calibration", "2")
    assert sent.code == 0 and "sent 3 suspect and 2 random labels to review" in sent.out
    with open_project(project) as opened:
        reviews = opened.store.get_reviews()
        assert [r.reason for r in reviews] == ["suspect"] * 3 + ["calibration"] * 2
        assert sorted(r.sample_id for r in reviews[:3]) == sorted(flipped)
        for sample in flipped:  # a careful reviewer restores the truth
            assert opened.store.submit_review(sample, truth[sample], annotator="rev").outcome == (
                "disputed"
            )
        quality = {q["name"]: q for q in get_annotator_quality(opened).annotators}
    assert quality["ann1"]["n_reviewed"] == 3 and quality["ann1"]["review_agreement"] == 0.0
    assert json.loads(run_cli("suspects", project, "--json").out)["rows"][0]["disagreement"] > 0
    text = run_cli("suspects", project, "--top", "3")
    assert "labels flagged" in text.out and "out-of-fold probabilities of round" in text.out
    assert len(text.out.strip().splitlines()) == 2 + 2 + 3  # summary, blank, header, rule, rows


def test_a_second_annotators_disagreement_ranks_a_label_high_without_a_round(
    project: Path, run_cli: Callable
) -> None:
    truth, chosen, _ = label_with_flips(project, 10, [])
    disputed = chosen[4]
    with open_project(project) as opened:
        other = _next_class(opened.class_names, truth[disputed])
        opened.store.add_labels([(disputed, other)], annotator="ann2", source="test")
    suspects = json.loads(run_cli("suspects", project, "--json").out)
    assert suspects["round_id"] is None and suspects["n_disputed"] == 1
    first = suspects["rows"][0]
    assert first["sample"] == disputed and first["disagreement"] == 0.5
    assert first["annotators"] == {"ann1": truth[disputed], "ann2": other}
    assert "no round has computed" in run_cli("suspects", project).out


def test_bad_input_exits_2(project: Path, run_cli: Callable) -> None:
    assert run_cli("suspects", project, "--top", "0").code == 2
    assert run_cli("suspects", project.parent / "nothing").code == 2
    assert run_cli("suspects", project).out.strip() == "no labels yet"
