"""Every layer's outputs, caught with forward hooks, and the bundles each layer makes.

The layers of a ``resnet`` or ``plain`` network, in forward order: ``stem``, then per block
``stages.S.B`` (the block's output, after its last ReLU) and, for a residual block, first
``stages.S.B.branch`` (the residual branch's output before the addition); then ``pooled``
(the globally averaged features the head reads) and ``logits`` (the head's output).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from labeler.learning.models import make_model_input
from labeler.learning.training import check_images_and_labels
from labeler.pruning.bundles import (
    BundleStats,
    assign_bundles,
    compute_entropy_of_bundles,
    get_max_weight,
    get_update_rows,
)
from labeler.pruning.surgery import check_prunable, get_block_at, list_blocks

BRANCH_SUFFIX = ".branch"
POOLED_LAYER = "pooled"
LOGITS_LAYER = "logits"
# Float32 values of z kept at once while measuring (1 GiB); more layers take more passes.
DEFAULT_MEMORY_BUDGET = 1 << 28


def list_layers(model: nn.Module) -> list[str]:
    """Names of the layers whose outputs are measured, in forward order."""
    names = ["stem"]
    for ref in list_blocks(model):
        if ref.residual:
            names.append(ref.name + BRANCH_SUFFIX)
        names.append(ref.name)
    return [*names, POOLED_LAYER, LOGITS_LAYER]


def check_layer_names(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    """``layers`` (None: all) after checking each is a layer of ``model``, in forward order."""
    every = list_layers(model)
    if layers is None:
        return every
    unknown = [name for name in layers if name not in every]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; valid ones: {', '.join(every)}")
    wanted = set(layers)
    return [name for name in every if name in wanted]


@contextlib.contextmanager
def hook_layers(
    model: nn.Module, layers: Sequence[str], sink: Callable[[str, torch.Tensor], None]
) -> Iterator[None]:
    """While the block runs, every forward pass calls ``sink(layer, output)`` for ``layers``."""
    network = check_prunable(model)
    handles = []
    modules: dict[str, nn.Module] = {"stem": network.stem}
    for ref in list_blocks(network):
        block = get_block_at(network, ref.stage, ref.index)
        modules[ref.name] = block
        modules[ref.name + BRANCH_SUFFIX] = block.body

    modules[POOLED_LAYER] = modules[LOGITS_LAYER] = network.head

    def make_hook(layer: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
            sink(layer, inputs[0] if layer == POOLED_LAYER else output)

        return hook

    try:
        for layer in layers:
            handles.append(modules[layer].register_forward_hook(make_hook(layer)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.inference_mode()
def collect_layer_outputs(
    model: nn.Module, x: torch.Tensor, *, layers: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Outputs ``[n, ...]`` of ``layers`` (None: all) for model input ``x``, in eval mode."""
    names = check_layer_names(model, layers)
    outputs: dict[str, torch.Tensor] = {}

    def keep(layer: str, output: torch.Tensor) -> None:
        outputs[layer] = output.detach().clone()  # a later in-place ReLU must not change it

    was_training = model.training
    model.eval()
    try:
        with hook_layers(model, names, keep):
            model(x)
    finally:
        model.train(was_training)
    return {name: outputs[name] for name in names}


@torch.inference_mode()
def measure_layers(
    model: nn.Module,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer[Any]],
    *,
    lr: float,
    batch_size: int,
    layers: Sequence[str] | None = None,
    chunk_size: int = 256,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> dict[str, BundleStats]:
    """Bundle count and entropy of each of ``layers`` (None: all) of ``model`` on training
    ``images`` uint8 ``[n, H, W]`` with class ``labels [n]``, for training ``lr`` and
    ``batch_size``. Eval mode, float32 (no autocast), on the model's device; the model's mode
    is restored. Layers are measured in groups whose z rows fit ``memory_budget`` float32
    values, one forward pass per group."""
    images, labels = check_images_and_labels(images, labels)
    if len(images) == 0:
        raise ValueError("no images to measure bundles on")
    network = check_prunable(model)
    names = check_layer_names(network, layers)
    device = next(network.parameters()).device
    w_max = get_max_weight(network)
    sizes = _get_layer_sizes(network, images[:1], names, device)
    was_training = network.training
    network.eval()
    stats: dict[str, BundleStats] = {}
    try:
        for group in _group_layers(names, sizes, n_samples=len(images), budget=memory_budget):
            parts: dict[str, list[torch.Tensor]] = {name: [] for name in group}

            def keep(
                layer: str, output: torch.Tensor, parts: dict[str, list[torch.Tensor]] = parts
            ) -> None:
                rows = get_update_rows(output, w_max=w_max, lr=lr, batch_size=batch_size)
                parts[layer].append(rows.cpu())

            with hook_layers(network, group, keep):
                for start in range(0, len(images), chunk_size):
                    pixels = torch.from_numpy(np.array(images[start : start + chunk_size]))
                    image_size = network.config.image_size
                    network(make_model_input(pixels, image_size=image_size, device=device))
            for name in group:
                rows = torch.cat(parts.pop(name))
                bundle_ids, n_bundles = assign_bundles(rows)
                stats[name] = BundleStats(
                    n_bundles=n_bundles,
                    entropy=compute_entropy_of_bundles(bundle_ids, labels),
                    n_samples=len(labels),
                )
    finally:
        network.train(was_training)
    return {name: stats[name] for name in names}


def _get_layer_sizes(
    model: nn.Module, one_image: NDArray[np.uint8], names: list[str], device: torch.device
) -> dict[str, int]:
    """Values per sample of each layer's output."""
    sizes: dict[str, int] = {}

    def note(layer: str, output: torch.Tensor) -> None:
        sizes[layer] = int(output[0].numel())

    was_training = model.training
    model.eval()
    try:
        with hook_layers(model, names, note):
            pixels = torch.from_numpy(np.array(one_image))
            image_size = check_prunable(model).config.image_size
            model(make_model_input(pixels, image_size=image_size, device=device))
    finally:
        model.train(was_training)
    return sizes


def _group_layers(
    names: list[str], sizes: dict[str, int], *, n_samples: int, budget: int
) -> list[list[str]]:
    """Consecutive groups of layers whose rows for ``n_samples`` fit ``budget`` values (a layer
    bigger than the budget goes alone)."""
    groups: list[list[str]] = []
    used = 0
    for name in names:
        cost = sizes[name] * n_samples
        if groups and used + cost <= budget:
            groups[-1].append(name)
            used += cost
        else:
            groups.append([name])
            used = cost
    return groups
