"""Joint embeddings: several embeddings of the same images side by side, weighted alike.

A pretrained embedding knows shapes and textures of photos; a PCA of the pixels knows where
the ink is. Which one a folder needs is unknown before labels, and often both help: on the
font glyphs (bench/results/first_labels.md) TypiClust picks with a linear head on the two side
by side reached 0.675 and 0.835 test accuracy at 1 and 2 labels per class, against 0.619 and
0.796 on the pixels alone and 0.591 and 0.718 on the ImageNet features alone. Where the
pixels say nothing of the classes (counting, the colour folder) the joint embedding was below
the ImageNet features alone, so ``--model auto`` leaves a joint head out once a part of it
cross-validates at chance (``labeler.learning.learner_choice``). ``join_embeddings`` centres
each part and scales it to a total variance of 1 (the sum of its columns' variances), so that
a 1,280-column part and a 64-column one weigh the same in distances and in a head's penalty.

A joint embedding is named by its parts joined with ``+`` (``efficientnet_lite0+pixels``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from labeler.learning.embedding_kinds import check_embedding_kind

SEPARATOR = "+"


def get_joint_name(kinds: list[str] | tuple[str, ...]) -> str:
    """The name of the joint embedding of ``kinds`` (in that order)."""
    return SEPARATOR.join(kinds)


def split_joint_name(name: str) -> list[str]:
    """The parts of a joint embedding's name (a single kind gives itself)."""
    return name.split(SEPARATOR)


def check_embedding_name(name: str) -> str:
    """``name`` if it is a kind or kinds joined with ``+``, else ValueError listing the
    kinds."""
    for part in split_joint_name(name):
        check_embedding_kind(part)
    return name


def join_embeddings(parts: Mapping[str, NDArray[np.float32]]) -> NDArray[np.float32]:
    """The parts' rows side by side, float32 ``[n, sum of dims]``, each part centred and
    scaled to a total variance of 1 (a constant part stays 0). Raises ValueError when the
    parts' row counts differ or there is no part."""
    if not parts:
        raise ValueError("a joint embedding needs at least one part")
    counts = {name: int(np.shape(rows)[0]) for name, rows in parts.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"the parts of a joint embedding must have the same rows, got {counts}")
    blocks = []
    for rows in parts.values():
        block = np.asarray(rows, dtype=np.float64)
        block = block - block.mean(axis=0)
        total = float(np.sqrt(np.sum(block.var(axis=0))))
        blocks.append(block / total if total > 0 else block)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def add_joint_embedding(
    vectors: Mapping[str, NDArray[np.float32]],
) -> dict[str, NDArray[np.float32]]:
    """``vectors`` (kind -> rows, in order of preference) with, when there are two kinds or
    more, their joint embedding first: the order ``--model auto`` weighs them in."""
    kinds = list(vectors)
    if len(kinds) < 2:
        return dict(vectors)
    return {get_joint_name(kinds): join_embeddings(vectors), **vectors}
