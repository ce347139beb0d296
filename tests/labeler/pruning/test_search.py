"""Tests of greedy pruning, its baselines, auto-tune's cuts and the bundle analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from labeler.learning.models import ModelConfig
from labeler.learning.training import TrainConfig, train_model
from labeler.pruning import baselines
from labeler.pruning.analysis import analyze_training, count_duplicate_conflicts, pick_samples
from labeler.pruning.autotune import AutotuneConfig, cut_before, halve_stages, run_autotune
from labeler.pruning.bundles import BundleStats
from labeler.pruning.fine_tuning import FineTuneConfig, fine_tune
from labeler.pruning.greedy import PruneTarget, run_greedy_pruning
from labeler.pruning.surgery import list_blocks

CONFIG = ModelConfig(name="resnet", depth=2, width=4, image_size=12)
FAST = TrainConfig(min_steps=6, max_epochs=2, batch_size=16, device="cpu", n_threads=1)
TUNE = FineTuneConfig(n_steps=3, batch_size=16, device="cpu", n_threads=1)


def make_bars(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal (class 0) and vertical (class 1) dark bars on white, 12 x 12."""
    rng = np.random.default_rng(seed)
    images = np.full((n, 12, 12), 255, dtype=np.uint8)
    labels = np.arange(n) % 2
    for index, label in enumerate(labels):
        line = rng.integers(2, 10)
        if label == 0:
            images[index, line, 2:10] = 0
        else:
            images[index, 2:10, line] = 0
    return images, labels


@pytest.fixture(scope="module")
def trained() -> tuple[nn.Module, np.ndarray, np.ndarray]:
    images, labels = make_bars(80, seed=0)
    result = train_model(images, labels, n_classes=2, model_config=CONFIG, train_config=FAST,
                         progress=False)  # fmt: skip
    return result.model, images, labels


def test_greedy_removes_the_best_candidate_each_step(trained) -> None:
    model, images, labels = trained
    before = {name: value.clone() for name, value in model.state_dict().items()}
    result = run_greedy_pruning(model, images, labels, n_classes=2,
                                target=PruneTarget(n_blocks=2), fine_tune_config=TUNE,
                                progress=False)  # fmt: skip
    assert len(result.steps) == 2 and result.removed == [s.removed for s in result.steps]
    assert [len(step.candidates) for step in result.steps] == [4, 3]
    assert result.n_fine_tunes == 7
    for step in result.steps:
        best = max(step.candidates.values())
        assert step.selection_accuracy == best == step.candidates[step.removed]
        # ties go to the later block
        tied = [name for name, value in step.candidates.items() if value == best]
        assert step.removed == tied[-1]
    assert result.removed[0] not in result.steps[1].candidates
    assert sum(result.model.config.get_stage_depths()) == 4
    # the split: 15% of each class for selection, disjoint from the fine-tuning part
    assert len(result.selection_ids) == 12
    assert not set(result.selection_ids) & set(result.fine_tune_ids)
    for name, value in model.state_dict().items():  # the model passed in is untouched
        assert torch.equal(value, before[name])


def test_greedy_with_no_drop_allowed_stops_before_a_harmful_removal(trained) -> None:
    model, images, labels = trained
    result = run_greedy_pruning(model, images, labels, n_classes=2,
                                target=PruneTarget(max_drop=0.0), fine_tune_config=TUNE,
                                progress=False)  # fmt: skip
    for step in result.steps:
        assert step.selection_accuracy >= result.baseline_selection_accuracy
    if len(result.removed) < 3:
        assert "would drop the selection accuracy" in result.stopped_because


def test_a_target_that_removes_every_removable_block_is_refused(trained) -> None:
    model, images, labels = trained
    with pytest.raises(ValueError, match=r"every removable block \(4\).*at most 3"):
        run_greedy_pruning(model, images, labels, n_classes=2, target=PruneTarget(n_blocks=4),
                           fine_tune_config=TUNE)  # fmt: skip
    with pytest.raises(ValueError, match="exactly one pruning target"):
        PruneTarget(max_drop=0.01, n_blocks=2)


def test_baseline_rules_pick_what_they_say(trained) -> None:
    model, images, labels = trained
    assert baselines.choose_last(model, 2) == ["stages.1.1", "stages.2.1"]
    removable = ["stages.0.0", "stages.0.1", "stages.1.1", "stages.2.1"]
    picks = baselines.choose_random(model, 3, rng=np.random.default_rng(0))
    assert len(set(picks)) == 3 and set(picks) <= set(removable)
    stats = {f"{name}.branch": BundleStats(10, 0.0, 10) for name in removable}
    stats["stages.0.1.branch"] = BundleStats(3, 0.5, 10)
    stats["stages.1.1.branch"] = BundleStats(5, 0.0, 10)
    assert baselines.choose_by_entropy(model, stats, 2) == ["stages.0.1", "stages.1.1"]
    ranking = {"stages.0.0": 0.9, "stages.0.1": 0.5, "stages.1.1": 0.9, "stages.2.1": 0.7}
    assert baselines.choose_by_lesion(ranking, model, 2) == ["stages.0.0", "stages.1.1"]
    lesioned = baselines.rank_by_lesion(model, images[:20], labels[:20], device="cpu")
    assert set(lesioned) == set(removable)


def test_fine_tune_leaves_the_model_passed_in_alone(trained) -> None:
    model, images, labels = trained
    before = model.stages[0][0].body[0].weight.detach().clone()
    tuned = fine_tune(model, images, labels, n_classes=2, config=TUNE)
    assert torch.equal(model.stages[0][0].body[0].weight, before)
    assert not torch.equal(tuned.stages[0][0].body[0].weight, before)
    assert tuned.config == model.config


def test_cuts_keep_the_blocks_before_the_conflicting_one() -> None:
    config = ModelConfig(name="plain", depth=4)
    assert cut_before(config, "stages.1.2") == (4, 2, 4)
    assert cut_before(config, "stages.0.0") == (0, 4, 4)
    assert cut_before(config, "stages.2.0") == (4, 4, 1)  # the downsampling block stays
    assert cut_before(ModelConfig(name="plain", depth=1), "stages.2.0") is None
    assert halve_stages(config) == (2, 2, 2)
    assert halve_stages(ModelConfig(name="plain", depth=1)) is None
    assert halve_stages(ModelConfig(name="plain", stage_depths=(0, 3, 1))) == (0, 1, 1)


def test_autotune_restarts_an_untrainable_network_with_a_shallower_one() -> None:
    """Identical images with two labels: every layer conflicts at every check, so each attempt
    is cut before its first block that can go, until nothing is left to cut."""
    images = np.full((48, 12, 12), 128, dtype=np.uint8)
    labels = np.arange(48) % 2
    start = ModelConfig(name="plain", depth=4, width=4, image_size=12)
    result = run_autotune(images, labels, n_classes=2, start=start, train_config=FAST,
                          config=AutotuneConfig(check_epochs=1, n_check_samples=32),
                          progress=False)  # fmt: skip
    depths = [attempt.stage_depths for attempt in result.attempts]
    assert depths == [(4, 4, 4), (0, 4, 4), (0, 1, 4), (0, 1, 1)]
    assert result.attempts[0].conflicting_block == "stages.0.0"
    assert result.attempts[0].cut_rule == "cut before the first conflicting block, stages.0.0"
    assert result.attempts[0].last_layer_entropies[0] == pytest.approx(math.log(2))
    assert result.attempts[-1].next_stage_depths is None
    assert not result.converged and result.n_restarts == 3
    assert result.model.config.get_stage_depths() == (0, 1, 1)


def test_autotune_keeps_a_network_that_trains(trained) -> None:
    images, labels = make_bars(80, seed=1)
    start = ModelConfig(name="plain", depth=1, width=4, image_size=12)
    train = TrainConfig(min_steps=30, max_epochs=8, batch_size=16, device="cpu", n_threads=1)
    result = run_autotune(images, labels, n_classes=2, start=start, train_config=train,
                          config=AutotuneConfig(check_epochs=6, n_check_samples=64),
                          progress=False)  # fmt: skip
    assert result.n_restarts == 0 and result.converged
    assert len(result.attempts[0].last_layer_entropies) == 6
    assert result.attempts[0].last_layer_entropies[-1] == 0.0


def test_analysis_measures_each_epoch_on_training_samples_only() -> None:
    images, labels = make_bars(60, seed=2)
    trained, analysis = analyze_training(
        images, labels, n_classes=2, model_config=CONFIG, train_config=FAST, n_samples=20,
        progress=False,
    )  # fmt: skip
    assert len(analysis.epochs) == trained.n_epochs
    assert analysis.n_samples == 20
    assert all(stats.n_samples == 20 for stats in analysis.layers.values())
    assert set(analysis.conflicting_blocks) <= {ref.name for ref in list_blocks(trained.model)}


def test_exact_duplicates_with_different_labels_are_counted() -> None:
    images = np.stack([np.full((4, 4), value, dtype=np.uint8) for value in range(10)])
    labels = np.arange(10) % 2
    assert count_duplicate_conflicts(images, labels) == 0
    images[5] = images[0]  # same pixels, label 1 against label 0
    images[2] = images[0]  # same pixels, same label 0: in the mixed group too
    images[6] = images[4]  # same pixels, same label: no conflict
    assert count_duplicate_conflicts(images, labels) == 3


def test_samples_are_picked_without_repeats() -> None:
    picked = pick_samples(np.arange(100) % 3, n_samples=30, seed=0)
    assert len(set(picked.tolist())) == 30 and list(picked) == sorted(picked)
    assert len(pick_samples(np.zeros(5, int), n_samples=30, seed=0)) == 5
