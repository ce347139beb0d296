"""Label-preserving augmentation of model input batches ``[n, C, S, S]``, on any device.

Each transform of ``AUGMENTATIONS`` (``generators.transforms``: mirror left-right, mirror
top-bottom, rotate by a random multiple of 90 degrees, shift by a few pixels with white coming
in) is applied to a random share of a batch. Random draws come from a CPU ``torch.Generator``
only, so a seed gives the same batches on any device.
"""

from __future__ import annotations

import torch

from generators.family import TRANSFORMS
from generators.transforms import get_max_shift_px

# Transforms ``augment_batch`` knows (and ``TrainConfig.augment`` may list).
AUGMENTATIONS = TRANSFORMS


def augment_batch(
    x: torch.Tensor, transforms: tuple[str, ...], generator: torch.Generator
) -> torch.Tensor:
    """Model input ``x`` ``[n, C, S, S]`` with each of ``transforms`` (``AUGMENTATIONS``) applied
    to a random half of the images (rot90: a random quarter turn, 0 included; shift: a random
    offset of up to ``get_max_shift_px(S)`` pixels each way, the uncovered part white, i.e. 0,
    none below 32 px). Draws from ``generator`` (CPU) only, so a seed gives the same batches on
    any device."""
    n, side = len(x), x.shape[-1]
    for name in transforms:
        if name == "rot90":
            turns = torch.randint(0, 4, (n,), generator=generator).to(x.device)
            turned = [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)]
            x = torch.stack(turned)[turns, torch.arange(n, device=x.device)]
            continue
        if name == "shift":
            if get_max_shift_px(side) > 0:
                x = _shift_some(x, get_max_shift_px(side), generator)
            continue
        chosen = (torch.rand(n, generator=generator) < 0.5).to(x.device)
        flipped = x.flip(-1) if name == "hflip" else x.flip(-2)
        x = torch.where(chosen[:, None, None, None], flipped, x)
    return x.contiguous(memory_format=torch.channels_last)


def _shift_some(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by its own random offset in ``-max_shift..max_shift`` on both axes."""
    n, side = len(x), x.shape[-1]
    offsets = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator).to(x.device)
    positions = torch.arange(side, device=x.device)
    rows = positions[None, :] - offsets[:, :1]  # [n, S]: source row of each output row
    cols = positions[None, :] - offsets[:, 1:]
    inside = ((rows >= 0) & (rows < side))[:, :, None] & ((cols >= 0) & (cols < side))[:, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None]
    shifted = x[batch, :, rows.clamp(0, side - 1)[:, :, None], cols.clamp(0, side - 1)[:, None, :]]
    # Advanced indexing put the channels last: [n, S, S, C].
    shifted = shifted * inside[..., None].to(x.dtype)
    return shifted.permute(0, 3, 1, 2)
