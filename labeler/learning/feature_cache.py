"""Features of every project image under a frozen pretrained backbone, computed once and cached.

A frozen backbone never changes between rounds, so its penultimate features of each image do not
either: the first round computes them for every sample (pool and test) and saves them as
``PROJECT/features/<backbone>-<weights digest>-<size>px.npy`` (float32 ``[n_samples,
n_features]``, row = sample id); later rounds memory-map the file and train and score only the
head. The name holds what the features depend on (the backbone, the SHA-256 of its weights file,
the input size), so other weights or another size never reuse them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from labeler.learning.models import PretrainedBackbone
from labeler.learning.scoring import score_pool
from labeler.store.atomic_files import save_npy_atomic
from labeler.store.project import Project
from labeler.store.project_files import get_features_folder

logger = logging.getLogger(__name__)

# Hex digits of the weights' SHA-256 in a cache file name: enough that two files never meet.
DIGEST_LENGTH = 16


@dataclass(frozen=True)
class CachedFeatures:
    """``features`` float32 ``[n_samples, n_features]`` (a read-only memory map), the ``path``
    they live in, and ``seconds`` spent computing them in this call (0.0 when read)."""

    features: NDArray[np.float32]
    path: Path
    seconds: float

    @property
    def computed(self) -> bool:
        return self.seconds > 0.0


def get_features_path(project: Project, model: PretrainedBackbone, *, weights_digest: str) -> Path:
    """Where the features of ``model``'s backbone with weights of SHA-256 ``weights_digest``
    (hex) at ``model.config.image_size`` are cached in ``project``."""
    name = f"{model.backbone}-{weights_digest[:DIGEST_LENGTH]}-{model.config.image_size}px.npy"
    return get_features_folder(project.path) / name


def get_project_features(
    project: Project,
    model: PretrainedBackbone,
    *,
    weights_digest: str,
    device: str | torch.device = "auto",
    n_threads: int | None = None,
    progress: bool = True,
) -> CachedFeatures:
    """The features of every sample of ``project`` under ``model``'s backbone, from the cache,
    or computed now (with the backbone in eval mode, as ``score_pool`` runs it) and cached.

    ``model`` must hold the weights whose SHA-256 is ``weights_digest``. A cache file of the
    wrong shape (e.g. cut short by a full disk) is computed again.
    """
    path = get_features_path(project, model, weights_digest=weights_digest)
    images = project.load_images()
    expected = (images.shape[0], model.n_features)
    if path.is_file():
        cached = _read_features(path)
        if cached is not None and cached.shape == expected:
            logger.info("features of %d images read from %s", expected[0], path)
            return CachedFeatures(cached, path, 0.0)
        logger.warning("%s is not float32 %s: computing the features again", path, expected)
    started = time.perf_counter()
    logger.info("computing %s features of %d images once", model.backbone, expected[0])
    # score_pool runs the backbone exactly as scoring the raw images would; its probabilities
    # (of a head not trained yet) are not needed.
    predictions = score_pool(model, images, device=device, n_threads=n_threads, progress=progress)
    features = predictions.features
    path.parent.mkdir(exist_ok=True)
    save_npy_atomic(path, features)
    seconds = max(time.perf_counter() - started, 1e-9)
    logger.info("computed the features in %.1f s", seconds)
    stored = _read_features(path)
    assert stored is not None
    return CachedFeatures(stored, path, seconds)


def _read_features(path: Path) -> NDArray[np.float32] | None:
    """The float32 2-d array in ``path``, memory-mapped, or None when it is not one."""
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError) as error:
        logger.warning("cannot read %s: %s", path, error)
        return None
    if array.dtype != np.float32 or array.ndim != 2:
        return None
    features: NDArray[np.float32] = array
    return features
