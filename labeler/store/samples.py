"""The project's samples, classes and free-form facts (``meta``), and the checks of what a new
project is made of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from generators.checks import check_optional_int
from labeler.store.core import SPLITS, StoreCore, check_split, pairs_to_arrays
from labeler.store.records import Ids, NewSample, Sample


class SampleCatalog(StoreCore):
    """Reading the samples (which never change after creation) and the meta facts."""

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """The meta value stored under ``key``, or ``default`` when there is none."""
        row = self._query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing an old value)."""
        ((key, value),) = check_meta({key: value})
        with self._transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def get_samples(self, split: str | None = None) -> list[Sample]:
        """All samples (or those of ``split``), by id."""
        sql = "SELECT id, path, split, known_label FROM samples"
        params: tuple[Any, ...] = ()
        if split is not None:
            sql += " WHERE split = ?"
            params = (check_split(split),)
        return [Sample(*row) for row in self._query(sql + " ORDER BY id", params)]

    def get_sample(self, sample_id: int) -> Sample:
        """The sample with id ``sample_id``; ValueError naming the valid range if none."""
        index = self._check_sample_id(sample_id)
        row = self._query_one(
            "SELECT id, path, split, known_label FROM samples WHERE id = ?", (index,)
        )
        assert row is not None  # ids are 0 .. n_samples - 1
        return Sample(*row)

    def find_sample(self, ref: str | int) -> Sample:
        """The sample named by ``ref``: an id (int, or a string of digits) or its path.

        Raises ValueError naming ``ref`` when no sample matches.
        """
        if isinstance(ref, str) and not ref.strip().isdigit():
            row = self._query_one(
                "SELECT id, path, split, known_label FROM samples WHERE path = ?", (ref,)
            )
            if row is None:
                raise ValueError(
                    f"no sample has the path {ref!r}; give a sample id (0 to "
                    f"{self.n_samples - 1}) or a path as the project lists it"
                )
            return Sample(*row)
        return self.get_sample(int(ref))

    def get_known_labels(self, split: str | None = None) -> tuple[Ids, Ids]:
        """``(sample_ids, labels)`` of the samples of ``split`` (or all) whose label the
        source knew; int64 ``[n]`` each, by ascending id."""
        sql = "SELECT id, known_label FROM samples WHERE known_label IS NOT NULL"
        params: tuple[Any, ...] = ()
        if split is not None:
            sql += " AND split = ?"
            params = (check_split(split),)
        return pairs_to_arrays(self._query(sql + " ORDER BY id", params))

    # --- labels --------------------------------------------------------------------------


def check_class_name(name: Any) -> str:
    """Return ``name`` if it can name a class (also as a folder name); else raise ValueError."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(
            f"class name {name!r} must be a non-empty string without surrounding spaces"
        )
    if name in (".", "..") or any(char in name for char in "/\\,") or not name.isprintable():
        raise ValueError(
            f"class name {name!r} may not be '.' or '..' nor hold '/', '\\', ',' or "
            "control characters (it names a folder and a --classes item)"
        )
    return name


def check_class_names(class_names: Sequence[str]) -> tuple[str, ...]:
    """Return ``class_names`` as a tuple of at least 2 unique valid names, or raise ValueError."""
    if isinstance(class_names, str):
        raise ValueError(f"class_names must be a sequence of names, got the string {class_names!r}")
    names = tuple(check_class_name(name) for name in class_names)
    if len(names) < 2:
        raise ValueError(f"a project needs at least 2 classes, got {list(names)}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"class names must be unique; repeated: {', '.join(duplicates)}")
    return names


def check_new_samples(
    samples: Sequence[NewSample], *, n_classes: int
) -> list[tuple[str, str, int | None]]:
    """``samples`` as ``(path, split, known_label)`` rows, or a ValueError naming the first
    bad one (its index, and its path where it has one)."""
    rows: list[tuple[str, str, int | None]] = []
    seen: set[str] = set()
    for index, sample in enumerate(samples):
        if not isinstance(sample.path, str) or not sample.path:
            raise ValueError(f"sample {index}: path must be a non-empty string")
        if sample.path in seen:
            raise ValueError(f"sample {index}: the path {sample.path!r} is listed twice")
        seen.add(sample.path)
        if sample.split not in SPLITS:
            raise ValueError(
                f"sample {index} ({sample.path}): unknown split {sample.split!r}; "
                f"the splits are: {', '.join(SPLITS)}"
            )
        label = check_optional_int(f"sample {index}: known_label", sample.known_label)
        if label is not None and not 0 <= label < n_classes:
            raise ValueError(
                f"sample {index} ({sample.path}): known_label {label} is not a class "
                f"index (0 to {n_classes - 1})"
            )
        rows.append((sample.path, sample.split, label))
    return rows


def check_meta(meta: Mapping[str, str]) -> list[tuple[str, str]]:
    """``meta`` as ``(key, value)`` pairs of non-empty string keys and string values."""
    items = []
    for key, value in meta.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"meta keys must be non-empty strings, got {key!r}")
        if not isinstance(value, str):
            raise ValueError(f"meta value of {key!r} must be a string, got {value!r}")
        items.append((key, value))
    return items
