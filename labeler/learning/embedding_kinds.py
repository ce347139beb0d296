"""The registry of embedding kinds: a dict, a decorator and a get/list pair.

An embedding kind turns images into vectors: uint8 ``[n, S, S]`` or ``[n, S, S, 3]`` (white
255) -> float32 ``[n, dim]``, row for row. ``labeler.learning.embeddings`` computes a kind once
for every sample of a project and caches it.

Imports point one way: the registry knows the built-in kinds' modules (imported on first use,
so that importing the registry stays cheap), and they import only the decorator from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
from numpy.typing import NDArray

from generators.named_registry import NamedRegistry

# Built-in kinds: name -> the module that registers it.
_BUILTIN_KINDS = {
    "pixels": "labeler.learning.pixel_embedding",
    "efficientnet_lite0": "labeler.learning.efficientnet_lite",
}


class EmbeddingKind(Protocol):
    """How to embed images; built with no arguments by the registry."""

    def get_key_parts(self) -> dict[str, Any]:
        """What the vectors depend on besides the images, JSON-ready (the kind's parameters, a
        ``version`` bumped when its computation changes, the SHA-256 of its weights): part of
        the cache key. Raises ValueError when the kind cannot run here (e.g. a missing extra),
        before any work."""
        ...

    def embed(
        self,
        images: NDArray[np.uint8],
        *,
        device: torch.device,
        n_threads: int | None,
        progress: bool,
    ) -> NDArray[np.float32]:
        """Vectors float32 ``[n, dim]`` of ``images`` uint8 ``[n, S, S]`` or ``[n, S, S, 3]``
        (white 255; a memory map is read in batches). ``n_threads``: CPU threads for the
        kind's own numerical libraries (torch's are already set by the caller); ``progress``:
        show a progress bar on long work."""
        ...


K = TypeVar("K", bound=Callable[[], EmbeddingKind])


def register_embedding_kind(name: str) -> Callable[[K], K]:
    """A decorator registering a kind (a class or function building it with no arguments)
    under ``name``: lowercase letters, digits, ``_`` and ``-`` (it names the cache file)."""
    return _KINDS.register(name)


def get_embedding_kind(name: str) -> EmbeddingKind:
    """A new instance of the kind called ``name``; an unknown name lists the valid ones."""
    return _KINDS.get(name)()


def check_embedding_kind(name: str) -> str:
    """``name`` if a kind is registered under it (its extra need not be installed); else a
    ValueError listing the valid ones."""
    _KINDS.get(name)
    return name


def list_embedding_kinds() -> list[str]:
    """Names of the registered kinds, sorted (whether or not their extras are installed)."""
    return _KINDS.names()


def _load_builtin_kinds() -> None:
    for module_name in _BUILTIN_KINDS.values():
        importlib.import_module(module_name)  # registers its kind on first import


_KINDS: NamedRegistry[Callable[[], EmbeddingKind]] = NamedRegistry(
    "embedding kind", load=_load_builtin_kinds
)
