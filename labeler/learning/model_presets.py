"""Model presets: ``--model`` names that stand for one fixed network at the input sizes it was
made for.

A preset is a registered network (``labeler.learning.models``) with its width, depth and stem
fixed, so that a study names one thing and everyone who names it trains the same network. It
resolves to an ordinary ``ModelConfig``: checkpoints, warm starts and pruning see the network
it stands for. The flags ``--width`` and ``--depth`` do not apply to it.

- ``research-resnet``: for generated abstract images (SVRT, orientation, counting) at their
  native 128 px. The residual network of ``resnet`` twice as wide (16 channels in its first
  stage, 64 in its last) with two blocks per stage, behind ResNet's stem (a stride-2 conv and
  a stride-2 max-pool): the first stage works at 32 x 32, and the last one's receptive field
  spans the whole image, which relations between far-apart shapes need. With a stride-2 stem
  only (64 x 64 in the first stage) the same network stayed near chance on SVRT 9, 13 and 18
  at 1,000 images (0.60, 0.56, 0.56; ``bench/results/svrt_learnability.md``), where this one
  and the 64 px default learn them. About 175,000 parameters; one CPU core trains it at a few
  hundred images per second, so a 1,000-image SVRT set takes minutes there and the
  28,000-image sets want a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from labeler.learning.models import ModelConfig


@dataclass(frozen=True)
class ModelPreset:
    """``network``: the registered model it builds; ``width``, ``depth``, ``stem_stride``: its
    fixed shape; ``image_sizes``: the input sides (px) it takes; ``summary``: one line for the
    help."""

    network: str
    width: int
    depth: int
    stem_stride: int
    image_sizes: tuple[int, ...]
    summary: str

    def make_config(
        self, name: str, *, image_size: int, dropout: float, in_channels: int
    ) -> ModelConfig:
        """The preset's ``ModelConfig`` at ``image_size`` (ValueError naming the sizes it takes
        when it is not one of them)."""
        if image_size not in self.image_sizes:
            sizes = ", ".join(f"{size} px" for size in self.image_sizes)
            raise ValueError(
                f"--model {name} takes images of {sizes} only, got {image_size} px "
                f"(give --image-size {self.image_sizes[0]}; a project keeps the size it was "
                f"made with: `labeler init ... --image-size {self.image_sizes[0]}`)"
            )
        return ModelConfig(
            name=self.network,
            width=self.width,
            depth=self.depth,
            stem_stride=self.stem_stride,
            image_size=image_size,
            dropout=dropout,
            in_channels=in_channels,
        )


PRESETS: dict[str, ModelPreset] = {
    "research-resnet": ModelPreset(
        network="resnet",
        width=16,
        depth=2,
        stem_stride=4,
        image_sizes=(128,),
        summary="a wider residual network for generated abstract images at 128 px",
    ),
}


def get_preset(name: str) -> ModelPreset | None:
    """The preset called ``name``, or None when ``name`` is not a preset."""
    return PRESETS.get(name)


def list_presets() -> list[str]:
    return sorted(PRESETS)
