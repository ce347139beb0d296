"""Conflicting bundles: which samples a layer makes indistinguishable to a weight update.

Definitions from ``docs/pruning.md``: for a layer's outputs ``a_i`` (flattened), the training
``lr`` and ``batch_size`` and ``w_max`` (the largest absolute trainable parameter of the model),
``z_i = w_max - (lr / batch_size) * a_i`` in float32. Samples whose ``z`` rows are equal in every
component (exact float32 equality) form a bundle. Bundle entropy
``H = (1 / N) * sum_b |b| * H_b`` with ``H_b = -sum_c p_bc ln p_bc`` over the classes in bundle
``b``: 0 when no bundle mixes classes, ``ln K`` when all N samples of K balanced classes share
one bundle.

Rows are grouped by a 64-bit hash of their float32 bits (vectorised, O(N * D)), and every row
is then compared with the first row of its group: exact equality, never a pairwise loop. In
the unlikely event of a hash collision it falls back to sorting the rows (``torch.unique``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from generators.checks import check_int, check_number

logger = logging.getLogger(__name__)

# Rows hashed per chunk: bounds the int64 temporaries to about 64 MiB.
_HASH_CHUNK_ELEMENTS = 1 << 23
_HASH_SEED = 20110295  # fixed: the same rows always get the same hashes


@dataclass(frozen=True)
class BundleStats:
    """Bundles of one layer: ``n_bundles`` (distinct z rows), ``entropy`` (nats, in
    ``[0, ln K]``) and ``n_samples``; ``conflicting`` is ``entropy > 0``."""

    n_bundles: int
    entropy: float
    n_samples: int

    @property
    def conflicting(self) -> bool:
        return self.entropy > 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"n_bundles": self.n_bundles, "entropy": self.entropy, "n_samples": self.n_samples}


def get_max_weight(model: nn.Module) -> float:
    """Largest absolute value of any trainable parameter (batch-norm scales and shifts too)."""
    values = [p.detach().abs().max() for p in model.parameters() if p.requires_grad and p.numel()]
    if not values:
        raise ValueError("the model has no trainable parameters")
    return float(torch.stack(values).max())


def get_update_rows(
    activations: torch.Tensor, *, w_max: float, lr: float, batch_size: int
) -> torch.Tensor:
    """``z = w_max - (lr / batch_size) * a`` in float32 ``[n, D]``, from activations
    ``[n, ...]``."""
    if activations.ndim < 1 or activations.shape[0] == 0:
        raise ValueError(
            f"activations must be [n_samples, ...] with n > 0, got {activations.shape}"
        )
    check_number("lr", lr, low=0.0, low_open=True)
    check_int("batch_size", batch_size, low=1)
    flat = activations.detach().reshape(activations.shape[0], -1).to(torch.float32)
    # (-c * a) + w_max equals w_max - c * a bit for bit (negation is exact), in one new array;
    # it is never -0.0, which would be equal as a float but hash differently.
    rows = torch.mul(flat, -lr / batch_size)
    return rows.add_(w_max)


def hash_rows(rows: torch.Tensor) -> torch.Tensor:
    """A 64-bit hash ``[n]`` (int64) of the float32 bits of each row of ``rows [n, D]``: the
    sum of the bits times random odd keys, one per position, wrapping modulo 2**64. Equal rows
    get equal hashes; two different rows rarely do (about 2**-64 for typical differences)."""
    if rows.dtype != torch.float32 or rows.ndim != 2:
        raise ValueError(f"rows must be float32 [n, D], got {rows.dtype} {tuple(rows.shape)}")
    n_rows, n_features = rows.shape
    bits = rows.contiguous().view(torch.int32)
    generator = torch.Generator().manual_seed(_HASH_SEED)
    keys = torch.randint(-(2**62), 2**62, (n_features,), generator=generator) * 2 + 1
    out = torch.empty(n_rows, dtype=torch.int64)
    chunk = max(1, _HASH_CHUNK_ELEMENTS // max(n_features, 1))
    for start in range(0, n_rows, chunk):
        out[start : start + chunk] = (bits[start : start + chunk].to(torch.int64) * keys).sum(1)
    return out


def assign_bundles(rows: torch.Tensor) -> tuple[NDArray[np.int64], int]:
    """Bundle index of each row of float32 ``rows [n, D]`` (rows equal in every component share
    a bundle): ``(bundle_ids [n] in 0..n_bundles-1, n_bundles)``."""
    hashes = hash_rows(rows).numpy()
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.astype(np.int64).ravel()
    representatives = torch.from_numpy(first[inverse])
    chunk = max(1, _HASH_CHUNK_ELEMENTS // max(rows.shape[1], 1))
    if all(
        bool((rows[start : start + chunk] == rows[representatives[start : start + chunk]]).all())
        for start in range(0, rows.shape[0], chunk)
    ):
        return inverse, int(first.size)
    logger.debug("hash collision among %d rows; sorting them instead", rows.shape[0])
    unique_rows, exact = torch.unique(rows, dim=0, return_inverse=True)
    return exact.numpy().astype(np.int64), int(unique_rows.shape[0])


def compute_entropy_of_bundles(
    bundle_ids: NDArray[np.integer[Any]], labels: NDArray[np.integer[Any]]
) -> float:
    """Bundle entropy (nats) of samples with ``bundle_ids [n]`` and class ``labels [n]``."""
    bundle_ids = np.asarray(bundle_ids, dtype=np.int64)
    labels = np.asarray(labels)
    if labels.shape != bundle_ids.shape or labels.ndim != 1:
        raise ValueError(
            f"labels {labels.shape} must match bundle ids {bundle_ids.shape}, one per sample"
        )
    if labels.size == 0:
        raise ValueError("no samples to compute bundle entropy on")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError(f"labels must be non-negative class indices, got {labels.dtype}")
    _, classes = np.unique(labels, return_inverse=True)
    n_classes = int(classes.max()) + 1
    n_bundles = int(bundle_ids.max()) + 1
    counts = np.bincount(
        bundle_ids * n_classes + classes.ravel(), minlength=n_bundles * n_classes
    ).reshape(n_bundles, n_classes)
    sizes = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.where(counts > 0, counts / np.maximum(sizes, 1), 1.0)
    # sum_b |b| H_b = -sum_bc n_bc ln p_bc; a pure bundle contributes exactly 0.
    total = -float(np.sum(counts * np.log(shares)))
    return total / labels.size if total > 0 else 0.0


def compute_bundle_entropy(
    activations: torch.Tensor,
    labels: NDArray[np.integer[Any]],
    *,
    lr: float,
    batch_size: int,
    w_max: float,
) -> BundleStats:
    """Bundles and bundle entropy of one layer's ``activations [n, ...]`` for class ``labels
    [n]``, at training ``lr`` and ``batch_size``, for a model whose largest absolute parameter
    is ``w_max`` (``get_max_weight``)."""
    labels = np.asarray(labels)
    if labels.shape != (activations.shape[0],):
        raise ValueError(
            f"labels must have one entry per sample ({activations.shape[0]}), got {labels.shape}"
        )
    rows = get_update_rows(activations, w_max=w_max, lr=lr, batch_size=batch_size)
    bundle_ids, n_bundles = assign_bundles(rows)
    return BundleStats(
        n_bundles=n_bundles,
        entropy=compute_entropy_of_bundles(bundle_ids, labels),
        n_samples=int(labels.size),
    )
