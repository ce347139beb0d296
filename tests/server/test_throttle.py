"""The login throttle: free attempts, then waits that double up to a cap, forgotten later."""

from __future__ import annotations

from server.throttle import LoginThrottle


def test_waits_double_after_the_allowed_failures_and_stop_at_the_cap() -> None:
    throttle = LoginThrottle(failures_allowed=2, max_delay=4.0)
    now = 1000.0
    waits = []
    for _ in range(6):
        waits.append(throttle.get_wait("10.0.0.1", now=now))
        throttle.record_failure("10.0.0.1", now=now)
    assert waits == [0.0, 0.0, 1.0, 2.0, 4.0, 4.0]
    assert throttle.get_wait("10.0.0.1", now=now + 3.0) == 1.0  # 4 s after the last failure
    assert throttle.get_wait("10.0.0.1", now=now + 4.0) == 0.0
    assert throttle.get_wait("10.0.0.2", now=now) == 0.0  # per address


def test_a_success_or_a_quiet_quarter_hour_clears_the_count() -> None:
    throttle = LoginThrottle(failures_allowed=1, max_delay=60.0)
    for _ in range(3):
        throttle.record_failure("a", now=0.0)
    assert throttle.get_wait("a", now=1.0) > 0
    throttle.record_success("a")
    assert throttle.get_wait("a", now=1.0) == 0.0
    for _ in range(3):
        throttle.record_failure("b", now=0.0)
    assert throttle.get_wait("b", now=901.0) == 0.0
