"""The Ray engine: the only module that imports Ray (lazily, when an engine is made).

Tasks are plain Ray tasks, one CPU each, retried by Ray when their worker dies; results come
back in task order. A private local cluster (no address) is started with the dashboard, usage
statistics and token authentication off, and shut down on ``close``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

_R = TypeVar("_R")
RAY_INSTALL = "pip install 'guided-labeler[ray]'"
# Retries of a task whose worker process died (a crash, a kill, a lost node).
MAX_RETRIES = 3
# Tasks in flight at once, per CPU of the cluster: enough to keep workers busy, few enough
# that results waiting to be read in order do not pile up in memory.
_IN_FLIGHT_PER_CPU = 4


class RayEngine:
    name = "ray"

    def __init__(self, *, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError(
                f"--engine ray needs Ray, which is not installed: {RAY_INSTALL}"
            ) from None
        self._ray = ray
        self._started_here = False
        if not ray.is_initialized():
            if address is None:
                # A private cluster on this machine: nothing to expose, nothing to report.
                os.environ.setdefault("RAY_AUTH_MODE", "disabled")
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self._started_here = True
        self._task: Any = ray.remote(max_retries=MAX_RETRIES, num_cpus=1)(_run_task)

    def map_in_order(
        self, fn: Callable[[Any, Any], _R], items: Iterable[Any], *, shared: Any
    ) -> Iterator[_R]:
        ray = self._ray
        shared_ref = ray.put(shared)
        n_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        window = _IN_FLIGHT_PER_CPU * n_cpus
        pending: list[Any] = []
        for item in items:
            pending.append(self._task.remote(fn, shared_ref, item))
            if len(pending) >= window:
                yield ray.get(pending.pop(0))
        while pending:
            yield ray.get(pending.pop(0))

    def map_with_actors(
        self,
        make_state: Callable[[Any, int | None], Any],
        fn: Callable[[Any, Any], _R],
        items: Sequence[Any],
        *,
        init: Any,
    ) -> Iterator[_R]:
        """A pool of actors, one per CPU of the cluster (at most one per item), each building
        its state once with one CPU from ``init`` (small: it is sent to every actor); results
        in item order (``ray.util.ActorPool.map``)."""
        from ray.util import ActorPool

        ray = self._ray
        if not items:
            return
        n_actors = min(len(items), max(1, int(ray.cluster_resources().get("CPU", 1))))
        # ``init`` goes by value (it describes the state, e.g. paths): an actor restarted after
        # a crash must still find its constructor's arguments.
        actor_class = _make_actor_class()
        actors = [actor_class.remote(make_state, init) for _ in range(n_actors)]
        try:
            pool = ActorPool(actors)
            yield from pool.map(lambda actor, item: actor.run.remote(fn, item), list(items))
        finally:
            for actor in actors:
                ray.kill(actor)

    def close(self) -> None:
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()
        self._started_here = False

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _run_task(fn: Callable[[Any, Any], _R], shared: Any, item: Any) -> _R:
    return fn(shared, item)


class _StateHolder:
    """An actor's body: the state built once, then ``fn(state, item)`` per call."""

    def __init__(self, make_state: Callable[[Any, int | None], Any], init: Any) -> None:
        # Ray gives each actor one CPU: a reused worker would otherwise keep whatever thread
        # count its first task set, so the state is told how many to use.
        self._state = make_state(init, 1)

    def run(self, fn: Callable[[Any, Any], _R], item: Any) -> _R:
        return fn(self._state, item)


def _make_actor_class() -> Any:
    import ray

    return ray.remote(num_cpus=1, max_restarts=MAX_RETRIES, max_task_retries=MAX_RETRIES)(
        _StateHolder
    )
