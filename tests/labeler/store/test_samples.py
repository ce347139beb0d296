"""Samples: found by id or by path."""

from __future__ import annotations

import pytest

from labeler.store.database import (
    ProjectStore,
)
from tests.labeler.store.store_data import (
    N_POOL,
)


def test_find_sample_by_id_or_path(store: ProjectStore) -> None:
    assert store.find_sample("5").id == 5
    assert store.find_sample(5).path == "pool/005.png"
    assert store.find_sample("test/002.png").id == N_POOL + 2
    with pytest.raises(ValueError, match=r"no sample has the path 'nope\.png'"):
        store.find_sample("nope.png")
    with pytest.raises(ValueError, match="no sample 16"):
        store.find_sample("16")
