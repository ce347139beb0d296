"""What one app holds while it runs: the open project, the image cache, the login throttle
and the round runner. It lives in ``app.extensions``; there are no module-level globals."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flask import current_app

from labeler.store.database import ProjectStore
from labeler.store.project import CONFIDENCES_FILE, GUESSES_FILE, SCORED_IDS_FILE, Project
from server.images import ImageCache
from server.round_runner import RoundRunner
from server.throttle import LoginThrottle

EXTENSION_KEY = "labeler"


@dataclass
class ModelGuesses:
    """The model's guess for each scored sample of one round: ``{sample_id: (class, conf)}``."""

    round_id: int | None
    by_sample: dict[int, tuple[int, float]]


@dataclass
class ServerState:
    project: Project
    images: ImageCache
    throttle: LoginThrottle
    rounds: RoundRunner
    lease_seconds: float
    max_tasks_per_call: int
    _guesses: ModelGuesses = field(default_factory=lambda: ModelGuesses(None, {}))
    _guesses_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> ProjectStore:
        return self.project.store

    def get_guesses(self) -> dict[int, tuple[int, float]]:
        """The last done round's guesses, ``{sample_id: (class index, confidence)}``."""
        last = self.store.get_last_done_round()
        round_id = None if last is None else last.id
        with self._guesses_lock:
            if self._guesses.round_id != round_id:
                folder = None if last is None or last.folder is None else last.folder
                self._guesses = ModelGuesses(round_id, load_guesses(self.project.path, folder))
            return self._guesses.by_sample

    def close(self) -> None:
        self.project.close()


def get_state() -> ServerState:
    """The state of the app handling the current request."""
    state: ServerState = current_app.extensions[EXTENSION_KEY]
    return state


def load_guesses(project_path: Path, folder: str | None) -> dict[int, tuple[int, float]]:
    """A round folder's guesses (an initial random round, or an older one, has none)."""
    if folder is None:
        return {}
    round_folder = project_path / folder
    try:
        ids = np.load(round_folder / SCORED_IDS_FILE)
        guesses = np.load(round_folder / GUESSES_FILE)
        confidences = np.load(round_folder / CONFIDENCES_FILE)
    except (OSError, ValueError):
        return {}
    return {
        int(sample): (int(guess), float(confidence))
        for sample, guess, confidence in zip(ids, guesses, confidences, strict=True)
    }
