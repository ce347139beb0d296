"""The store fixture: a fresh project database of ``store_data``'s classes and samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeler.store.database import DATABASE_NAME, ProjectStore
from tests.labeler.store.store_data import CLASSES, make_samples


@pytest.fixture
def store(tmp_path: Path):
    with ProjectStore.create(
        tmp_path / DATABASE_NAME,
        class_names=CLASSES,
        samples=make_samples(),
        meta={"owner": "tests"},
    ) as opened:
        yield opened
