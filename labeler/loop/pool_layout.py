"""Making the dashboard's map of the pool: which embedding, which layout, and the cached file.

The map is made from the best embedding already cached (the pretrained backbone's, else the
pixels', which any machine computes in seconds), so that asking for a map never starts an
hour of embedding; ``labeler embed`` makes a better one first where wanted.
"""

from __future__ import annotations

import time

from labeler.learning.embeddings import get_embedding, is_embedding_cached
from labeler.learning.pool_map import compute_layout
from labeler.store.project import Project
from labeler.store.project_files import PoolMap, write_pool_map

# In order of preference; the last is computed when none is cached.
MAP_EMBEDDINGS = ("efficientnet_lite0", "pixels")


def find_cached_map_embedding(project: Project) -> str | None:
    """The first of ``MAP_EMBEDDINGS`` already cached (a kind that cannot run here never is),
    or None."""
    return next((kind for kind in MAP_EMBEDDINGS if is_embedding_cached(project, kind)), None)


def choose_map_embedding(project: Project) -> str:
    """The first of ``MAP_EMBEDDINGS`` already cached, else the cheapest."""
    return find_cached_map_embedding(project) or MAP_EMBEDDINGS[-1]


def make_pool_map(
    project: Project,
    *,
    embedding: str = "auto",
    method: str = "auto",
    seed: int = 0,
    n_threads: int = 1,
    progress: bool = True,
) -> PoolMap:
    """Lay the pool's samples out in 2-D from ``embedding`` (``auto``: ``choose_map_embedding``)
    with ``method`` (``labeler.learning.pool_map.MAP_METHODS``) and cache the map."""
    kind = choose_map_embedding(project) if embedding == "auto" else embedding
    vectors = get_embedding(project, kind, progress=progress, n_threads=n_threads).vectors
    ids = project.store.get_sample_ids("pool")
    layout = compute_layout(vectors[ids], method, seed=seed, n_threads=n_threads)
    info = {
        "embedding": kind,
        "method": layout.method,
        "n": len(ids),
        "seconds": round(layout.seconds, 3),
        "seed": seed,
        "created_at": time.time(),
    }
    pool_map = PoolMap(ids, layout.xy, info)
    write_pool_map(project.path, pool_map)
    return pool_map
