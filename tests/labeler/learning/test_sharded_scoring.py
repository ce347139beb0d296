"""Scoring in shards on an engine gives what one ``score_pool`` over the stream gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from labeler.engines.base import LocalEngine
from labeler.learning import sharded_scoring
from labeler.learning.checkpoints import save_checkpoint
from labeler.learning.models import ModelConfig, make_model
from labeler.learning.scoring import score_pool
from labeler.learning.sharded_scoring import ScoringJob, score_pool_on_engine


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """A checkpoint of a small model with dropout, and 90 packed images in a .npy file."""
    torch.manual_seed(0)
    config = ModelConfig(width=4, image_size=16, dropout=0.5)
    model = make_model(config, n_classes=3)
    model.train()
    with torch.no_grad():
        model(torch.rand(16, 1, 16, 16))
    model.eval()
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(
        checkpoint, model, model_config=config, n_classes=3, class_names=("a", "b", "c")
    )
    images = np.random.default_rng(1).integers(0, 256, size=(90, 16, 16), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    return checkpoint, tmp_path / "images.npy", images


@pytest.mark.parametrize("n_draws", [1, 5])
def test_shards_give_the_stream_s_predictions(saved, monkeypatch, n_draws: int) -> None:
    checkpoint, images_path, images = saved
    monkeypatch.setattr(sharded_scoring, "BATCHES_PER_SHARD", 2)  # shards of 2 batches of 8
    rows = np.random.default_rng(2).permutation(90)[:70]
    job = ScoringJob(checkpoint, images_path, n_draws=n_draws, seed=4, batch_size=8, n_threads=1)
    sharded = score_pool_on_engine(LocalEngine(), job, rows)
    from labeler.learning.checkpoints import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    whole = score_pool(
        model, images, indices=rows, n_draws=n_draws, seed=4, batch_size=8,
        device="cpu", n_threads=1, progress=False,
    )  # fmt: skip
    np.testing.assert_array_equal(sharded.probs, whole.probs)
    np.testing.assert_array_equal(sharded.features, whole.features)
    if n_draws > 1:  # the draws really differ: the masks are not all the same
        assert np.ptp(sharded.probs, axis=2).max() > 0


def test_no_rows_give_empty_predictions(saved) -> None:
    checkpoint, images_path, _ = saved
    empty = score_pool_on_engine(
        LocalEngine(), ScoringJob(checkpoint, images_path), np.array([], dtype=np.int64)
    )
    assert empty.probs.shape == (0, 3, 1) and empty.features.shape[0] == 0
