"""What one app holds while it runs: the open project, the image cache, the login throttle
and the round runner. It lives in ``app.extensions``; there are no module-level globals."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from labeler.store.database import ProjectStore
from labeler.store.project import Project
from labeler.store.project_files import RoundFolder
from server.images import ImageCache
from server.map_runner import MapRunner
from server.round_runner import RoundRunner
from server.throttle import LoginThrottle

EXTENSION_KEY = "labeler"


@dataclass
class ModelGuesses:
    """The model's guess for each scored sample of one round: ``{sample_id: (class, conf)}``."""

    round_id: int | None
    by_sample: dict[int, tuple[int, float]]
    _ranked: dict[int, list[int]] | None = None

    def rank_by_class(self) -> dict[int, list[int]]:
        """``{class: sample ids the model puts in it, most confident first}`` (worked out
        once per round: grid labeling asks for it on every grid)."""
        if self._ranked is None:
            ranked: dict[int, list[tuple[float, int]]] = {}
            for sample, (guess, confidence) in self.by_sample.items():
                ranked.setdefault(guess, []).append((-confidence, sample))
            self._ranked = {guess: [s for _, s in sorted(pairs)] for guess, pairs in ranked.items()}
        return self._ranked

    def get_confidence(self, sample: int) -> float:
        """The model's confidence in its guess for ``sample`` (a scored sample)."""
        return self.by_sample[sample][1]


@dataclass
class ServerState:
    project: Project
    images: ImageCache
    throttle: LoginThrottle
    rounds: RoundRunner
    maps: MapRunner
    lease_seconds: float
    max_tasks_per_call: int
    _guesses: ModelGuesses = field(default_factory=lambda: ModelGuesses(None, {}))
    _guesses_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> ProjectStore:
        return self.project.store

    def get_guesses(self) -> dict[int, tuple[int, float]]:
        """The last done round's guesses, ``{sample_id: (class index, confidence)}``."""
        return self.get_model_guesses().by_sample

    def get_model_guesses(self) -> ModelGuesses:
        """The last done round and its guesses, read together (a round finishing meanwhile
        cannot pair one round's id with another's guesses)."""
        last = self.store.get_last_done_round()
        round_id = None if last is None else last.id
        with self._guesses_lock:
            if self._guesses.round_id != round_id:
                folder = None if last is None else RoundFolder.of(self.project.path, last.folder)
                guesses = {} if folder is None else folder.read_guesses()
                self._guesses = ModelGuesses(round_id, guesses)
            return self._guesses

    def close(self) -> None:
        self.project.close()


def get_state() -> ServerState:
    """The state of the app handling the current request."""
    state: ServerState = current_app.extensions[EXTENSION_KEY]
    return state
