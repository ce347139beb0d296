"""Blocks of the small residual and plain networks: listing them, removing them for good, and
switching them off at test time (lesions).

A block is named by its place, ``stages.S.B`` (stage S, block B, as in the state dict). It is
*removable* when it keeps the shape of its input (stride 1, as many channels out as in): taking
it out leaves a network that still runs. In a residual network such a block has the identity
as its shortcut, so removing one whose branch outputs zero changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from labeler.learning.models import BasicBlock, Classifier, SmallResNet, make_model


@dataclass(frozen=True)
class BlockRef:
    """One block: ``name`` (``stages.S.B``), ``stage`` S, ``index`` B within the stage,
    ``removable`` (keeps its input's shape) and ``residual`` (has a skip connection)."""

    name: str
    stage: int
    index: int
    removable: bool
    residual: bool


def check_prunable(model: nn.Module) -> SmallResNet:
    """``model`` itself when it is a ``resnet`` or ``plain`` network, else ValueError."""
    if not isinstance(model, SmallResNet):
        name = getattr(getattr(model, "config", None), "name", type(model).__name__)
        raise ValueError(
            f"pruning works on the 'resnet' and 'plain' models (stages of blocks); got {name!r}"
        )
    return model


def get_stages(network: SmallResNet) -> list[nn.Sequential]:
    """The network's stages, each an ``nn.Sequential`` of blocks."""
    stages = []
    for stage in network.stages:
        assert isinstance(stage, nn.Sequential)
        stages.append(stage)
    return stages


def get_block_at(network: SmallResNet, stage: int, index: int) -> BasicBlock:
    block = get_stages(network)[stage][index]
    assert isinstance(block, BasicBlock)
    return block


def list_blocks(model: nn.Module) -> list[BlockRef]:
    """Every block of ``model`` in forward order."""
    network = check_prunable(model)
    blocks = []
    for stage_index, stage in enumerate(get_stages(network)):
        for block_index, block in enumerate(stage):
            assert isinstance(block, BasicBlock)
            first_conv = block.body[0]
            assert isinstance(first_conv, nn.Conv2d)
            keeps_shape = first_conv.stride == (1, 1) and (
                first_conv.in_channels == first_conv.out_channels
            )
            blocks.append(
                BlockRef(
                    name=f"stages.{stage_index}.{block_index}",
                    stage=stage_index,
                    index=block_index,
                    removable=keeps_shape,
                    residual=block.residual,
                )
            )
    return blocks


def check_block_names(
    model: nn.Module, names: Iterable[str], *, removable_only: bool = True
) -> list[str]:
    """``names`` as a list, after checking that each is a (removable) block of ``model``."""
    refs = {ref.name: ref for ref in list_blocks(model)}
    checked = []
    for name in names:
        if name not in refs:
            raise ValueError(f"unknown block {name!r}; valid ones: {', '.join(refs)}")
        if removable_only and not refs[name].removable:
            valid = [ref.name for ref in refs.values() if ref.removable]
            raise ValueError(
                f"block {name!r} changes the shape of its input and cannot be removed; "
                f"removable ones: {', '.join(valid) or 'none'}"
            )
        checked.append(name)
    if len(set(checked)) != len(checked):
        raise ValueError(f"block names repeat: {checked}")
    return checked


def remove_blocks(model: Classifier, names: Iterable[str]) -> Classifier:
    """A new model without the removable blocks ``names``: the same weights for everything
    kept, in eval mode on the CPU, its config's ``stage_depths`` saying what is left.
    ``model`` is left as it was."""
    network = check_prunable(model)
    removed = set(check_block_names(network, names))
    refs = list_blocks(network)
    kept = [ref for ref in refs if ref.name not in removed]
    depths = tuple(
        sum(1 for ref in kept if ref.stage == stage) for stage in range(len(network.stages))
    )
    config = dataclasses.replace(network.config, stage_depths=depths)
    with torch.random.fork_rng(devices=[]):  # the fresh weights are all overwritten below
        pruned = make_model(config, n_classes=network.n_classes)
    state = {
        key: value for key, value in network.state_dict().items() if not key.startswith("stages.")
    }
    new_index: dict[str, str] = {}
    for ref in kept:
        position = sum(1 for other in kept if other.stage == ref.stage and other.index < ref.index)
        new_index[ref.name] = f"stages.{ref.stage}.{position}"
    for key, value in network.state_dict().items():
        if not key.startswith("stages."):
            continue
        stage, index, rest = key.split(".", 3)[1:]
        old_name = f"stages.{stage}.{index}"
        if old_name in new_index:
            state[f"{new_index[old_name]}.{rest}"] = value
    pruned.load_state_dict(state)
    return pruned.eval()


class ShortcutOnly(nn.Module):
    """A lesioned residual block: its output is the shortcut path alone (identity, or the
    projection of a downsampling block) through the final ReLU."""

    def __init__(self, block: BasicBlock) -> None:
        super().__init__()
        if not block.residual:
            raise ValueError("a block without a skip connection cannot be lesioned")
        self.shortcut = block.shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.shortcut(x)
        return F.relu(out)


def lesion_blocks(model: Classifier, names: Iterable[str]) -> Classifier:
    """A copy of residual ``model`` in eval mode whose blocks ``names`` (any, downsampling ones
    included) pass on their shortcut path only, as at test time in the lesion study."""
    network = check_prunable(model)
    chosen = check_block_names(network, names, removable_only=False)
    copy = deepcopy(network).eval()
    refs = {ref.name: ref for ref in list_blocks(copy)}
    for name in chosen:
        ref = refs[name]
        block = get_block_at(copy, ref.stage, ref.index)
        get_stages(copy)[ref.stage][ref.index] = ShortcutOnly(block)
    return copy
