"""Which embeddings ``--model auto`` puts linear heads on, and in which order.

Pixels (a PCA, computed in a second) always; the pretrained ``efficientnet_lite0`` features
when the extra that ships its weights is installed and computing them is affordable: they are
cached already, a GPU is there, or the images number at most ``AUTO_EMBED_LIMIT`` (about 35 s
per 1,000 on one core, bench/results/embeddings.md: a first round then waits at most about
three minutes). Larger pools get them from ``labeler embed PROJECT --kind efficientnet_lite0``.
With two kinds or more, their joint embedding (``labeler.learning.joint_embedding``) comes
first: ``get_auto_preference``.
"""

from __future__ import annotations

from collections.abc import Callable

from labeler.learning.embedding_kinds import get_embedding_kind
from labeler.learning.joint_embedding import get_joint_name

AUTO_EMBED_LIMIT = 5000
# In order of preference: the first is taken when no fold can test a class (a class of one
# label), and read by coverage picks before any head is chosen.
AUTO_EMBEDDINGS = ("efficientnet_lite0", "pixels")
# Embeddings every machine computes in seconds, whatever the pool.
CHEAP_EMBEDDINGS = ("pixels",)


def choose_auto_embeddings(
    n_images: int, *, on_gpu: bool, is_cached: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """``(kinds, notes)``: the embeddings ``auto`` uses for ``n_images`` images, in order of
    preference, and why any other of ``AUTO_EMBEDDINGS`` was left out. ``is_cached(kind)``
    says whether that kind's vectors of these images are already computed."""
    kinds, notes = [], []
    for kind in AUTO_EMBEDDINGS:
        if kind in CHEAP_EMBEDDINGS:
            kinds.append(kind)
            continue
        try:
            get_embedding_kind(kind).get_key_parts()
        except ValueError as error:
            notes.append(f"{kind} left out: {error}")
            continue
        if on_gpu or n_images <= AUTO_EMBED_LIMIT or is_cached(kind):
            kinds.append(kind)
        else:
            notes.append(
                f"{kind} left out: {n_images} images, over the {AUTO_EMBED_LIMIT} embedded "
                f"uncached on a CPU; `labeler embed PROJECT --kind {kind}` computes it once"
            )
    return kinds, notes


def get_auto_preference(kinds: list[str]) -> list[str]:
    """The embeddings ``auto`` puts heads on, in order of preference: the joint embedding of
    ``kinds`` first when there are two or more, then each kind."""
    return [get_joint_name(kinds), *kinds] if len(kinds) > 1 else list(kinds)
