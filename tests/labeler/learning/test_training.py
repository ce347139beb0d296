"""Tests of labeler.learning.training: label checks, training on images, accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labeler.learning.models import ModelConfig
from labeler.learning.train_config import TrainConfig
from labeler.learning.training import check_labels, evaluate_accuracy, train_model

TINY_MODEL = ModelConfig(width=4, depth=1, image_size=16, stem_stride=1)
# One thread: the tests stay quick on a machine shared with other torch processes.
QUICK = TrainConfig(max_epochs=2, min_steps=4, batch_size=16, device="cpu", patience=2, n_threads=1)


def make_dots(n: int, *, seed: int, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Images of random dots: class c has 4 + 8c dots (an easy, ink-count problem)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64) % 2
    images = np.full((n, size, size), 255, dtype=np.uint8)
    for image, label in zip(images, labels, strict=True):
        cells = rng.choice(size * size, size=4 + 8 * int(label), replace=False)
        image.flat[cells] = 0
    return images, labels


def test_check_labels_counts() -> None:
    counts = check_labels(np.array([0, 1, 1, 2, 0, 2, 2]), n_classes=3)
    assert counts.tolist() == [2, 2, 3]


def test_one_class_is_refused_with_the_hint() -> None:
    with pytest.raises(ValueError, match=r"1 class.*--initial random picks"):
        check_labels(np.zeros(10, dtype=np.int64), n_classes=2)


def test_too_few_of_a_class_is_refused() -> None:
    with pytest.raises(ValueError, match=r"class\(es\) \{1: 1\}.*label at least 3 of each class"):
        check_labels(np.array([0, 0, 0, 1]), n_classes=2, min_per_class=3)
    with pytest.raises(ValueError, match=r"\{2: 0\}"):
        check_labels(np.array([0, 0, 1, 1]), n_classes=3)


def test_labels_outside_the_classes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"label 5 is not a class index in 0\.\.1"):
        check_labels(np.array([0, 1, 5]), n_classes=2)


def test_bad_shapes_are_refused() -> None:
    images, labels = make_dots(8, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        train_model(images.astype(np.float32), labels, n_classes=2, train_config=QUICK)
    with pytest.raises(ValueError, match="one label per image"):
        train_model(images, labels[:-1], n_classes=2, train_config=QUICK)


def test_training_learns_an_easy_problem() -> None:
    images, labels = make_dots(240, seed=0)
    test_images, test_labels = make_dots(200, seed=1)
    config = TrainConfig(
        max_epochs=10, min_steps=60, batch_size=32, device="cpu", seed=0, n_threads=1
    )
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config, progress=False
    )
    assert evaluate_accuracy(result.model, test_images, test_labels, device="cpu") >= 0.9
    assert result.n_train + result.n_val == 240 and result.n_val == 48
    assert result.n_steps >= 60 and result.n_epochs == len(result.history)
    assert not result.model.training
    # The best weights are restored: the final accuracy is the best one seen.
    assert result.val_accuracy == max(record.val_accuracy for record in result.history)


def test_training_is_seeded_and_leaves_global_rng_alone() -> None:
    images, labels = make_dots(64, seed=0)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = train_model(images, labels, n_classes=2, model_config=TINY_MODEL, train_config=QUICK)
    assert torch.equal(torch.get_rng_state(), state)
    second = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=QUICK, progress=False
    )
    for (name, a), b in zip(
        first.model.state_dict().items(), second.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    other = train_model(
        images,
        labels,
        n_classes=2,
        model_config=TINY_MODEL,
        train_config=TrainConfig(**{**QUICK.to_dict(), "seed": 1}),
        progress=False,
    )
    assert not torch.equal(first.model.head[1].weight, other.model.head[1].weight), (
        "another seed should give other weights"
    )


def test_step_budget() -> None:
    images, labels = make_dots(40, seed=0)  # 32 train images: 2 steps per epoch of 16
    config = TrainConfig(
        max_epochs=3,
        min_steps=10,
        batch_size=16,
        val_fraction=0.2,
        patience=100,
        device="cpu",
        n_threads=1,
    )
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config, progress=False
    )
    assert result.n_steps == 10 and result.n_epochs == 5  # min_steps wins over max_epochs
    capped = TrainConfig(**{**config.to_dict(), "min_steps": 1, "max_epochs": 20, "max_steps": 7})
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=capped, progress=False
    )
    assert result.n_steps == 7


def test_early_stopping_after_min_steps() -> None:
    images, _ = make_dots(40, seed=0)
    # Random labels: validation accuracy cannot keep improving, so training stops early.
    labels = np.random.default_rng(0).permutation(np.arange(40) % 2)
    config = TrainConfig(
        max_epochs=100,
        min_steps=4,
        batch_size=16,
        patience=2,
        max_steps=None,
        device="cpu",
        n_threads=1,
    )
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config, progress=False
    )
    assert result.n_steps >= 4 and result.n_epochs < 100
    best = max(range(result.n_epochs), key=lambda i: result.history[i].val_accuracy)
    assert result.n_epochs - 1 - best >= 2  # it waited `patience` epochs after the best


def test_imbalanced_labels_get_class_weights() -> None:
    images, labels = make_dots(60, seed=0)
    keep = np.concatenate([np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)[:8]])
    result = train_model(
        images[keep],
        labels[keep],
        n_classes=2,
        model_config=TINY_MODEL,
        train_config=QUICK,
        progress=False,
    )
    assert result.class_weights is not None
    assert result.class_weights[1] > result.class_weights[0]


def test_no_validation_split() -> None:
    images, labels = make_dots(20, seed=0)
    config = TrainConfig(**{**QUICK.to_dict(), "val_fraction": 0.0})
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config, progress=False
    )
    assert result.n_val == 0 and np.isnan(result.val_accuracy)
    assert result.n_steps == 4


def test_training_resizes_to_the_model_input() -> None:
    images, labels = make_dots(32, seed=0, size=32)
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=QUICK, progress=False
    )
    assert result.model.config.image_size == 16
    assert 0.0 <= evaluate_accuracy(result.model, images, labels, device="cpu") <= 1.0


def test_evaluate_accuracy_matches_argmax() -> None:
    images, labels = make_dots(50, seed=2)
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=QUICK, progress=False
    )
    from labeler.learning.models import make_model_input

    with torch.no_grad():
        x = make_model_input(torch.from_numpy(images), image_size=16)
        predicted = result.model(x).argmax(dim=1).numpy()
    expected = float(np.mean(predicted == labels))
    assert evaluate_accuracy(result.model, images, labels, batch_size=7, device="cpu") == (
        pytest.approx(expected)
    )
    assert np.isnan(evaluate_accuracy(result.model, images[:0], labels[:0], device="cpu"))


@pytest.mark.slow
def test_default_model_learns_svrt_problem_4() -> None:
    from generators.registry import get_family

    family = get_family("svrt")
    params = family.make_params("4")
    train = family.generate("4", params, split="train", seed=0, start=0, count=1000)
    test = family.generate("4", params, split="test", seed=0, start=0, count=400)
    result = train_model(
        np.asarray(train.images),
        np.asarray(train.labels),
        n_classes=2,
        train_config=TrainConfig(device="cpu", n_threads=1),
        progress=False,
    )
    accuracy = evaluate_accuracy(
        result.model, np.asarray(test.images), np.asarray(test.labels), device="cpu"
    )
    # Measured 0.895 at seed 0 with at least 800 steps (the default), 0.888 with the former 200
    # (325 steps run). Without augmentation: with the family's transforms, as rounds train,
    # 0.998 and 0.978 over two seeds (bench/results/training_steps.md).
    assert accuracy >= 0.85
    assert result.seconds < 150  # about a minute on one core


def test_thread_setting_is_applied_and_restored() -> None:
    images, labels = make_dots(24, seed=0)
    before = torch.get_num_threads()
    config = TrainConfig(**{**QUICK.to_dict(), "n_threads": 2 if before == 1 else 1})
    train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config, progress=False
    )
    assert torch.get_num_threads() == before


def test_the_epoch_callback_sees_every_epoch_and_can_stop_training() -> None:
    images, labels = make_dots(40, seed=1)
    config = TrainConfig(**{**QUICK.to_dict(), "max_epochs": 6, "patience": 100})
    seen: list[int] = []

    def stop_after_three(record, model) -> bool:
        seen.append(record.epoch)
        assert isinstance(model, torch.nn.Module)
        return record.epoch == 3

    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config,
        progress=False, on_epoch=stop_after_three,
    )  # fmt: skip
    assert seen == [1, 2, 3]
    assert result.n_epochs == 3


def test_fine_tuning_starts_from_the_initial_model_and_leaves_it_alone() -> None:
    images, labels = make_dots(40, seed=2)
    first = train_model(images, labels, n_classes=2, model_config=TINY_MODEL,
                        train_config=QUICK, progress=False).model  # fmt: skip
    before = {name: value.clone() for name, value in first.state_dict().items()}
    one_step = TrainConfig(**{**QUICK.to_dict(), "min_steps": 1, "max_steps": 1, "max_epochs": 1,
                              "lr": 1e-3, "val_fraction": 0.0})  # fmt: skip
    tuned = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=one_step,
        progress=False, initial_model=first,
    ).model  # fmt: skip
    for name, value in first.state_dict().items():
        assert torch.equal(value, before[name]), name
    weight = "stem.0.weight"
    # one step at a small learning rate: close to the start, not to a fresh initialisation
    assert torch.allclose(tuned.state_dict()[weight], before[weight], atol=1e-3)
    assert not torch.equal(tuned.state_dict()[weight], before[weight])
    with pytest.raises(ValueError, match="initial_model is a"):
        train_model(images, labels, n_classes=2, model_config=ModelConfig(width=8),
                    train_config=QUICK, progress=False, initial_model=first)  # fmt: skip


def test_few_labels_train_on_every_label_and_say_so() -> None:
    images, labels = make_dots(10, seed=0)  # 5 per class: fewer than min_val_per_class (20)
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=QUICK, progress=False
    )
    assert (result.n_train, result.n_val) == (10, 0)
    assert np.isnan(result.val_accuracy)
    assert "none: the smallest class has 5 labels" in result.validation
    assert f"for {result.n_steps} steps" in result.validation
    one_each = train_model(
        images[:2], labels[:2], n_classes=2, model_config=TINY_MODEL, train_config=QUICK
    )
    assert one_each.n_train == 2  # one label per class is enough to train
    many = train_model(
        *make_dots(60, seed=1), n_classes=2, model_config=TINY_MODEL, train_config=QUICK
    )
    assert many.n_val == 12 and "held out 20% of each class" in many.validation


def test_few_labels_learn_an_easy_problem_better_than_chance() -> None:
    images, labels = make_dots(6, seed=0)  # 3 labels per class
    test_images, test_labels = make_dots(200, seed=1)
    config = TrainConfig(min_steps=100, batch_size=16, device="cpu", n_threads=1)
    result = train_model(
        images, labels, n_classes=2, model_config=TINY_MODEL, train_config=config, progress=False
    )
    assert evaluate_accuracy(result.model, test_images, test_labels, device="cpu") >= 0.8
