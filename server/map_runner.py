"""The pool map made in the background: a separate ``labeler map`` process, started when the
dashboard asks for a map that is missing or was made from another embedding than the best one
cached now (a round may have cached a better one)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from server.round_runner import read_last_line


class MapRunner:
    """Runs ``labeler map`` for the project at ``project_path``, one at a time; its log goes
    to ``log_folder``. ``command``: the program (default ``python -m labeler.cli map``)."""

    def __init__(
        self, project_path: Path, log_folder: Path, *, command: list[str] | None = None
    ) -> None:
        self._project_path = project_path
        self._log_folder = log_folder
        self._command = command or [sys.executable, "-m", "labeler.cli", "map"]
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._started_at: float | None = None
        self._embedding: str | None = None

    def start(self, embedding: str) -> None:
        """Start making the map from ``embedding`` unless a map job is running already."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            self._log_folder.mkdir(parents=True, exist_ok=True)
            self._log_path = self._log_folder / f"map-{time.strftime('%Y%m%d-%H%M%S')}.log"
            with open(self._log_path, "ab") as log:
                self._process = subprocess.Popen(
                    [*self._command, str(self._project_path), "--embedding", embedding],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                    start_new_session=True,
                )
            self._started_at = time.time()
            self._embedding = embedding

    def get_status(self) -> dict[str, Any] | None:
        """The last map job started here (None: none), with its state and last log line."""
        with self._lock:
            if self._process is None or self._log_path is None:
                return None
            code = self._process.poll()
            state = "running" if code is None else ("done" if code == 0 else "failed")
            return {
                "state": state,
                "embedding": self._embedding,
                "started_at": self._started_at,
                "last_line": read_last_line(self._log_path),
            }

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the running job (tests, shutdown); its exit code, None if none ran."""
        process = self._process
        return None if process is None else process.wait(timeout)
