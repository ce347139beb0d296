"""Helpers of the dataset-folder tests: a fake-family folder written, a folder read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generators.family import Family
from labeler.data.dataset_writer import write_dataset


def write_fake(out: Path, family: Family, **options: Any) -> Any:
    options = {"n_per_split": {"train": 24, "test": 8}, "seed": 0, "chunk_size": 8} | options
    params = options.pop("params", family.make_params("a"))
    return write_dataset(out, family, "a", params, **options)


def read_tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
