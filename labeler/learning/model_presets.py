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
  28,000-image sets want a GPU. Its input carries two coordinate channels (each pixel's x and
  y, ``ModelConfig.coordinates``): several spatial-relation problems ask where shapes are, not
  what they are (SVRT 17: is a shape at the centre of the circle through three others; 18: are
  the right-hand shapes mirror images of the left-hand ones about the image's middle). With
  them, at 1,000 images and two training seeds, SVRT 17 went from 0.734 and 0.737 to 0.768 and
  0.782 test accuracy, and SVRT 18 from 0.898 and 0.898 to 0.934 and 0.916.
"""

from __future__ import annotations

from dataclasses import dataclass

from labeler.learning.models import ModelConfig


@dataclass(frozen=True)
class ModelPreset:
    """``network``: the registered model it builds; ``width``, ``depth``, ``stem_stride``: its
    fixed shape; ``image_sizes``: the input sides (px) it takes; ``summary``: one line for the
    help; ``coordinates``: whether its input carries coordinate channels."""

    network: str
    width: int
    depth: int
    stem_stride: int
    image_sizes: tuple[int, ...]
    summary: str
    coordinates: bool = False

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
            coordinates=self.coordinates,
        )


PRESETS: dict[str, ModelPreset] = {
    "research-resnet": ModelPreset(
        network="resnet",
        width=16,
        depth=2,
        stem_stride=4,
        image_sizes=(128,),
        summary="a wider residual network with coordinate channels, for generated abstract "
        "images at 128 px",
        coordinates=True,
    ),
}


def get_preset(name: str) -> ModelPreset | None:
    """The preset called ``name``, or None when ``name`` is not a preset."""
    return PRESETS.get(name)


def list_presets() -> list[str]:
    return sorted(PRESETS)
