"""A generator problem's label-preserving transforms as a torch transform of image tensors.

The ready augmentation for the items of ``labeler.api.datasets``: it composes with
``torchvision.transforms.v2`` like any callable, and applies the same transforms, with the
same meaning, as rounds do when they augment (``labeler.learning.tensor_augmentation``).
"""

from __future__ import annotations

import torch
from torch import nn

from generators.family import check_transforms
from labeler.learning.tensor_augmentation import augment_batch


class LabelPreservingTransform(nn.Module):
    """Each of ``names`` (``generators.family.TRANSFORMS``, as
    ``dataset.get_label_preserving_transforms()`` lists them) applied with probability 1/2 (a
    random quarter turn for "rot90", a random offset of a few pixels for "shift"); "translate"
    and "vtranslate" move every image, each to a random place where its ink stays whole.

    Takes a float image ``[C, H, W]`` or a batch ``[N, C, H, W]`` with ink 1.0 and background
    0.0 (what the datasets give). Random draws come from ``generator`` when given, else from
    torch's global generator (which a DataLoader seeds differently in every worker).
    """

    def __init__(
        self, names: tuple[str, ...] | list[str], *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.names = check_transforms(names)
        self.generator = generator

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim not in (3, 4):
            shape = tuple(image.shape)
            raise ValueError(f"expected an image [C, H, W] or a batch [N, C, H, W], got {shape}")
        if image.shape[-1] != image.shape[-2] and "rot90" in self.names:
            raise ValueError(f"rot90 needs square images, got {tuple(image.shape[-2:])}")
        generator = self.generator
        if generator is None:
            seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
            generator = torch.Generator().manual_seed(seed)
        batch = image if image.ndim == 4 else image.unsqueeze(0)
        out = augment_batch(batch, self.names, generator).contiguous()
        return out if image.ndim == 4 else out[0]

    def extra_repr(self) -> str:
        return f"names={self.names}"
