"""A small model with dropout and trained-looking batch norms, random images, and the oracle
that scores them in one direct forward pass: shared by the scoring and predictor tests."""

from __future__ import annotations

import numpy as np
import torch

from labeler.learning.models import Classifier, ModelConfig, make_model, make_model_input


def make_scored_model() -> Classifier:
    """A 3-class model of 16 px inputs (dropout 0.5), its batch-norm statistics moved away
    from their defaults as training would; in eval mode."""
    torch.manual_seed(0)
    net = make_model(ModelConfig(width=4, image_size=16, dropout=0.5), n_classes=3)
    net.train()
    with torch.no_grad():
        net(torch.rand(32, 1, 16, 16))
    return net.eval()


def make_random_images(n: int = 37) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 16, 16), dtype=np.uint8)


def direct(model: Classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Oracle: one eval-mode forward pass of all images; (probs [n, c], features [n, f])."""
    model.eval()
    with torch.no_grad():
        x = make_model_input(torch.from_numpy(images), image_size=model.config.image_size)
        features = model.features(x)
        probs = torch.softmax(model.head(features), dim=1)
    return probs.numpy(), features.numpy()
