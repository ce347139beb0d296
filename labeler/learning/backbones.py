"""Pretrained torchvision backbones: their bodies, our input turned into theirs, their weights.

A backbone is a torchvision ImageNet classifier without its last classifier layers: it maps
images to pooled features ``[n, n_features]``. ``labeler.learning.models`` wraps one in a
``Classifier`` named ``<backbone>-pretrained`` (e.g. ``resnet18-pretrained``).

Weights are read from disk, never downloaded: from the file the user names, else from torch's
hub cache, ``torch.hub.get_dir()/checkpoints/<file>`` (``$TORCH_HOME/hub/checkpoints``,
``TORCH_HOME`` defaulting to ``$XDG_CACHE_HOME/torch`` or ``~/.cache/torch``), where ``<file>`` is
the name torchvision saves those weights under when it downloads them. When neither has them,
``find_weights_file`` raises a ValueError that says how to fetch them once.

torchvision is imported inside the functions that need it: it takes seconds to import.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

# The weights the ``-pretrained`` models use: torchvision's ImageNet-1k weights of each backbone.
WEIGHTS_NAME = "IMAGENET1K_V1"
PRETRAINED_SUFFIX = "-pretrained"
BACKBONE_MODES = ("frozen", "finetune")
# The ImageNet statistics of RGB in [0, 1] that torchvision's weights were trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Bytes read at a time when hashing a weights file.
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Backbone:
    """``builder``: the torchvision function; ``weights_enum``: its weights class;
    ``classifier``: the attribute holding the ImageNet classifier, replaced by ``nn.Identity``;
    ``n_features``: width of the pooled features before it."""

    builder: str
    weights_enum: str
    classifier: str
    n_features: int


_BACKBONES = {
    "resnet18": _Backbone("resnet18", "ResNet18_Weights", "fc", 512),
    "mobilenet_v3_small": _Backbone(
        "mobilenet_v3_small", "MobileNet_V3_Small_Weights", "classifier", 576
    ),
    "efficientnet_b0": _Backbone("efficientnet_b0", "EfficientNet_B0_Weights", "classifier", 1280),
}


@dataclass(frozen=True)
class BackboneConfig:
    """How a round uses a pretrained backbone; one field per command-line flag.

    ``mode``: "frozen" keeps the ImageNet weights, computes every image's features once (cached
    in the project) and trains only the head on them; "finetune" trains the whole network,
    starting from the ImageNet weights. ``weights``: a weights file to read (None: torch's hub
    cache, see the module docstring).
    """

    mode: str = "frozen"
    weights: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in BACKBONE_MODES:
            raise ValueError(
                f"unknown backbone mode {self.mode!r}; valid ones: {', '.join(BACKBONE_MODES)}"
            )


def list_backbones() -> list[str]:
    """Names of the torchvision backbones, sorted (model names add ``PRETRAINED_SUFFIX``)."""
    return sorted(_BACKBONES)


def get_backbone_name(model_name: str) -> str | None:
    """The backbone of model ``model_name`` (``resnet18-pretrained`` -> ``resnet18``), or None
    when it is not a pretrained-backbone model."""
    if not model_name.endswith(PRETRAINED_SUFFIX):
        return None
    backbone = model_name.removesuffix(PRETRAINED_SUFFIX)
    return backbone if backbone in _BACKBONES else None


def get_n_features(backbone: str) -> int:
    """Width of the pooled features of ``backbone``."""
    return _get_backbone(backbone).n_features


def make_backbone_body(backbone: str) -> nn.Module:
    """torchvision's ``backbone`` with random weights and no classifier: ImageNet-normalised RGB
    ``[n, 3, S, S]`` -> features ``[n, n_features]``."""
    import torchvision.models  # imported here: torchvision loads slowly

    spec = _get_backbone(backbone)
    body: nn.Module = getattr(torchvision.models, spec.builder)(weights=None)
    setattr(body, spec.classifier, nn.Identity())
    return body


class ImageNetInput(nn.Module):
    """Our model input (ink 1.0, white 0.0; ``[n, 1 or 3, S, S]``) -> what ImageNet weights
    expect: RGB in [0, 1] with white 1.0 (``1 - x``), grayscale repeated to 3 channels, then
    normalised by the ImageNet mean and standard deviation. ``[n, 3, S, S]``."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        # Not persistent: constants, so checkpoints and weights files need not hold them.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb = 1.0 - x
        if rgb.shape[1] == 1:
            rgb = rgb.expand(-1, 3, -1, -1)
        return (rgb - self.mean) / self.std


def get_weights_file_name(backbone: str) -> str:
    """The file name torchvision saves ``backbone``'s ImageNet weights under in its cache
    (e.g. ``resnet18-f37072fd.pth``)."""
    import torchvision.models

    spec = _get_backbone(backbone)
    weights = getattr(getattr(torchvision.models, spec.weights_enum), WEIGHTS_NAME)
    return os.path.basename(str(weights.url))


def get_cache_path(backbone: str) -> Path:
    """Where torch's hub cache keeps ``backbone``'s weights (the file need not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / get_weights_file_name(backbone)


def get_fetch_command(backbone: str) -> str:
    """A shell command that downloads ``backbone``'s weights into torch's cache."""
    spec = _get_backbone(backbone)
    return (
        f'python -c "import torchvision; torchvision.models.{spec.builder}'
        f"(weights='{WEIGHTS_NAME}')\""
    )


def find_weights_file(backbone: str, *, weights: str | os.PathLike[str] | None = None) -> Path:
    """The weights file of ``backbone``: ``weights`` when given, else torch's hub cache.

    Raises ValueError naming every place looked in and how to fetch the weights once.
    """
    places = [Path(weights)] if weights is not None else [get_cache_path(backbone)]
    for place in places:
        if place.is_file():
            return place
    file_name = get_weights_file_name(backbone)
    looked = ", ".join(str(place) for place in places)
    raise ValueError(
        f"no weights for {backbone}{PRETRAINED_SUFFIX}: looked in {looked} (nothing is "
        "downloaded during a round). Fetch them once on a machine with internet: "
        f"{get_fetch_command(backbone)} saves ~/.cache/torch/hub/checkpoints/{file_name}; "
        f"copy that file to {get_cache_path(backbone).parent}/ here (torch's cache: "
        "$TORCH_HOME/hub/checkpoints) or pass its path with --weights"
    )


def get_weights_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load_backbone_weights(body: nn.Module, backbone: str, path: str | os.PathLike[str]) -> None:
    """Copy the weights in file ``path`` (a torchvision state dict of the whole ``backbone``
    classifier, as torchvision saves it) into ``body`` (from ``make_backbone_body``).

    The ImageNet classifier's weights in the file are left out. Raises ValueError naming the
    file when it is not a state dict, or when its keys or shapes do not fit ``backbone``.
    """
    source = Path(path)
    state = read_state_dict(source)
    prefix = _get_backbone(backbone).classifier + "."
    wanted = body.state_dict()
    given = {key: value for key, value in state.items() if not key.startswith(prefix)}
    missing = sorted(set(wanted) - set(given))
    unexpected = sorted(set(given) - set(wanted))
    misshapen = [
        f"{key} {tuple(given[key].shape)} (expected {tuple(wanted[key].shape)})"
        for key in sorted(set(wanted) & set(given))
        if tuple(given[key].shape) != tuple(wanted[key].shape)
    ]
    if missing or unexpected or misshapen:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing, e.g. {', '.join(missing[:3])}")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected, e.g. {', '.join(unexpected[:3])}")
        if misshapen:
            problems.append(f"{len(misshapen)} of another shape, e.g. {', '.join(misshapen[:3])}")
        raise ValueError(
            f"weights file {source} does not fit {backbone}: its tensors are "
            f"{'; '.join(problems)}. Give the file torchvision saves for "
            f"{get_fetch_command(backbone)} ({get_weights_file_name(backbone)})"
        )
    body.load_state_dict(given)


def read_state_dict(source: Path) -> dict[str, torch.Tensor]:
    """The tensors of weights file ``source`` by name, read without running code in it;
    ValueError naming the file when it cannot be read or is not a state dict."""
    try:
        # weights_only: a weights file from elsewhere must not run code when read.
        state: Any = torch.load(source, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as error:
        raise ValueError(f"weights file {source} cannot be read: {error}") from error
    except zipfile.BadZipFile as error:
        raise ValueError(f"weights file {source} cannot be read: {error}") from error
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise ValueError(f"weights file {source} is not a state dict (names -> tensors)")
    return state


def _get_backbone(backbone: str) -> _Backbone:
    try:
        return _BACKBONES[backbone]
    except KeyError:
        raise ValueError(
            f"unknown backbone {backbone!r}; valid ones: {', '.join(list_backbones())}"
        ) from None
