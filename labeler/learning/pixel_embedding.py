"""The ``pixels`` embedding: principal components of the raw pixels.

The cheapest embedding, and no weak one at few labels: a linear model on raw pixels is the
peer our rounds must beat. Pixels enter as ink (``1 - value / 255``: white 0), colour images
as their ``S * S * 3`` values. PCA (centred, not whitened) is fitted on a seeded random sample
of at most ``max_fit_images`` images, and at most ``MAX_FIT_VALUES`` pixel values in all (so a
pool of large colour images stays within memory), then every image is projected batch by
batch: a 100,000-image pool costs one pass over the images after a fit on 5,000.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from tqdm import tqdm

from generators.checks import check_int
from labeler.learning.embedding_kinds import register_embedding_kind

logger = logging.getLogger(__name__)

# Bumped whenever the vectors of the same parameters would change (the cache key holds it).
VERSION = 1
# Pixel values in the fitting sample at most (float32: 1 GiB); 256 px colour fits 1,365 images.
MAX_FIT_VALUES = 1 << 28
# Images projected at a time.
TRANSFORM_BATCH = 4096


@dataclass(frozen=True)
class PixelPCA:
    """A fitted PCA of ink values: ``mean`` float32 ``[n_pixels]``, ``components`` float32
    ``[dim, n_pixels]`` (orthonormal rows, by decreasing variance), ``n_fit`` images fitted."""

    mean: NDArray[np.float32]
    components: NDArray[np.float32]
    n_fit: int

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])


def get_ink(images: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Images uint8 ``[n, S, S(, 3)]`` (white 255) -> ink float32 ``[n, n_pixels]`` in [0, 1]."""
    flat = np.asarray(images).reshape(len(images), -1).astype(np.float32)
    return 1.0 - flat * np.float32(1.0 / 255.0)


def fit_pixel_pca(
    images: NDArray[np.uint8], *, n_components: int, max_fit_images: int, seed: int
) -> PixelPCA:
    """PCA of the ink of ``images`` uint8 ``[n, S, S(, 3)]``, fitted on a random sample of
    ``min(n, max_fit_images, MAX_FIT_VALUES // n_pixels)`` of them (seeded by ``seed``; all
    of them when that is n). ``dim`` is ``min(n_components, images fitted, n_pixels)``."""
    from sklearn.decomposition import PCA  # imported here: scikit-learn loads slowly

    n_images = check_int("number of images", len(images), low=1)
    n_components = check_int("n_components", n_components, low=1)
    max_fit_images = check_int("max_fit_images", max_fit_images, low=1)
    n_pixels = math.prod(images.shape[1:])
    n_fit = min(n_images, max_fit_images, max(1, MAX_FIT_VALUES // n_pixels))
    if n_fit < n_images:
        rows = np.sort(np.random.default_rng(seed).choice(n_images, size=n_fit, replace=False))
        sample = get_ink(images[rows])
    else:
        sample = get_ink(images)
    dim = min(n_components, n_fit, n_pixels)
    logger.info("fitting a PCA of %d components on %d of %d images", dim, n_fit, n_images)
    pca = PCA(n_components=dim, whiten=False, random_state=seed).fit(sample)
    return PixelPCA(
        mean=pca.mean_.astype(np.float32),
        components=pca.components_.astype(np.float32),
        n_fit=n_fit,
    )


def project_pixels(
    images: NDArray[np.uint8], pca: PixelPCA, *, progress: bool = False
) -> NDArray[np.float32]:
    """Coordinates float32 ``[n, dim]`` of the ink of ``images`` on ``pca``'s components,
    ``TRANSFORM_BATCH`` images at a time."""
    vectors = np.empty((len(images), pca.dim), dtype=np.float32)
    basis = np.ascontiguousarray(pca.components.T)
    with tqdm(total=len(images), desc="pixels PCA", unit="img", disable=not progress) as bar:
        for start in range(0, len(images), TRANSFORM_BATCH):
            stop = min(start + TRANSFORM_BATCH, len(images))
            vectors[start:stop] = (get_ink(images[start:stop]) - pca.mean) @ basis
            bar.update(stop - start)
    return vectors


@register_embedding_kind("pixels")
@dataclass(frozen=True)
class PixelEmbedding:
    """The ``pixels`` kind: ``n_components`` principal components of the ink (64 by default,
    fewer when the pool has fewer images or pixels), fitted on at most ``max_fit_images``
    images drawn with ``seed``."""

    n_components: int = 64
    max_fit_images: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("n_components", self.n_components, low=1)
        check_int("max_fit_images", self.max_fit_images, low=1)
        check_int("seed", self.seed, low=0)

    def get_key_parts(self) -> dict[str, Any]:
        return {"version": VERSION, **asdict(self)}

    def embed(
        self,
        images: NDArray[np.uint8],
        *,
        device: torch.device,
        n_threads: int | None,
        progress: bool,
    ) -> NDArray[np.float32]:
        # numpy and scikit-learn run on the CPU; their BLAS threads follow n_threads.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=n_threads):
            pca = fit_pixel_pca(
                images,
                n_components=self.n_components,
                max_fit_images=self.max_fit_images,
                seed=self.seed,
            )
            return project_pixels(images, pca, progress=progress)
