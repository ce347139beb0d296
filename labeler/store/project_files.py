"""Every path inside a project folder, and the files a round leaves in its folder.

The one module that knows the layout of a project folder (``docs/formats.md``); everyone else
asks it for a path or for what a round wrote:

- ``project.json`` (``PROJECT_FILE``), ``project.sqlite`` (``DATABASE_NAME``) and the packed
  images ``pool_images.npy`` (``IMAGES_FILE``);
- ``rounds/round-NNNN/``: one folder a round (``RoundFolder``): the trained model
  (``model.pt``), the trimmed model it scored with when pruned (``scoring-model.pt``), the
  report (``report.json``), and row for row over the scored images their ids
  (``scored_ids.npy``), acquisition scores (``scores.npy``), the model's guesses
  (``guesses.npy``) and their confidences (``confidences.npy``), and the stop set's ids and
  guesses for the stop meter (``stop_ids.npy``, ``stop_guesses.npy``);
- ``features/``: cached penultimate features of a frozen backbone;
- ``embeddings/``: cached embeddings of every sample (``<kind>-<key>.npy``, float32
  ``[n_samples, dim]``, with what they were computed from in ``<kind>-<key>.json``);
- ``map/layout.npz``: the 2-D map of the pool the dashboard draws (``PoolMap``);
- ``pruning/pruned.pt``: the trimmed model ``labeler prune apply`` chose;
- ``server/``: the annotation server's instance folder (secret key, config, round logs, the
  Label Studio lock).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from generators.checks import check_int
from labeler.store.atomic_files import atomic_path, save_npy_atomic, write_json_atomic
from labeler.store.schema import DATABASE_NAME

PROJECT_FILE = "project.json"
IMAGES_FILE = "pool_images.npy"
ROUNDS_FOLDER = "rounds"
FEATURES_FOLDER = "features"
EMBEDDINGS_FOLDER = "embeddings"
# Hex digits of the key in an embedding's file name (a digest of what it was computed from).
EMBEDDING_KEY_LENGTH = 16
# An embedding's file: <kind>-<key>.npy; kinds are lowercase words joined by "_" or "-".
_EMBEDDING_NAME = re.compile(
    rf"(?P<kind>[a-z0-9][a-z0-9_-]*)-(?P<key>[0-9a-f]{{{EMBEDDING_KEY_LENGTH}}})\.npy"
)
_EMBEDDING_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAP_FOLDER = "map"
MAP_FILE = "layout.npz"
PRUNING_FOLDER = "pruning"
PRUNED_CHECKPOINT_FILE = "pruned.pt"
SERVER_FOLDER = "server"
LABEL_STUDIO_LOCK_FILE = "labelstudio.lock"
# The files of a round folder (rounds/round-NNNN/).
CHECKPOINT_FILE = "model.pt"
# The trimmed model a round scored with, when it did not score with its own (prune apply).
SCORING_CHECKPOINT_FILE = "scoring-model.pt"
# A round's linear head on an embedding (``labeler.learning.linear_head``), when one learned.
HEAD_FILE = "head.npz"
REPORT_FILE = "report.json"
SCORES_FILE = "scores.npy"
SCORED_IDS_FILE = "scored_ids.npy"
GUESSES_FILE = "guesses.npy"
CONFIDENCES_FILE = "confidences.npy"
# Out-of-fold probabilities of the labeled samples (labeler.learning.out_of_fold), for label
# checks: sample ids int64 [n] and probabilities float32 [n, n_classes], row for row.
OUT_OF_FOLD_IDS_FILE = "out_of_fold_ids.npy"
OUT_OF_FOLD_PROBS_FILE = "out_of_fold_probs.npy"
STOP_IDS_FILE = "stop_ids.npy"
STOP_GUESSES_FILE = "stop_guesses.npy"
# The batch's audit slice and the round's guesses for it (labeler.selection.accuracy_estimate).
AUDIT_IDS_FILE = "audit_ids.npy"
AUDIT_GUESSES_FILE = "audit_guesses.npy"
# Files an interrupted init may leave; init clears a folder holding only these (no project.json).
INIT_FILES = (IMAGES_FILE, DATABASE_NAME, f"{DATABASE_NAME}-wal", f"{DATABASE_NAME}-shm")


def get_project_file(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / PROJECT_FILE


def get_database_file(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / DATABASE_NAME


def get_images_file(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / IMAGES_FILE


def get_rounds_folder(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / ROUNDS_FOLDER


def get_round_folder(project_path: str | os.PathLike[str], round_id: int) -> Path:
    """The folder of round ``round_id`` (``rounds/round-0001``); not created here."""
    round_id = check_int("round id", round_id, low=1)
    return get_rounds_folder(project_path) / f"round-{round_id:04d}"


def get_features_folder(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / FEATURES_FOLDER


def get_embeddings_folder(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / EMBEDDINGS_FOLDER


@dataclass(frozen=True)
class EmbeddingFile:
    """An embedding's files in ``embeddings/``: the array ``path`` (``<kind>-<key>.npy``) and
    ``info_path`` (``<kind>-<key>.json``, what it was computed from)."""

    kind: str
    key: str
    path: Path

    @property
    def info_path(self) -> Path:
        return self.path.with_suffix(".json")

    def write(self, vectors: NDArray[np.float32], info: dict[str, Any]) -> None:
        """Write the array, then its info (each atomically; the folder is made if needed)."""
        self.path.parent.mkdir(exist_ok=True)
        save_npy_atomic(self.path, vectors)
        write_json_atomic(self.info_path, info)

    def read(self) -> NDArray[np.float32] | None:
        """The float32 ``[n_samples, dim]`` array, memory-mapped (read-only), or None when it
        is missing, unreadable or not a float32 2-d array."""
        try:
            array = np.load(self.path, mmap_mode="r")
        except (OSError, ValueError):
            return None
        if array.dtype != np.float32 or array.ndim != 2:
            return None
        vectors: NDArray[np.float32] = array
        return vectors

    def read_info(self) -> dict[str, Any] | None:
        """What the embedding was computed from, or None when missing or unreadable."""
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def remove(self) -> None:
        """Delete both files (those missing are skipped)."""
        for path in (self.path, self.info_path):
            path.unlink(missing_ok=True)


def get_embedding_file(project_path: str | os.PathLike[str], kind: str, key: str) -> EmbeddingFile:
    """The files of embedding ``kind`` (lowercase letters, digits, ``_`` and ``-``) with
    ``key`` (``EMBEDDING_KEY_LENGTH`` hex digits); not created here."""
    if not _EMBEDDING_KIND.fullmatch(kind):
        raise ValueError(f"bad embedding kind {kind!r}: use lowercase letters, digits, '_' and '-'")
    if not re.fullmatch(f"[0-9a-f]{{{EMBEDDING_KEY_LENGTH}}}", key):
        raise ValueError(f"bad embedding key {key!r}: {EMBEDDING_KEY_LENGTH} hex digits expected")
    path = get_embeddings_folder(project_path) / f"{kind}-{key}.npy"
    return EmbeddingFile(kind, key, path)


def list_embedding_files(project_path: str | os.PathLike[str]) -> list[EmbeddingFile]:
    """The embeddings cached in a project, by kind then key (temporary files left out)."""
    folder = get_embeddings_folder(project_path)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _EMBEDDING_NAME.fullmatch(path.name)
        if match and path.is_file():
            found.append(EmbeddingFile(match["kind"], match["key"], path))
    return sorted(found, key=lambda file: (file.kind, file.key))


@dataclass(frozen=True)
class PoolMap:
    """A 2-D map of the pool: ``xy`` float32 ``[n, 2]`` in [0, 1] for the samples ``ids``
    int64 ``[n]`` (row for row), and ``info``: the embedding and method it came from, its
    seconds and when it was made (``labeler map``)."""

    ids: NDArray[np.int64]
    xy: NDArray[np.float32]
    info: dict[str, Any]


def get_map_file(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / MAP_FOLDER / MAP_FILE


def write_pool_map(project_path: str | os.PathLike[str], pool_map: PoolMap) -> None:
    """Write the map as one file, atomically: a reader sees the old map or the new one."""
    path = get_map_file(project_path)
    path.parent.mkdir(exist_ok=True)
    with atomic_path(path) as temp, open(temp, "wb") as file:
        np.savez(
            file,
            ids=pool_map.ids.astype(np.int64),
            xy=pool_map.xy.astype(np.float32),
            info=np.array(json.dumps(pool_map.info)),
        )


def read_pool_map(project_path: str | os.PathLike[str]) -> PoolMap | None:
    """The project's map, or None when there is none (or it cannot be read)."""
    try:
        with np.load(get_map_file(project_path), allow_pickle=False) as data:
            ids, xy = data["ids"].astype(np.int64), data["xy"].astype(np.float32)
            info = json.loads(str(data["info"]))
    except (OSError, ValueError, KeyError):
        return None
    if xy.shape != (len(ids), 2) or not isinstance(info, dict):
        return None
    return PoolMap(ids, xy, info)


def get_pruning_folder(project_path: str | os.PathLike[str]) -> Path:
    """Where ``labeler prune`` writes its reports and models by default (a dataset folder has
    one too, for pruning studies outside a project)."""
    return Path(project_path) / PRUNING_FOLDER


def get_pruned_checkpoint(project_path: str | os.PathLike[str]) -> Path:
    return get_pruning_folder(project_path) / PRUNED_CHECKPOINT_FILE


def get_server_folder(project_path: str | os.PathLike[str]) -> Path:
    return Path(project_path) / SERVER_FOLDER


def get_label_studio_lock(project_path: str | os.PathLike[str]) -> Path:
    return get_server_folder(project_path) / LABEL_STUDIO_LOCK_FILE


@dataclass(frozen=True)
class RoundPredictions:
    """What a round predicted for the images it scored, row for row: ``scored_ids`` int64
    ``[n]``, acquisition ``scores`` float64 ``[n]`` (higher = more informative), the model's
    ``guesses`` int64 ``[n]`` (class indexes) and ``confidences`` float64 ``[n]`` in [0, 1]."""

    scored_ids: NDArray[np.int64]
    scores: NDArray[np.float64]
    guesses: NDArray[np.int64]
    confidences: NDArray[np.float64]


@dataclass(frozen=True)
class RoundFolder:
    """A round's folder (final, or the temporary one a round writes before renaming it)."""

    path: Path

    @classmethod
    def of(cls, project_path: str | os.PathLike[str], folder: str | None) -> RoundFolder | None:
        """The folder a round record names (relative to the project), or None when the round
        has none (an initial random round)."""
        return None if not folder else cls(Path(project_path) / folder)

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def scoring_checkpoint(self) -> Path:
        return self.path / SCORING_CHECKPOINT_FILE

    @property
    def head(self) -> Path:
        return self.path / HEAD_FILE

    def write_predictions(self, predictions: RoundPredictions) -> None:
        save_npy_atomic(self.path / SCORED_IDS_FILE, predictions.scored_ids)
        save_npy_atomic(self.path / SCORES_FILE, predictions.scores)
        save_npy_atomic(self.path / GUESSES_FILE, predictions.guesses)
        save_npy_atomic(self.path / CONFIDENCES_FILE, predictions.confidences)

    def read_predictions(self) -> RoundPredictions | None:
        """What the round predicted, or None when its files are missing or unreadable (a
        round from before guesses were kept)."""
        try:
            arrays = [
                np.load(self.path / name)
                for name in (SCORED_IDS_FILE, SCORES_FILE, GUESSES_FILE, CONFIDENCES_FILE)
            ]
        except (OSError, ValueError):
            return None
        if len({array.shape for array in arrays}) != 1:
            return None
        ids, scores, guesses, confidences = arrays
        return RoundPredictions(
            ids.astype(np.int64),
            scores.astype(np.float64),
            guesses.astype(np.int64),
            confidences.astype(np.float64),
        )

    def read_guesses(self) -> dict[int, tuple[int, float]]:
        """The model's guess for each scored sample that annotators may see, ``{sample_id:
        (class, confidence)}``; empty when the round kept none. The batch's audit slice is
        left out: its labels measure the model, so nobody labeling it is shown the guess (the
        page, grids and Label Studio's predictions all read this)."""
        predictions = self.read_predictions()
        if predictions is None:
            return {}
        audit = self.read_audit()
        hidden = set() if audit is None else set(audit[0].tolist())
        return {
            int(sample): (int(guess), float(confidence))
            for sample, guess, confidence in zip(
                predictions.scored_ids, predictions.guesses, predictions.confidences, strict=True
            )
            if int(sample) not in hidden
        }

    def write_out_of_fold(self, sample_ids: NDArray[np.int64], probs: NDArray[np.float32]) -> None:
        save_npy_atomic(self.path / OUT_OF_FOLD_IDS_FILE, sample_ids)
        save_npy_atomic(self.path / OUT_OF_FOLD_PROBS_FILE, probs)

    def read_out_of_fold(self) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
        """``(sample_ids, probs)`` the round wrote for label checks, or None when it wrote
        none (a CNN round, too few labels, a round from before they were kept)."""
        try:
            ids = np.load(self.path / OUT_OF_FOLD_IDS_FILE)
            probs = np.load(self.path / OUT_OF_FOLD_PROBS_FILE)
        except (OSError, ValueError):
            return None
        if probs.ndim != 2 or ids.shape != (probs.shape[0],):
            return None
        return ids.astype(np.int64), probs.astype(np.float64)

    def write_stop_guesses(self, sample_ids: NDArray[np.int64], guesses: NDArray[np.int64]) -> None:
        self._write_guesses(STOP_IDS_FILE, STOP_GUESSES_FILE, sample_ids, guesses)

    def read_stop_guesses(self) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
        """``(sample_ids, guesses)``: the round's classes for the stop set (the stop meter's),
        or None when it wrote none."""
        return self._read_guesses(STOP_IDS_FILE, STOP_GUESSES_FILE)

    def write_audit(self, sample_ids: NDArray[np.int64], guesses: NDArray[np.int64]) -> None:
        self._write_guesses(AUDIT_IDS_FILE, AUDIT_GUESSES_FILE, sample_ids, guesses)

    def read_audit(self) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
        """``(sample_ids, guesses)``: the batch's audit slice (drawn at random) and the round's
        classes for it, or None when the round drew none."""
        return self._read_guesses(AUDIT_IDS_FILE, AUDIT_GUESSES_FILE)

    def _write_guesses(
        self,
        ids_name: str,
        guesses_name: str,
        sample_ids: NDArray[np.int64],
        guesses: NDArray[np.int64],
    ) -> None:
        save_npy_atomic(self.path / ids_name, sample_ids)
        save_npy_atomic(self.path / guesses_name, guesses)

    def _read_guesses(
        self, ids_name: str, guesses_name: str
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]] | None:
        try:
            ids = np.load(self.path / ids_name)
            guesses = np.load(self.path / guesses_name)
        except (OSError, ValueError):
            return None
        if ids.ndim != 1 or ids.shape != guesses.shape:
            return None
        return ids.astype(np.int64), guesses.astype(np.int64)

    def write_report(self, report: dict[str, Any]) -> None:
        write_json_atomic(self.path / REPORT_FILE, report)

    def read_report(self) -> dict[str, Any] | None:
        """The round's report, or None when it is missing or unreadable."""
        try:
            report = json.loads((self.path / REPORT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return report if isinstance(report, dict) else None
