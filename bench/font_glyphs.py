"""A real glyph data set: the letters (or digits) of the system fonts, test fonts unseen.

Renders one image per (font, class) from every TrueType/OpenType font under
``/usr/share/fonts`` (``.ttf``, ``.otf``) as an ImageFolder tree, the layout ``labeler init``
and ``labeler simulate`` read::

    OUT/train/<class>/<font-stem>.png
    OUT/test/<class>/<font-stem>.png

Classes are the 26 uppercase letters ``A``..``Z`` (``--classes upper``, the default), the digits
``0``..``9`` (``--classes digits``) or the lowercase letters (``--classes lower``). Each image
is 8-bit grayscale, a black glyph on white, ``--size`` px square (default 32): the glyph's ink
bounding box is measured at 128 px and scaled, aspect kept, so its longer side fills 80% of
the square, then centred. Because every glyph is scaled to the same box, the size of a glyph
carries no information (lowercase ``o`` and a large ``O`` alike fill the box).

Which fonts are kept:

- a font that lacks a glyph for any class is skipped for all classes (so classes stay
  balanced): a glyph is missing when its ink is empty or its rendering equals that of a code
  point no font maps (U+10FFFD, which draws the font's ``.notdef`` box);
- symbol fonts whose character map puts pictures on the ASCII code points (names containing
  ``Symbol``, ``Dingbat``, ``D050000L``) are skipped;
- fonts whose renderings of all classes are byte-identical to an earlier font's (in sorted
  path order) are dropped as duplicates.

Fonts are split between ``train`` and ``test`` by family, so that the test set is fonts of
families never seen in the pool. The family rule: take the file stem before the first ``-`` or
``_`` (``DejaVuSans-BoldOblique`` -> ``DejaVuSans``), then repeatedly strip a trailing style or
width word (``Bold``, ``Italic``, ``Oblique``, ``Regular``, ``Condensed``, ``Narrow``, ``Light``,
``Display`` (an optical size), ...; ``DejaVuSansCondensed`` -> ``DejaVuSans``), then map known
clones of one design onto one family (``_SAME_DESIGN``: Arimo/Liberation Sans, Tinos/Liberation
Serif, Cousine/Liberation Mono, FreeSans/Nimbus Sans, FreeSerif/Nimbus Roman, FreeMono/Nimbus
Mono PS). The sorted families are shuffled with ``numpy.random.default_rng(seed)`` and the first
``round(test_fraction * n_families)`` go to ``test``.

Deterministic: the same fonts and the same flags give the same bytes.

Rebuild (as root on Debian; ``--install`` runs the ``apt-get`` line itself)::

    apt-get update && apt-get install -y fonts-dejavu fonts-liberation fonts-freefont-ttf \\
        fonts-noto-core fonts-urw-base35 fonts-croscore fonts-crosextra-carlito \\
        fonts-crosextra-caladea
    .venv/bin/python bench/font_glyphs.py datasets/font-glyphs
    .venv/bin/labeler init /tmp/fontproj --images datasets/font-glyphs --image-size 32

(Without ``--image-size 32`` the project stores the 32 px glyphs enlarged to 64 px and warns so;
``--size 64`` renders them at 64 px instead.)

Licences: the glyphs are drawn from the fonts' own outlines, under each font's licence (the
Debian packages above: OFL, GPL with font exception, Bitstream Vera / DejaVu, Apache, AGPL for
URW base35). The rendered data set is for local use and is never redistributed; rebuild it
from the packages instead.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_ROOT = Path("/usr/share/fonts")
FONT_EXTENSIONS = (".ttf", ".otf")
CLASS_SETS = {
    "upper": tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "lower": tuple("abcdefghijklmnopqrstuvwxyz"),
    "digits": tuple("0123456789"),
}
DEBIAN_FONT_PACKAGES = (
    "fonts-dejavu",
    "fonts-liberation",
    "fonts-freefont-ttf",
    "fonts-noto-core",
    "fonts-urw-base35",
    "fonts-croscore",
    "fonts-crosextra-carlito",
    "fonts-crosextra-caladea",
)
# A code point no font maps: its rendering is the font's .notdef glyph.
_MISSING_CODE_POINT = "\U0010fffd"
# Glyphs are measured at this size (px) before being scaled down: fine enough for the bbox.
_RENDER_PX = 128
# Fraction of the image side the glyph's longer bbox side fills.
_FILL = 0.8
# Symbol fonts map pictures onto ASCII code points, so "A" is not an A in them.
_SYMBOL_FONT = re.compile(r"Symbol|Dingbat|D050000L", re.IGNORECASE)
# Trailing words of a stem that name a style or width, not a design (longest first).
_STYLE_WORDS = (
    "SemiCondensed", "ExtraCondensed", "UltraCondensed", "Condensed", "Narrow", "Expanded",
    "ExtraLight", "UltraLight", "SemiLight", "Light", "Thin", "Hairline", "Book", "Display",
    "Regular", "Normal", "Medium", "SemiBold", "DemiBold", "ExtraBold", "UltraBold", "Bold",
    "Demi", "Heavy", "Black", "Italic", "Oblique", "Ita", "Bd",
)  # fmt: skip
# Known clones of one design (metric- or outline-compatible), merged into one family.
_SAME_DESIGN = {
    "Arimo": "LiberationSans",
    "Tinos": "LiberationSerif",
    "Cousine": "LiberationMono",
    "FreeSans": "NimbusSans",
    "FreeSerif": "NimbusRoman",
    "FreeMono": "NimbusMonoPS",
}


@dataclass(frozen=True)
class GlyphSetConfig:
    """One field per command-line flag; written to ``OUT/font_glyphs.json`` with the counts."""

    classes: str = "upper"
    size: int = 32
    test_fraction: float = 0.3
    seed: int = 0


@dataclass(frozen=True)
class FontGlyphs:
    """A font's rendered glyphs: ``pngs[i]`` is the PNG bytes of class ``i``."""

    path: Path
    name: str
    family: str
    pngs: tuple[bytes, ...]


def get_family(stem: str) -> str:
    """The family of a font file stem, by the rule in the module docstring."""
    family = re.split(r"[-_]", stem, maxsplit=1)[0]
    stripped = True
    while stripped:
        stripped = False
        for word in _STYLE_WORDS:
            if family.endswith(word) and len(family) > len(word):
                family = family[: -len(word)]
                stripped = True
                break
    return _SAME_DESIGN.get(family, family)


def find_fonts(root: Path = FONT_ROOT) -> list[Path]:
    """TrueType/OpenType files under ``root``, sorted by path; symbol fonts left out."""
    paths = (p for p in root.rglob("*") if p.suffix.lower() in FONT_EXTENSIONS and p.is_file())
    return sorted(p for p in paths if not _SYMBOL_FONT.search(p.stem))


def _render_ink(font: ImageFont.FreeTypeFont, char: str) -> Image.Image | None:
    """The glyph's ink cropped to its bounding box (mode L, 255 = ink), or None when empty."""
    canvas = Image.new("L", (3 * _RENDER_PX, 3 * _RENDER_PX), 0)
    ImageDraw.Draw(canvas).text(
        (1.5 * _RENDER_PX, 1.5 * _RENDER_PX), char, fill=255, font=font, anchor="mm"
    )
    box = canvas.getbbox()
    return None if box is None else canvas.crop(box)


def render_glyph(ink: Image.Image, *, size: int) -> Image.Image:
    """A ``size`` px square, black glyph on white, its ink box scaled to fill 80% of the side."""
    width, height = ink.size
    scale = _FILL * size / max(width, height)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    glyph = ink.resize(new_size, Image.Resampling.LANCZOS)
    image = Image.new("L", (size, size), 0)
    image.paste(glyph, ((size - new_size[0]) // 2, (size - new_size[1]) // 2))
    return Image.eval(image, lambda value: 255 - value)


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def render_font(path: Path, chars: Sequence[str], *, size: int) -> tuple[bytes, ...] | None:
    """PNG bytes of each char in the font at ``path``, or None when a glyph is missing."""
    try:
        font = ImageFont.truetype(str(path), _RENDER_PX)
    except OSError:
        return None
    notdef = _render_ink(font, _MISSING_CODE_POINT)
    notdef_bytes = None if notdef is None else (notdef.size, notdef.tobytes())
    pngs = []
    for char in chars:
        ink = _render_ink(font, char)
        if ink is None or (ink.size, ink.tobytes()) == notdef_bytes:
            return None
        pngs.append(_png_bytes(render_glyph(ink, size=size)))
    return tuple(pngs)


def load_font_glyphs(
    paths: Sequence[Path], chars: Sequence[str], *, size: int
) -> tuple[list[FontGlyphs], dict[str, int]]:
    """Render every font; drop fonts missing a glyph and exact duplicates.

    Returns the kept fonts (in path order, names unique) and counts of what was dropped:
    ``n_unreadable_or_missing``, ``n_duplicates``.
    """
    kept: list[FontGlyphs] = []
    seen_hashes: set[str] = set()
    used_names: set[str] = set()
    counts = {"n_unreadable_or_missing": 0, "n_duplicates": 0}
    for path in paths:
        pngs = render_font(path, chars, size=size)
        if pngs is None:
            counts["n_unreadable_or_missing"] += 1
            continue
        digest = hashlib.sha256(b"".join(pngs)).hexdigest()
        if digest in seen_hashes:
            counts["n_duplicates"] += 1
            continue
        seen_hashes.add(digest)
        name = path.stem if path.stem not in used_names else f"{path.parent.name}-{path.stem}"
        used_names.add(name)
        kept.append(FontGlyphs(path=path, name=name, family=get_family(path.stem), pngs=pngs))
    return kept, counts


def split_families(families: Sequence[str], *, test_fraction: float, seed: int) -> set[str]:
    """The test families: a seeded shuffle of the sorted unique families, first fraction."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    unique = sorted(set(families))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_test = max(1, round(test_fraction * len(unique)))
    return {unique[i] for i in order[:n_test]}


def write_glyph_folder(
    out: Path, *, config: GlyphSetConfig, font_root: Path = FONT_ROOT
) -> dict[str, int]:
    """Render the fonts under ``font_root`` into ``out`` (replaced); returns the counts."""
    if config.classes not in CLASS_SETS:
        raise ValueError(f"classes must be one of {sorted(CLASS_SETS)}, got {config.classes!r}")
    chars = CLASS_SETS[config.classes]
    paths = find_fonts(font_root)
    fonts, counts = load_font_glyphs(paths, chars, size=config.size)
    test_families = split_families(
        [font.family for font in fonts], test_fraction=config.test_fraction, seed=config.seed
    )
    if out.exists():
        shutil.rmtree(out)
    for split in ("train", "test"):
        for char in chars:
            (out / split / char).mkdir(parents=True)
    n_test_fonts = 0
    listing = []
    for font in fonts:
        split = "test" if font.family in test_families else "train"
        n_test_fonts += split == "test"
        listing.append({"name": font.name, "family": font.family, "split": split})
        for char, png in zip(chars, font.pngs, strict=True):
            (out / split / char / f"{font.name}.png").write_bytes(png)
    n_families = len({font.family for font in fonts})
    counts = {
        "n_font_files": len(paths),
        **counts,
        "n_fonts": len(fonts),
        "n_families": n_families,
        "n_train_families": n_families - len(test_families),
        "n_test_families": len(test_families),
        "n_train_fonts": len(fonts) - n_test_fonts,
        "n_test_fonts": n_test_fonts,
        "n_classes": len(chars),
    }
    record = {"config": asdict(config), "counts": counts, "fonts": listing}
    (out / "font_glyphs.json").write_text(json.dumps(record, indent=1) + "\n")
    return counts


def install_fonts() -> int:
    """Run apt-get to install ``DEBIAN_FONT_PACKAGES``; returns its exit status."""
    command = ["apt-get", "install", "-y", *DEBIAN_FONT_PACKAGES]
    print("running: apt-get update && " + " ".join(command))
    update = subprocess.run(["apt-get", "update"], check=False)
    if update.returncode != 0:
        return update.returncode
    return subprocess.run(command, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (replaced if it exists)")
    parser.add_argument("--classes", choices=sorted(CLASS_SETS), default="upper")
    parser.add_argument("--size", type=int, default=32, help="image side in px")
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--font-root", type=Path, default=FONT_ROOT)
    parser.add_argument(
        "--install", action="store_true", help="first apt-get install the Debian font packages"
    )
    args = parser.parse_args()
    if args.install:
        status = install_fonts()
        if status != 0:
            print(f"apt-get failed (exit {status}); going on with the fonts installed")
    config = GlyphSetConfig(
        classes=args.classes, size=args.size, test_fraction=args.test_fraction, seed=args.seed
    )
    counts = write_glyph_folder(args.out, config=config, font_root=args.font_root)
    for key, value in counts.items():
        print(f"{key}: {value}")
    print(
        f"images per class: train {counts['n_train_fonts']}, test {counts['n_test_fonts']}"
        f" -> {args.out}"
    )


if __name__ == "__main__":
    main()
