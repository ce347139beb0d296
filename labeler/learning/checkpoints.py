"""Model checkpoints: the one module that writes and reads them.

A checkpoint ``PATH`` (e.g. ``rounds/round-0001/model.pt``) is a ``torch.save`` archive of plain
data only (loaded with ``weights_only=True``): format version, model config, class names, the
caller's ``extra`` dict and the state dict. Beside it, ``PATH`` with suffix ``.json`` (e.g.
``model.json``) repeats everything but the weights, readable without torch. Both are written
atomically, the archive first.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from labeler.learning.models import Classifier, ModelConfig, make_model
from labeler.store.atomic_files import write_bytes_atomic, write_json_atomic

FORMAT_VERSION = 1


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint says besides the weights."""

    path: Path
    format_version: int
    model_config: ModelConfig
    n_classes: int
    class_names: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def get_config_path(path: str | os.PathLike[str]) -> Path:
    """The JSON file beside checkpoint ``path`` (``model.pt`` -> ``model.json``)."""
    return Path(path).with_suffix(".json")


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Classifier,
    *,
    model_config: ModelConfig,
    n_classes: int,
    class_names: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights and description to ``path`` and ``get_config_path(path)``.

    ``extra``: JSON-ready values to keep with it (e.g. round, accuracies, train config).
    Returns ``path``. The folder must exist.
    """
    target = Path(path)
    if len(class_names) != n_classes:
        raise ValueError(f"{len(class_names)} class names given for {n_classes} classes")
    if target.suffix == ".json":
        raise ValueError(f"checkpoint path {target} must not end in .json (its sidecar does)")
    description = {
        "format_version": FORMAT_VERSION,
        "model_config": model_config.to_dict(),
        "n_classes": int(n_classes),
        "class_names": [str(name) for name in class_names],
        "extra": dict(extra or {}),
    }
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    buffer = io.BytesIO()
    torch.save({**description, "state_dict": state}, buffer)
    write_bytes_atomic(target, buffer.getvalue())
    write_json_atomic(get_config_path(target), description)
    return target


def load_checkpoint(
    path: str | os.PathLike[str], *, device: str | torch.device = "cpu"
) -> tuple[Classifier, CheckpointInfo]:
    """Return ``(model, info)`` from checkpoint ``path``, the model in eval mode on ``device``.

    Raises ValueError naming ``path`` when it is missing, truncated, corrupt or not a checkpoint
    of a format this version reads.
    """
    source = Path(path)
    if not source.is_file():
        raise ValueError(f"checkpoint {source} does not exist")
    try:
        data = torch.load(source, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as error:
        raise ValueError(f"checkpoint {source} is truncated or corrupt: {error}") from error
    except zipfile.BadZipFile as error:
        raise ValueError(f"checkpoint {source} is truncated or corrupt: {error}") from error
    if not isinstance(data, dict) or "state_dict" not in data:
        raise ValueError(f"{source} is not a checkpoint (no state_dict)")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"checkpoint {source} has format version {version!r}; this version reads "
            f"{FORMAT_VERSION}"
        )
    try:
        model_config = ModelConfig.from_dict(dict(data["model_config"]))
        n_classes = int(data["n_classes"])
        info = CheckpointInfo(
            path=source,
            format_version=version,
            model_config=model_config,
            n_classes=n_classes,
            class_names=tuple(str(name) for name in data["class_names"]),
            extra=dict(data.get("extra") or {}),
        )
        with torch.random.fork_rng(devices=[]):  # the random init is overwritten anyway
            model = make_model(model_config, n_classes=n_classes)
        model.load_state_dict(data["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"checkpoint {source} is malformed: {error}") from error
    model = model.to(device).to(memory_format=torch.channels_last).eval()
    return model, info
