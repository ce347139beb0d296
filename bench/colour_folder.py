"""A synthetic colour photo folder with 8 classes, for benchmarks that need colour images.

No real photo collection can be downloaded here, so this draws one: each image is a JPEG of a
random size (48-96 px a side, rarely square) with a light background of random hue, a gradient
and noise, and one object. The class is the object's shape (disc, square, triangle, cross) and
its colour family (warm: red to yellow; cool: green to blue), so neither shape alone nor colour
alone tells the 8 classes apart, and the object's size, place and exact hue vary. Written as an
ImageFolder tree ``ROOT/train/<class>/*.jpg`` and ``ROOT/test/<class>/*.jpg``; deterministic
for a seed.

    python bench/colour_folder.py OUT --train 2000 --test 800
"""

from __future__ import annotations

import argparse
import colorsys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("disc", "square", "triangle", "cross")
FAMILIES = ("warm", "cool")
CLASS_NAMES = tuple(f"{family}_{shape}" for family in FAMILIES for shape in SHAPES)
# Hue ranges (0-1) of the colour families.
_HUES = {"warm": (0.0, 0.16), "cool": (0.30, 0.66)}


def draw_image(class_index: int, rng: np.random.Generator) -> Image.Image:
    """One image of class ``CLASS_NAMES[class_index]``."""
    family, shape = FAMILIES[class_index // len(SHAPES)], SHAPES[class_index % len(SHAPES)]
    width, height = (int(side) for side in rng.integers(48, 97, size=2))
    background = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.3), 0.9)) * 255
    ramp = np.linspace(-20, 20, width)[None, :, None] * rng.choice([-1, 1])
    noise = rng.normal(0, 8, size=(height, width, 3))
    pixels = np.clip(background[None, None, :] + ramp + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, mode="RGB")
    low, high = _HUES[family]
    colour = colorsys.hsv_to_rgb(
        rng.uniform(low, high), rng.uniform(0.6, 1.0), rng.uniform(0.5, 0.9)
    )
    fill = tuple(int(255 * channel) for channel in colour)
    short = min(width, height)
    size = rng.uniform(0.3, 0.6) * short
    centre_x = rng.uniform(size / 2, width - size / 2)
    centre_y = rng.uniform(size / 2, height - size / 2)
    box = (centre_x - size / 2, centre_y - size / 2, centre_x + size / 2, centre_y + size / 2)
    draw = ImageDraw.Draw(image)
    if shape == "disc":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(box[0], box[3]), (box[2], box[3]), (centre_x, box[1])], fill=fill)
    else:
        bar = size / 3
        draw.rectangle((centre_x - bar / 2, box[1], centre_x + bar / 2, box[3]), fill=fill)
        draw.rectangle((box[0], centre_y - bar / 2, box[2], centre_y + bar / 2), fill=fill)
    return image


def write_folder(root: Path, *, n_train: int, n_test: int, seed: int = 0) -> Path:
    """Write ``n_train`` and ``n_test`` images (classes in turn, so balanced) under ``root``."""
    for split, count, stream in (("train", n_train, 0), ("test", n_test, 1)):
        for name in CLASS_NAMES:
            (root / split / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            rng = np.random.default_rng([seed, stream, index])
            label = index % len(CLASS_NAMES)
            path = root / split / CLASS_NAMES[label] / f"{index:05d}.jpg"
            if not path.exists():
                draw_image(label, rng).save(path, quality=90)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_folder(args.out, n_train=args.train, n_test=args.test, seed=args.seed)
    print(f"wrote {args.train} + {args.test} images of {len(CLASS_NAMES)} classes to {args.out}")


if __name__ == "__main__":
    main()
