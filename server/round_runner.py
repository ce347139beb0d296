"""Rounds started from the dashboard: a separate ``labeler round`` process, so that training
never blocks labeling; its output goes to a log file that the dashboard reads for progress.

Only one round runs at a time: this runner refuses a second while its own is alive, and the
project's round lock refuses one started anywhere else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# Enough for a large team between rounds: 60 annotators at a label a second label 18,000
# images in five minutes.
MAX_QUERY_SIZE = 100_000
# Bytes of the log's end read for the progress line.
_TAIL_BYTES = 4096


@dataclass
class RoundJob:
    """One round process; ``exit_code`` is None while it runs."""

    strategy: str
    query_size: int
    started_by: str
    started_at: float
    log_path: Path
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    finished_at: float | None = None
    exit_code: int | None = None


class RoundRunner:
    """Starts rounds of the project at ``project_path``; logs go to ``log_folder``.

    ``command``: the program that runs a round (default ``python -m labeler.cli round``); the
    project and the options are appended.
    """

    def __init__(
        self, project_path: Path, log_folder: Path, *, command: list[str] | None = None
    ) -> None:
        self._project_path = project_path
        self._log_folder = log_folder
        self._command = command or [sys.executable, "-m", "labeler.cli", "round"]
        self._job: RoundJob | None = None
        self._lock = threading.Lock()

    def start(self, *, strategy: str, query_size: int, started_by: str) -> dict[str, Any]:
        """Start a round in the background and return its status; ValueError if one runs.

        With too few labels to train on, the round queues ``query_size`` random images.
        """
        with self._lock:
            if self._job is not None and self._poll(self._job) is None:
                raise RoundBusyError("a round started here is still running; wait for it")
            self._log_folder.mkdir(parents=True, exist_ok=True)
            started_at = time.time()
            log_path = self._log_folder / f"round-{time.strftime('%Y%m%d-%H%M%S')}.log"
            log_file = open(log_path, "ab")  # noqa: SIM115 - the child writes it until it ends
            arguments = [
                str(self._project_path),
                "--strategy",
                strategy,
                "--query-size",
                str(query_size),
                "--initial",
                str(query_size),
            ]
            process = subprocess.Popen(
                [*self._command, *arguments],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # Its own session: Ctrl-C on the server does not kill a round half-way.
                start_new_session=True,
            )
            self._job = RoundJob(
                strategy, query_size, started_by, started_at, log_path, process, log_file
            )
            return self._describe(self._job)

    def get_status(self) -> dict[str, Any] | None:
        """The status of the last round started here (None: none since the server started)."""
        with self._lock:
            return None if self._job is None else self._describe(self._job)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the running round (tests, shutdown); its exit code, None if none ran."""
        job = self._job
        if job is None:
            return None
        job.process.wait(timeout)
        with self._lock:
            return self._poll(job)

    def _poll(self, job: RoundJob) -> int | None:
        if job.exit_code is None:
            code = job.process.poll()
            if code is not None:
                job.exit_code = code
                job.finished_at = time.time()
                job.log_file.close()
        return job.exit_code

    def _describe(self, job: RoundJob) -> dict[str, Any]:
        code = self._poll(job)
        state = "running" if code is None else ("done" if code == 0 else "failed")
        return {
            "state": state,
            "strategy": job.strategy,
            "query_size": job.query_size,
            "started_by": job.started_by,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "exit_code": code,
            "last_line": read_last_line(job.log_path),
        }


class RoundBusyError(ValueError):
    """A round is running already."""


def read_last_line(path: Path) -> str:
    """The last non-empty line of a log, progress bars included (they end with a return)."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, path.stat().st_size - _TAIL_BYTES))
            tail = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    pieces = [piece.strip() for piece in tail.replace("\r", "\n").split("\n")]
    return next((piece for piece in reversed(pieces) if piece), "")
