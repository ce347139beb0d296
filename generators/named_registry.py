"""One registry of named things (models, acquisition functions, cold starts, embedding kinds):
a dict, a decorator and a get/list pair, so that every layer names and refuses alike.

It sits in the lowest layer so that the engine's registries can share it. An unknown name
raises ``ValueError`` listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")
# What a decorator is handed (a function or class of a narrower type than ``T``), returned as is.
E = TypeVar("E")


class NamedRegistry(Generic[T]):
    """Entries of type ``T`` by name. ``what`` names an entry in messages ("acquisition",
    "embedding kind"); ``load`` (optional) is called before every lookup, to register
    built-in entries lazily (modules imported only when first asked for)."""

    def __init__(self, what: str, *, load: Callable[[], None] | None = None) -> None:
        self.what = what
        self._entries: dict[str, T] = {}
        self._load = load

    def register(self, name: str, *, replace: bool = False) -> Callable[[E], E]:
        """A decorator registering its argument (an entry of type ``T``) under ``name`` and
        returning it unchanged; a name taken is refused unless ``replace`` (a notebook cell
        run again registers its new version)."""

        def decorate(entry: E) -> E:
            if name in self._entries and not replace:
                raise ValueError(f"{self.what} {name!r} is already registered")
            self._entries[name] = cast(T, entry)
            return entry

        return decorate

    def get(self, name: str) -> T:
        """The entry ``name``; ValueError listing the valid names when there is none."""
        if self._load is not None:
            self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            valid = ", ".join(self.names())
            raise ValueError(f"unknown {self.what} {name!r}; valid ones: {valid}") from None

    def names(self) -> list[str]:
        """The registered names, sorted."""
        if self._load is not None:
            self._load()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()
