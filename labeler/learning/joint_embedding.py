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

Before the labels can tell (a class of one label, or every head at chance by
cross-validation), the first embedding in the order of preference is taken, and coverage
picks read it. The joint embedding comes first only when its parts **agree**: on average at
least ``MIN_AGREEMENT`` of an image's ``AGREEMENT_NEIGHBORS`` nearest neighbours in one part
are among its nearest in the other (``measure_agreement``, no labels needed). Two parts that
see the same neighbourhoods both see the pool's structure, and joining them sharpens it; two
that see unrelated ones mean one of them is organised by something else (where the ink sits,
for counting or SVRT images), which joining only dilutes. Measured on the first-labels sets
(``bench/results/joint_first.md``): 0.53 on the font glyphs, 0.04-0.10 on counting, colour,
orientation and SVRT 4 and 11. With the ImageNet features first on those five, our default
loop gained 3.5 points on average over 1 to 16 labels per class and 8 pool draws each (up to
21 points at 1 per class on SVRT 4, 8 on counting; a loss of 11 at 1 per class on SVRT 11,
where two coverage picks more often fell in one class).

A joint embedding is named by its parts joined with ``+`` (``efficientnet_lite0+pixels``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from labeler.learning.embedding_kinds import check_embedding_kind
from labeler.selection.cold_start_checks import squared_distances

SEPARATOR = "+"
# Parts agree when at least this share of each image's nearest neighbours in one are among its
# nearest in the other, on average (random embeddings share about k / n: 0.5% for 2,000).
MIN_AGREEMENT = 0.25
AGREEMENT_NEIGHBORS = 10
# Agreement is measured on a seeded random sample of this many images: its cost grows with
# the square of the sample, and a thousand images pin a mean share to about a point.
AGREEMENT_SAMPLE = 1000


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
    more, their joint embedding: first when the kinds agree, last otherwise
    (``order_joint_embeddings``), the order ``--model auto`` weighs them in."""
    kinds = list(vectors)
    if len(kinds) < 2:
        return dict(vectors)
    return order_joint_embeddings({get_joint_name(kinds): join_embeddings(vectors), **vectors})


def order_joint_embeddings(
    vectors: Mapping[str, NDArray[np.float32]],
) -> dict[str, NDArray[np.float32]]:
    """``vectors`` (name -> rows, in order of preference) with every joint embedding whose
    parts are all there but do not agree (``measure_agreement`` below ``MIN_AGREEMENT``) moved
    behind the rest, in its order. Too few images to have ``AGREEMENT_NEIGHBORS`` neighbours
    change nothing."""
    ahead, behind = {}, {}
    for name, rows in vectors.items():
        parts = split_joint_name(name)
        measurable = (
            len(parts) > 1
            and all(part in vectors for part in parts)
            and np.shape(rows)[0] > AGREEMENT_NEIGHBORS
        )
        if measurable and measure_agreement({p: vectors[p] for p in parts}) < MIN_AGREEMENT:
            behind[name] = rows
        else:
            ahead[name] = rows
    return {**ahead, **behind}


def measure_agreement(parts: Mapping[str, NDArray[np.float32]], *, seed: int = 0) -> float:
    """How much embeddings of the same images agree on their neighbourhoods: over a seeded
    sample of ``AGREEMENT_SAMPLE`` images, the mean share of each image's
    ``AGREEMENT_NEIGHBORS`` nearest neighbours (Euclidean, within the sample) in one part that
    are also among its nearest in another; the lowest over pairs of parts. 1.0 for fewer than
    two parts; ValueError when the parts' row counts differ or are too few to have
    neighbours."""
    counts = {name: int(np.shape(rows)[0]) for name, rows in parts.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(f"the parts must have the same rows, got {counts}")
    if len(parts) < 2:
        return 1.0
    n_rows = next(iter(counts.values()))
    if n_rows <= AGREEMENT_NEIGHBORS:
        raise ValueError(f"agreement needs more than {AGREEMENT_NEIGHBORS} images, got {n_rows}")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n_rows, min(n_rows, AGREEMENT_SAMPLE), replace=False))
    neighbours = [_nearest(np.asarray(rows)[sample]) for rows in parts.values()]
    shares = []
    for i, first in enumerate(neighbours):
        for second in neighbours[i + 1 :]:
            shared = (first[:, :, None] == second[:, None, :]).any(axis=2).sum(axis=1)
            shares.append(float(shared.mean()) / AGREEMENT_NEIGHBORS)
    return min(shares)


def _nearest(rows: NDArray[np.float32]) -> NDArray[np.int64]:
    """int64 ``[n, AGREEMENT_NEIGHBORS]``: each row's nearest other rows (in no order)."""
    points = np.asarray(rows, dtype=np.float64)
    points = points - points.mean(axis=0)
    distances = squared_distances(points, points)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argpartition(distances, AGREEMENT_NEIGHBORS, axis=1)[:, :AGREEMENT_NEIGHBORS]
    return nearest.astype(np.int64)
