"""Tests of labeler.pruning.surgery: listing, removing and lesioning blocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from labeler.learning.checkpoints import load_checkpoint, save_checkpoint
from labeler.learning.models import BasicBlock, ModelConfig, make_model
from labeler.pruning.surgery import lesion_blocks, list_blocks, remove_blocks

CONFIG = ModelConfig(name="resnet", depth=3, width=4, image_size=16)


def make_trained_looking_model(seed: int) -> nn.Module:
    """A resnet whose branches all output something (fresh ones start as zero)."""
    torch.manual_seed(seed)
    model = make_model(CONFIG, n_classes=3).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.1, 0.1)
    return model


def zero_branch(block: BasicBlock) -> None:
    """Make a block the identity on non-negative input (its branch outputs exactly 0)."""
    last_bn = block.body[-1]
    with torch.no_grad():
        last_bn.weight.zero_()
        last_bn.bias.zero_()


def test_blocks_are_listed_in_order_with_the_shape_keeping_ones_removable() -> None:
    torch.manual_seed(0)
    refs = list_blocks(make_model(CONFIG, n_classes=2))
    assert [ref.name for ref in refs] == [f"stages.{s}.{b}" for s in range(3) for b in range(3)]
    # the first block of stages 1 and 2 halves the resolution and doubles the channels
    assert [ref.name for ref in refs if not ref.removable] == ["stages.1.0", "stages.2.0"]
    assert all(ref.residual for ref in refs)


def test_removing_identity_blocks_keeps_the_outputs() -> None:
    model = make_trained_looking_model(0)
    chosen = ["stages.0.1", "stages.1.2", "stages.2.1"]
    for name in chosen:
        stage, index = map(int, name.split(".")[1:])
        zero_branch(model.stages[stage][index])
    pruned = remove_blocks(model, chosen)
    assert pruned.config.stage_depths == (2, 2, 2)
    x = torch.rand(5, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), model(x))
    assert pruned(x).shape == (5, 3)
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in model.parameters())


def test_removing_a_working_block_changes_the_outputs_but_keeps_their_shape() -> None:
    model = make_trained_looking_model(1)
    pruned = remove_blocks(model, ["stages.0.0"])
    x = torch.rand(5, 1, 16, 16)
    with torch.no_grad():
        assert pruned(x).shape == model(x).shape
        assert not torch.allclose(pruned(x), model(x))
        # every kept block carries its own weights: the last stage is the same module twice over
        torch.testing.assert_close(
            pruned.stages[2][2].body[0].weight, model.stages[2][2].body[0].weight
        )


def test_a_stage_can_be_emptied(tmp_path) -> None:
    model = make_trained_looking_model(2)
    pruned = remove_blocks(model, ["stages.0.0", "stages.0.1", "stages.0.2"])
    assert pruned.config.stage_depths == (0, 3, 3)
    assert pruned(torch.rand(2, 1, 16, 16)).shape == (2, 3)


def test_a_pruned_model_saves_and_loads_through_the_checkpoint_code(tmp_path) -> None:
    model = make_trained_looking_model(3)
    pruned = remove_blocks(model, ["stages.0.2", "stages.2.2"])
    path = save_checkpoint(
        tmp_path / "pruned.pt",
        pruned,
        model_config=pruned.config,
        n_classes=3,
        class_names=["a", "b", "c"],
    )
    loaded, info = load_checkpoint(path)
    assert info.model_config.stage_depths == (2, 3, 2)
    x = torch.rand(3, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), pruned(x))


def test_unknown_and_shape_changing_blocks_are_refused() -> None:
    model = make_trained_looking_model(4)
    with pytest.raises(ValueError, match=r"unknown block 'stages\.3\.0'; valid ones: stages\.0"):
        remove_blocks(model, ["stages.3.0"])
    with pytest.raises(ValueError, match=r"stages\.1\.0.*cannot be removed; removable ones"):
        remove_blocks(model, ["stages.1.0"])
    with pytest.raises(ValueError, match="repeat"):
        remove_blocks(model, ["stages.0.1", "stages.0.1"])


def test_a_lesioned_block_passes_its_shortcut_only() -> None:
    model = make_trained_looking_model(5)
    lesioned = lesion_blocks(model, ["stages.1.0"])
    block = model.stages[1][0]
    x = torch.rand(2, 4, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(lesioned.stages[1][0](x), torch.relu(block.shortcut(x)))
        assert lesioned(torch.rand(2, 1, 16, 16)).shape == (2, 3)
    # the model itself is untouched
    assert isinstance(model.stages[1][0], BasicBlock)


def test_lesioning_an_identity_block_with_a_zero_branch_changes_nothing() -> None:
    model = make_trained_looking_model(6)
    zero_branch(model.stages[0][1])
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(lesion_blocks(model, ["stages.0.1"])(x), expected)
    assert np.isfinite(expected.numpy()).all()


def test_plain_networks_cannot_be_lesioned() -> None:
    torch.manual_seed(0)
    model = make_model(ModelConfig(name="plain", depth=2, width=4, image_size=16), n_classes=2)
    with pytest.raises(ValueError, match="skip connection"):
        lesion_blocks(model, ["stages.0.1"])
