"""A real ``labeler serve`` in a child process, for tests and benchmarks that need the server
as users get it (waitress, its own process, killable)."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_URL_LINE = re.compile(r"serving .* at (http://\S+/) ")
# Debian's Chromium, as the browser tests and the page benchmark launch it (headless, through
# Playwright): these flags keep it quiet on a closed network and let it run as root.
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass
class LiveServer:
    """A running server: its ``url`` (ending in "/"), process, and what it has printed so
    far (read by a thread, so that a chatty server never blocks on a full pipe)."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def drain(self) -> None:
        """Keep reading the server's output in the background."""
        stream = self.process.stdout
        if stream is None:
            return

        def read() -> None:
            for line in stream:
                self.output.append(line)

        threading.Thread(target=read, daemon=True).start()

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash or an out-of-memory kill."""
        self.process.kill()
        self.process.wait(30)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_server(
    project: Path,
    *,
    port: int = 0,
    threads: int | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> LiveServer:
    """Start ``labeler serve PROJECT`` and return once it prints its URL."""
    command = [sys.executable, "-m", "labeler.cli", "serve", str(project), "--port", str(port)]
    if threads is not None:
        command += ["--threads", str(threads)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if not ready:
            if process.poll() is not None:
                break
            continue
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        match = _URL_LINE.search(line)
        if match:
            server = LiveServer(match.group(1), process, seen)
            server.drain()
            return server
    process.kill()
    raise RuntimeError("labeler serve did not start:\n" + "".join(seen))
