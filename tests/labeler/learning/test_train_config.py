"""Tests of labeler.learning.train_config: how to train, checked when made."""

from __future__ import annotations

import numpy as np
import pytest

from labeler.learning.train_config import TrainConfig


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"device": "tpu"}, "device"),
        ({"class_weighting": "x"}, "class weighting"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_steps": 0}, "max_steps"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_bad_train_config(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig(**changes)  # type: ignore[arg-type]


def test_augmentation_config_is_checked_and_old_configs_load() -> None:
    with pytest.raises(ValueError, match="distinct transforms of hflip, vflip, rot90, shift"):
        TrainConfig(augment=("mirror",))
    with pytest.raises(ValueError, match="distinct transforms"):
        TrainConfig(augment=("hflip", "hflip"))
    config = TrainConfig(augment=["hflip", "shift"])  # type: ignore[arg-type]
    assert config.augment == ("hflip", "shift")
    assert TrainConfig.from_dict(config.to_dict()) == config
    old = {**TrainConfig().to_dict(), "augment_flip": True}
    del old["augment"], old["min_val_per_class"]
    assert TrainConfig.from_dict(old).augment == ("hflip",)
    with pytest.raises(ValueError, match="unknown TrainConfig fields"):
        TrainConfig.from_dict({"colour": 1})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": True}, r"TrainConfig\.batch_size must be an integer >= 1, got True"),
        ({"max_epochs": 2.0}, r"TrainConfig\.max_epochs must be an integer >= 1, got 2\.0"),
        ({"max_steps": -3}, r"TrainConfig\.max_steps must be an integer >= 1 or None, got -3"),
        ({"n_threads": 0}, r"TrainConfig\.n_threads must be an integer >= 1 or None, got 0"),
        ({"min_val_per_class": 1}, r"min_val_per_class must be at least 2 \(one label to train"),
    ],
)
def test_bad_counts_name_the_value_and_what_is_allowed(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)  # type: ignore[arg-type]


def test_numpy_integers_are_stored_as_ints() -> None:
    config = TrainConfig(batch_size=np.int64(32), max_steps=np.int32(10), n_threads=np.int64(1))  # type: ignore[arg-type]
    assert (config.batch_size, config.max_steps, config.n_threads) == (32, 10, 1)
    assert all(type(value) is int for value in (config.batch_size, config.max_steps))
    assert config == TrainConfig(batch_size=32, max_steps=10, n_threads=1)
