"""Label-preserving augmentation of model input batches ``[n, C, S, S]``, on any device.

Each transform of ``AUGMENTATIONS`` (``generators.transforms``: mirror left-right, mirror
top-bottom, rotate by a random multiple of 90 degrees, shift by a few pixels with white coming
in, translate the whole drawing anywhere it stays inside the frame) is applied to a random
share of a batch. Random draws come from a CPU ``torch.Generator`` only, so a seed gives the
same batches on any device.
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
    none below 32 px), except the translations, which move every image: each by its own offset
    drawn uniformly from those that keep its ink 1 px inside the frame (``translate``; up or
    down only for ``vtranslate``; ``generators.transforms.get_translate_range``). Draws from
    ``generator`` (CPU) only, so a seed gives the same batches on any device."""
    n, side = len(x), x.shape[-1]
    for name in transforms:
        if name == "rot90":
            turns = torch.randint(0, 4, (n,), generator=generator).to(x.device)
            turned = [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)]
            x = torch.stack(turned)[turns, torch.arange(n, device=x.device)]
            continue
        if name in ("translate", "vtranslate"):
            x = _move_each(x, _draw_translations(x, generator, across=name == "translate"))
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
    offsets = torch.randint(-max_shift, max_shift + 1, (len(x), 2), generator=generator)
    return _move_each(x, offsets)


def _draw_translations(
    x: torch.Tensor, generator: torch.Generator, *, across: bool
) -> torch.Tensor:
    """Offsets ``[n, 2]`` (down, right) in px, each uniform over the moves that keep its image's
    ink (any channel not 0) 1 px inside the frame; 0 on an axis without room, and across it
    unless ``across``."""
    n, side = len(x), x.shape[-1]
    ink = x.ne(0).any(dim=1).cpu()  # [n, S, S]
    positions = torch.arange(side)
    moves = []
    for axis in (2, 1):  # rows hold ink where any column does, and the other way round
        held = ink.any(dim=axis)
        first = torch.where(held, positions, side).amin(dim=1)
        last = torch.where(held, positions, -1).amax(dim=1)
        low = (1 - first).clamp(max=0)
        high = (side - 2 - last).clamp(min=0)
        span = torch.where(last >= 0, high - low + 1, 1)  # no ink: no move
        drawn = (torch.rand(n, generator=generator, dtype=torch.float64) * span).long()
        moves.append(torch.where(last >= 0, low + drawn.clamp(max=span - 1), 0))
    if not across:
        moves[1] = torch.zeros_like(moves[1])
    return torch.stack(moves, dim=1)


def _move_each(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Each image moved by its offset (``[n, 2]``: px down, px right), 0 coming in."""
    n, side = len(x), x.shape[-1]
    offsets = offsets.to(x.device)
    positions = torch.arange(side, device=x.device)
    rows = positions[None, :] - offsets[:, :1]  # [n, S]: source row of each output row
    cols = positions[None, :] - offsets[:, 1:]
    inside = ((rows >= 0) & (rows < side))[:, :, None] & ((cols >= 0) & (cols < side))[:, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None]
    shifted = x[batch, :, rows.clamp(0, side - 1)[:, :, None], cols.clamp(0, side - 1)[:, None, :]]
    # Advanced indexing put the channels last: [n, S, S, C].
    shifted = shifted * inside[..., None].to(x.dtype)
    return shifted.permute(0, 3, 1, 2)
