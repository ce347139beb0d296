"""Which embedding ``auto`` reads first: the joint one, or the pretrained features alone.

The first embedding in ``auto``'s order of preference is the one the first batch's coverage
picks read, and the head used while some class has a single label (nothing can be
cross-validated). Once labels allow, cross-validation chooses among them all
(``labeler.learning.learner_choice``); this choice is for the labels before that.

The joint embedding (``labeler.learning.joint_embedding``) puts the pixels' PCA beside the
pretrained features. That helps where distances between raw pixels mean something, as on
scans of centred glyphs, and dilutes the features where they do not, as where objects lie
anywhere in the image or classes differ by colour. No label is needed to tell these apart:
where the pixels carry the images' content, the two embeddings agree on which images are
alike. ``get_neighbour_agreement`` measures that agreement: the share of each image's
``N_NEIGHBOURS`` nearest neighbours under one embedding that are also among them under the
other, corrected for chance. When the pretrained part and the others agree less than
``MIN_AGREEMENT``, the pretrained features alone go first.

Measured (``bench/results/first_labels.md`` and scikit-learn's digits, pools of 1,257 to
2,158 images): agreement 0.55 on the font glyphs and 0.30 on the digits, where the joint
embedding first was about 17 points more accurate at 1 label per class (0.691 against 0.522
on the glyphs); 0.02 to 0.09 on counting, the colour folder, orientation and SVRT 4 and 11,
where the pretrained features first were more accurate at 1 or 2 labels per class on four
of the five (SVRT 4: 0.803 against 0.545 at 1) and less on SVRT 11.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from labeler.learning.joint_embedding import split_joint_name

N_NEIGHBOURS = 10
# Agreement is measured on at most this many images (a seeded sample): the figures above were
# measured on pools of this size, and a 100,000-image pool costs no more than a 2,000 one.
MAX_ROWS = 2000
# Between the two groups measured (module docstring): 0.09 and 0.30 are each about twice away.
MIN_AGREEMENT = 0.15
_SAMPLE_SEED = 0


def get_neighbour_agreement(
    first: NDArray[np.floating],
    second: NDArray[np.floating],
    *,
    n_neighbours: int = N_NEIGHBOURS,
    max_rows: int = MAX_ROWS,
) -> float:
    """How far two embeddings of the same images (``[n_images, dim]`` each, row for row) agree
    on each image's ``n_neighbours`` nearest others (Euclidean): the mean share of them that
    both hold, rescaled so that chance (``n_neighbours / (n - 1)``) gives 0 and the same
    neighbours give 1. Over a seeded sample of ``max_rows`` images when there are more.
    ValueError when the row counts differ or there are no more than ``n_neighbours + 1``
    images."""
    if first.shape[0] != second.shape[0]:
        raise ValueError(
            f"the embeddings must hold the same images, got {first.shape[0]} and "
            f"{second.shape[0]} rows"
        )
    n_rows = int(first.shape[0])
    if n_rows <= n_neighbours + 1:
        raise ValueError(
            f"agreement on {n_neighbours} neighbours needs more than {n_neighbours + 1} images, "
            f"got {n_rows}"
        )
    rows: NDArray[np.int64] = np.arange(n_rows, dtype=np.int64)
    if n_rows > max_rows:
        rows = np.sort(np.random.default_rng(_SAMPLE_SEED).choice(n_rows, max_rows, replace=False))
    near_first = get_nearest_neighbours(first[rows], n_neighbours)
    near_second = get_nearest_neighbours(second[rows], n_neighbours)
    shared = (near_first[:, :, None] == near_second[:, None, :]).any(axis=2).sum(axis=1)
    chance = n_neighbours / (rows.shape[0] - 1)
    return float((np.mean(shared) / n_neighbours - chance) / (1.0 - chance))


def get_nearest_neighbours(vectors: NDArray[np.floating], n_neighbours: int) -> NDArray[np.int64]:
    """Int ``[n, n_neighbours]``: each row's nearest other rows by Euclidean distance, in no
    particular order."""
    rows = np.asarray(vectors, dtype=np.float64)
    norms = np.einsum("ij,ij->i", rows, rows)
    distances = norms[:, None] + norms[None, :] - 2.0 * (rows @ rows.T)
    np.fill_diagonal(distances, np.inf)
    return np.argpartition(distances, n_neighbours, axis=1)[:, :n_neighbours].astype(np.int64)


def order_by_agreement(
    names: list[str], vectors: Mapping[str, NDArray[np.floating]]
) -> tuple[list[str], str]:
    """``(names, note)``: ``names`` (embeddings in ``auto``'s order of preference, e.g.
    ``get_auto_preference``'s) with the first part of a joint first embedding moved ahead of
    it when the other parts agree with it less than ``MIN_AGREEMENT``
    (``get_neighbour_agreement``), and one sentence saying why. ``vectors`` holds each part's
    vectors of the same images (more rows are fine: a sample is measured)."""
    if not names:
        return names, "no embedding"
    parts = split_joint_name(names[0])
    if len(parts) < 2:
        return names, f"{names[0]} first: the only embedding"
    lead, others = parts[0], parts[1:]
    try:
        agreements = {
            part: get_neighbour_agreement(vectors[lead], vectors[part]) for part in others
        }
    except ValueError as error:
        return names, f"{names[0]} first: agreement not measured ({error})"
    measured = ", ".join(f"{part} {value:.2f}" for part, value in agreements.items())
    if min(agreements.values()) >= MIN_AGREEMENT:
        return names, (
            f"{names[0]} first: the neighbours of {lead} and the other parts agree "
            f"({measured}; at least {MIN_AGREEMENT:g})"
        )
    ordered = [lead, *(name for name in names if name != lead)]
    return ordered, (
        f"{lead} first: the neighbours of {lead} and the other parts of {names[0]} agree "
        f"too little to join them ({measured}; below {MIN_AGREEMENT:g})"
    )
