"""Slowing down repeated failed logins: after a few failures from one address, each further
attempt must wait, twice as long after every new failure, up to a cap."""

from __future__ import annotations

import threading
import time

# Failures older than this are forgotten.
_WINDOW_SECONDS = 900.0


class LoginThrottle:
    """Counts failed logins per client address (thread-safe)."""

    def __init__(self, *, failures_allowed: int, max_delay: float) -> None:
        self._failures_allowed = failures_allowed
        self._max_delay = max_delay
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get_wait(self, address: str, *, now: float | None = None) -> float:
        """Seconds ``address`` must still wait before its next attempt (0: it may try now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            count, last = self._failures.get(address, (0, 0.0))
            if now - last > _WINDOW_SECONDS:
                self._failures.pop(address, None)
                return 0.0
        over = count - self._failures_allowed
        if over < 0:
            return 0.0
        delay = min(self._max_delay, 2.0**over)
        return max(0.0, last + delay - now)

    def record_failure(self, address: str, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            count, last = self._failures.get(address, (0, 0.0))
            if now - last > _WINDOW_SECONDS:
                count = 0
            self._failures[address] = (count + 1, now)
            # Bound the memory an attacker can make us use with many addresses.
            if len(self._failures) > 100_000:
                oldest = min(self._failures, key=lambda key: self._failures[key][1])
                del self._failures[oldest]

    def record_success(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
