"""The local-or-Ray interface: ``map_in_order(fn, items, shared=...)`` runs ``fn(shared, item)``
for every item and yields the results in the items' order, wherever the calls ran;
``map_with_actors(make_state, fn, items, init=...)`` does the same on workers that each build
their state once (``make_state(init, n_cpus)``: load a model, open a file) and keep it.

``fn`` must be a module-level function and ``shared`` picklable: a Ray engine sends ``shared``
once to the cluster and ``fn`` to every worker. Tasks must be idempotent (Ray retries a task
whose worker died), which is why they return what they made rather than append it anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

ENGINES = ("local", "ray")

_S = TypeVar("_S")
_I = TypeVar("_I")
_R = TypeVar("_R")


class Engine(Protocol):
    name: str

    def map_in_order(
        self, fn: Callable[[Any, Any], _R], items: Iterable[Any], *, shared: Any
    ) -> Iterator[_R]: ...

    def map_with_actors(
        self,
        make_state: Callable[[Any, int | None], Any],
        fn: Callable[[Any, Any], _R],
        items: Sequence[Any],
        *,
        init: Any,
    ) -> Iterator[_R]: ...

    def close(self) -> None: ...


class LocalEngine:
    """Runs every task here, one after another."""

    name = "local"

    def map_in_order(
        self, fn: Callable[[_S, _I], _R], items: Iterable[_I], *, shared: _S
    ) -> Iterator[_R]:
        return (fn(shared, item) for item in items)

    def map_with_actors(
        self,
        make_state: Callable[[_S, int | None], Any],
        fn: Callable[[Any, _I], _R],
        items: Sequence[_I],
        *,
        init: _S,
    ) -> Iterator[_R]:
        """One state, built here (``n_cpus`` None: use every core), for every item."""
        state = make_state(init, None)
        return (fn(state, item) for item in items)

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def make_engine(name: str, *, address: str | None = None) -> Engine:
    """The engine called ``name`` ("local" or "ray"). For Ray, ``address`` None starts a
    private local cluster and "auto" joins a running one. ValueError on an unknown name, or
    when Ray is asked for but not installed (naming the pip command)."""
    if name == "local":
        if address is not None:
            raise ValueError("--ray-address goes with --engine ray")
        return LocalEngine()
    if name == "ray":
        from labeler.engines.ray_engine import RayEngine  # lazily: Ray is an optional extra

        return RayEngine(address=address)
    raise ValueError(f"unknown engine {name!r}; valid engines: {', '.join(ENGINES)}")
