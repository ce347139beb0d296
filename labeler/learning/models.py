"""Image classifiers: a registry of small CNNs for grayscale or colour images, and their input.

Every model is a ``Classifier``: ``features(x) -> [n, n_features]`` (the penultimate layer, after
global average pooling) and ``head`` = ``Dropout(p)`` + ``Linear``, with
``forward(x) = head(features(x))`` returning logits ``[n, n_classes]``. Input ``x`` is float32
``[n, C, S, S]`` (C = ``config.in_channels``: 1 grayscale, 3 RGB) with ink 1.0 and white 0.0
(``(255 - pixel) / 255``, see ``make_model_input``), best in ``torch.channels_last`` format.

Registered models (``list_models()``):

- ``resnet``: a stem conv (stride ``stem_stride``) and three stages of basic residual blocks
  (widths ``width``, ``2 * width``, ``4 * width``; stages 2 and 3 halve the resolution), with
  ``depth`` blocks per stage (or ``stage_depths``, which pruning sets). Blocks live in
  ``model.stages[i]`` (``nn.Sequential``), so an identity block (any but the first of a stage)
  can be removed by pruning (``labeler.pruning.surgery``).
- ``plain``: the same network without the skip connections.
- ``resnet18``: torchvision's ResNet-18 (random weights) with a first conv for ``in_channels``;
  ``depth``, ``width`` and ``stem_stride`` do not apply to it.
- ``resnet18-pretrained``, ``mobilenet_v3_small-pretrained``, ``efficientnet_b0-pretrained``:
  torchvision backbones made for ImageNet weights (``labeler.learning.backbones``), which turn
  our input back into normalised RGB themselves. The registry builds them with random weights,
  like every model (a checkpoint overwrites them); ``make_pretrained_model`` reads the ImageNet
  weights. ``depth``, ``width`` and ``stem_stride`` do not apply to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from generators.checks import check_int
from generators.named_registry import NamedRegistry
from labeler.learning.backbones import (
    PRETRAINED_SUFFIX,
    ImageNetInput,
    get_n_features,
    list_backbones,
    load_backbone_weights,
    make_backbone_body,
)

ModelBuilder = Callable[["ModelConfig", int], "Classifier"]
_B = TypeVar("_B", bound=ModelBuilder)

_MODELS: NamedRegistry[ModelBuilder] = NamedRegistry("model")
# The model's input side when neither a project nor a dataset says otherwise (projects choose
# theirs per dataset: ``labeler.data.input_size``); see ``DEFAULT_MODEL_CONFIG``.
DEFAULT_IMAGE_SIZE = 64
# Stages of the small residual and plain networks (widths w, 2w, 4w).
N_STAGES = 3
# How much the stem may shrink the input (see ``ModelConfig.stem_stride``).
STEM_STRIDES = (1, 2, 4)
# Channels ``add_coordinates`` appends: x, then y.
N_COORDINATES = 2
# The models that can append coordinate channels to their input (``ModelConfig.coordinates``).
COORDINATE_MODELS = ("resnet", "plain")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a classifier.

    ``name``: registered model; ``depth``: residual blocks per stage (3 stages); ``width``:
    channels of the first stage (doubled in each later stage); ``image_size``: side S of the
    square input in pixels (images of another size are resized to it); ``dropout``: drop
    probability of the head (also used for MC-dropout draws when scoring); ``stem_stride``:
    how much the stem shrinks the input: 1 or 2 (the first conv's stride; 2 halves the
    resolution at once, about 4x less compute), or 4 (a stride-2 conv, then a 3 x 3 max-pool of
    stride 2, as ResNet's stem: the first stage sees a quarter of the side, so that the last
    one's receptive field spans a 128 px image);
    ``stage_depths``: blocks in each of the three stages when they differ (a pruned network;
    0 empties a stage); None: ``depth`` in each; ``in_channels``: 1 (grayscale) or 3 (RGB);
    ``coordinates``: the network appends two channels holding each pixel's x and y (from -1 to
    1) to its input (CoordConv, Liu et al. 2018), so that its convolutions can tell where a
    shape is, not only what it is: ``resnet`` and ``plain`` only (``COORDINATE_MODELS``).
    """

    name: str = "resnet"
    depth: int = 2
    width: int = 8
    image_size: int = DEFAULT_IMAGE_SIZE
    dropout: float = 0.2
    stem_stride: int = 2
    stage_depths: tuple[int, ...] | None = None
    in_channels: int = 1
    coordinates: bool = False

    def __post_init__(self) -> None:
        for field in ("depth", "width", "image_size", "stem_stride"):
            # Stored as checked: a numpy integer becomes an int (JSON takes no numpy types).
            value = check_int(f"ModelConfig.{field}", getattr(self, field), low=1)
            object.__setattr__(self, field, value)
        if self.image_size < 8:
            raise ValueError(f"ModelConfig.image_size must be at least 8, got {self.image_size}")
        in_channels = check_int("ModelConfig.in_channels", self.in_channels)
        if in_channels not in (1, 3):
            raise ValueError(
                f"ModelConfig.in_channels must be 1 (grayscale) or 3 (RGB), got {in_channels!r}"
            )
        object.__setattr__(self, "in_channels", in_channels)
        if not isinstance(self.coordinates, bool):
            raise ValueError(
                f"ModelConfig.coordinates must be true or false, got {self.coordinates!r}"
            )
        if self.coordinates and self.name not in COORDINATE_MODELS:
            raise ValueError(
                f"ModelConfig.coordinates is for the models {', '.join(COORDINATE_MODELS)}, "
                f"not {self.name!r}"
            )
        if self.stem_stride not in STEM_STRIDES:
            raise ValueError(
                f"ModelConfig.stem_stride must be one of {', '.join(map(str, STEM_STRIDES))}, "
                f"got {self.stem_stride!r}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"ModelConfig.dropout must be in [0, 1), got {self.dropout!r}")
        if self.stage_depths is not None:
            depths = tuple(self.stage_depths)
            if len(depths) != N_STAGES:
                raise ValueError(
                    f"ModelConfig.stage_depths must be {N_STAGES} integers of 0 or more, "
                    f"got {self.stage_depths!r}"
                )
            depths = tuple(
                check_int(f"ModelConfig.stage_depths[{index}]", depth, low=0)
                for index, depth in enumerate(depths)
            )
            # JSON gives a list; keep a tuple so that configs stay hashable and comparable.
            object.__setattr__(self, "stage_depths", depths)

    def get_stage_depths(self) -> tuple[int, ...]:
        """Blocks in each of the three stages."""
        return self.stage_depths if self.stage_depths is not None else (self.depth,) * N_STAGES

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from ``to_dict`` output; unknown keys raise ValueError naming them."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown ModelConfig fields {unknown}; valid ones: {', '.join(sorted(known))}"
            )
        return cls(**data)


# Chosen with bench/input_size.py (bench/results/input_size.md): at 64 px, two blocks per stage
# behind a stride-2 stem were the only affordable configuration that learned SVRT 23 (small
# shapes inside or outside a big one: 0.93-0.97 test accuracy where the former 24 px default
# stayed at 0.54-0.71), as well as the others of that screening; a 1,000-label round takes
# about 20 s on one core. The former default (depth 1, stride 1, 24 px) learns SVRT 16 better.
DEFAULT_MODEL_CONFIG = ModelConfig()


class Classifier(nn.Module):
    """Base of every registered model: ``forward(x) = head(features(x))``.

    Attributes: ``config`` (its ModelConfig), ``n_classes``, ``n_features`` (width of
    ``features``), ``head`` (``nn.Sequential(nn.Dropout(p), nn.Linear(n_features, n_classes))``).
    """

    config: ModelConfig
    n_classes: int
    n_features: int
    head: nn.Sequential

    def _init_head(self, config: ModelConfig, n_features: int, n_classes: int) -> None:
        self.config = config
        self.n_classes = n_classes
        self.n_features = n_features
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(n_features, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[n, n_features]`` of input ``[n, C, S, S]``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[n, n_classes]`` of input ``[n, C, S, S]``."""
        return self.head(self.features(x))


def register_model(name: str, *, replace: bool = False) -> Callable[[_B], _B]:
    """Register ``builder(config, n_classes) -> Classifier`` under ``name`` (decorator);
    ``replace`` lets a custom model take over a name it registered before."""
    return _MODELS.register(name, replace=replace)


def list_models() -> list[str]:
    """Names of the registered models, sorted."""
    return _MODELS.names()


def get_model(name: str, *, n_classes: int, config: ModelConfig | None = None) -> Classifier:
    """Return a new, randomly initialised model ``name`` for ``n_classes`` classes.

    ``config`` defaults to ``DEFAULT_MODEL_CONFIG`` with ``name``; its ``name`` must match.
    Weights come from torch's global generator: seed it (or fork it) for reproducible weights.
    """
    builder = _MODELS.get(name)
    if config is None:
        config = dataclasses.replace(DEFAULT_MODEL_CONFIG, name=name)
    elif config.name != name:
        raise ValueError(f"model name {name!r} differs from config.name {config.name!r}")
    return builder(config, check_int("n_classes", n_classes, low=2))


def make_model(config: ModelConfig, *, n_classes: int) -> Classifier:
    """Shorthand for ``get_model(config.name, n_classes=n_classes, config=config)``."""
    return get_model(config.name, n_classes=n_classes, config=config)


def make_model_input(
    pixels: torch.Tensor, *, image_size: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """Turn uint8 images ``[n, H, W]`` or ``[n, H, W, 3]`` (white 255) into model input.

    Returns float32 ``[n, C, image_size, image_size]`` (C = 1 or 3) in channels_last format,
    ink 1.0 and white 0.0, on ``device`` (default: where ``pixels`` are). Images of another size
    are resized: shrinking averages areas (``mode="area"``), growing is bilinear. Non-square
    images are stretched: projects store squares (letterboxed when made).
    """
    is_gray = pixels.ndim == 3
    if pixels.dtype != torch.uint8 or not (is_gray or (pixels.ndim == 4 and pixels.shape[-1] == 3)):
        raise ValueError(
            "expected uint8 images [n, H, W] or [n, H, W, 3], got "
            f"{pixels.dtype} {tuple(pixels.shape)}"
        )
    if device is not None:
        pixels = pixels.to(device, non_blocking=True)
    x = (pixels.unsqueeze(1) if is_gray else pixels.permute(0, 3, 1, 2)).float()
    x = (255.0 - x).mul_(1.0 / 255.0)
    height, width = x.shape[-2:]
    if (height, width) != (image_size, image_size):
        if height >= image_size and width >= image_size:
            x = F.interpolate(x, size=(image_size, image_size), mode="area")
        else:
            x = F.interpolate(
                x, size=(image_size, image_size), mode="bilinear", align_corners=False
            )
    return x.contiguous(memory_format=torch.channels_last)


def check_input_channels(config: ModelConfig, channels: int) -> None:
    """ValueError when images with ``channels`` channels cannot go into a ``config`` model."""
    if channels != config.in_channels:
        kinds = {1: "grayscale", 3: "colour"}
        raise ValueError(
            f"the model takes {kinds[config.in_channels]} images ({config.in_channels} "
            f"channel(s)) but got {kinds.get(channels, channels)} images ({channels})"
        )


def _conv_bn(n_in: int, n_out: int, *, stride: int = 1, kernel_size: int = 3) -> list[nn.Module]:
    padding = kernel_size // 2
    return [
        nn.Conv2d(n_in, n_out, kernel_size, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(n_out),
    ]


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm; with ``residual`` the input is added before the last ReLU
    (through average pooling and a 1x1 conv when the shape changes)."""

    def __init__(self, n_in: int, n_out: int, *, stride: int, residual: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn(n_in, n_out, stride=stride),
            nn.ReLU(inplace=True),
            *_conv_bn(n_out, n_out),
        )
        self.residual = residual
        self.shortcut: nn.Module
        if residual and (stride != 1 or n_in != n_out):
            # Average pooling, then a 1x1 conv (ResNet-D): every input pixel counts, and it
            # avoids strided 1x1 convs, whose channels_last backward crashes on CPU in torch
            # 2.14 with few channels (e.g. 8 at 64 x 64).
            pool: list[nn.Module] = [nn.AvgPool2d(stride)] if stride != 1 else []
            self.shortcut = nn.Sequential(*pool, *_conv_bn(n_in, n_out, kernel_size=1))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        if self.residual:
            out = out + self.shortcut(x)
        return F.relu(out, inplace=True)


class SmallResNet(Classifier):
    """Stem conv + 3 stages of ``depth`` basic blocks + global average pooling + head."""

    def __init__(self, config: ModelConfig, n_classes: int, *, residual: bool) -> None:
        super().__init__()
        width = config.width
        conv_stride = min(config.stem_stride, 2)
        # Pooling by the maximum keeps the strongest response to a thin outline, which a second
        # strided conv could step over.
        pool = [nn.MaxPool2d(3, stride=2, padding=1)] if config.stem_stride == 4 else []
        n_inputs = config.in_channels + (N_COORDINATES if config.coordinates else 0)
        self.stem = nn.Sequential(
            *_conv_bn(n_inputs, width, stride=conv_stride),
            nn.ReLU(inplace=True),
            *pool,
        )
        stages = []
        n_in = width
        widths = (width, 2 * width, 4 * width)
        for index, (n_out, depth) in enumerate(zip(widths, config.get_stage_depths(), strict=True)):
            blocks = [
                BasicBlock(
                    n_in if block == 0 else n_out,
                    n_out,
                    stride=2 if index > 0 and block == 0 else 1,
                    residual=residual,
                )
                for block in range(depth)
            ]
            stages.append(nn.Sequential(*blocks))
            if blocks:  # an emptied stage (pruning) passes its input on unchanged
                n_in = n_out
        self.stages = nn.Sequential(*stages)
        self._init_head(config, n_in, n_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        if residual:
            # Each residual block starts as the identity (zero last BN scale): trains faster.
            for module in self.modules():
                if isinstance(module, BasicBlock):
                    last_bn = module.body[-1]
                    assert isinstance(last_bn, nn.BatchNorm2d)
                    nn.init.zeros_(last_bn.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.coordinates:
            x = add_coordinates(x)
        x = self.stages(self.stem(x))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def add_coordinates(x: torch.Tensor) -> torch.Tensor:
    """``x`` (``[n, C, H, W]``) with ``N_COORDINATES`` channels appended: each pixel's column,
    then its row, spread evenly from -1 to 1; channels_last like the model's input."""
    n, _, height, width = x.shape
    columns = torch.linspace(-1.0, 1.0, width, device=x.device, dtype=x.dtype)
    rows = torch.linspace(-1.0, 1.0, height, device=x.device, dtype=x.dtype)
    grid = torch.stack(
        [columns.view(1, width).expand(height, width), rows.view(height, 1).expand(height, width)]
    )
    out = torch.cat([x, grid.unsqueeze(0).expand(n, -1, -1, -1)], dim=1)
    return out.contiguous(memory_format=torch.channels_last)


class TorchvisionResNet18(Classifier):
    """torchvision's ResNet-18 with random weights and a first conv for ``in_channels``."""

    def __init__(self, config: ModelConfig, n_classes: int) -> None:
        super().__init__()
        from torchvision.models import resnet18  # imported here: torchvision loads slowly

        body = resnet18(weights=None)
        body.conv1 = nn.Conv2d(
            config.in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False
        )
        nn.init.kaiming_normal_(body.conv1.weight, mode="fan_out", nonlinearity="relu")
        n_features = body.fc.in_features
        body.fc = nn.Identity()
        self.body = body
        self._init_head(config, n_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x)
        return out


class PretrainedBackbone(Classifier):
    """A torchvision backbone (``labeler.learning.backbones``) behind ``ImageNetInput``:
    ``features(x) = body(imagenet_input(x))``. A grayscale model (``in_channels`` 1) repeats its
    channel, so the backbone's 3-channel first conv keeps its ImageNet weights."""

    def __init__(self, config: ModelConfig, n_classes: int, *, backbone: str) -> None:
        super().__init__()
        self.backbone = backbone
        self.imagenet_input = ImageNetInput()
        self.body = make_backbone_body(backbone)
        self._init_head(config, get_n_features(backbone), n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(self.imagenet_input(x))
        return out


def make_pretrained_model(
    config: ModelConfig, *, n_classes: int, weights_path: str | Path, seed: int = 0
) -> PretrainedBackbone:
    """A new ``<backbone>-pretrained`` model whose backbone holds the weights in
    ``weights_path`` (see ``labeler.learning.backbones.load_backbone_weights``) and whose head is
    drawn from ``seed``. torch's global random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_model(config, n_classes=n_classes)
    if not isinstance(model, PretrainedBackbone):
        raise ValueError(
            f"model {config.name!r} has no pretrained backbone; those that do: "
            f"{', '.join(b + PRETRAINED_SUFFIX for b in list_backbones())}"
        )
    load_backbone_weights(model.body, model.backbone, weights_path)
    return model


@register_model("resnet")
def _make_resnet(config: ModelConfig, n_classes: int) -> Classifier:
    return SmallResNet(config, n_classes, residual=True)


@register_model("plain")
def _make_plain(config: ModelConfig, n_classes: int) -> Classifier:
    return SmallResNet(config, n_classes, residual=False)


@register_model("resnet18")
def _make_resnet18(config: ModelConfig, n_classes: int) -> Classifier:
    return TorchvisionResNet18(config, n_classes)


def _register_pretrained(backbone: str) -> None:
    @register_model(backbone + PRETRAINED_SUFFIX)
    def _make_pretrained(config: ModelConfig, n_classes: int) -> Classifier:
        return PretrainedBackbone(config, n_classes, backbone=backbone)


for _backbone in list_backbones():
    _register_pretrained(_backbone)


def make_inference_copy(model: Classifier) -> Classifier:
    """A copy of ``model`` in eval mode with every batch norm that directly follows a conv in an
    ``nn.Sequential`` folded into that conv (same outputs up to float rounding, one memory pass
    less per layer: about 1.5x faster on CPU). ``model`` itself is left as it was."""
    copy = deepcopy(model).eval()
    for module in copy.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for index in range(len(module) - 1):
            conv, norm = module[index], module[index + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                module[index] = fuse_conv_bn_eval(conv, norm)
                module[index + 1] = nn.Identity()
    return copy


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
