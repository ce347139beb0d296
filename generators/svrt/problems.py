"""The table of SVRT problems: kernel, rule text, witness names, label-preserving transforms.

Every kernel ``kernel(key, index, prm, cv, images, tables, witnesses, slot) -> bool`` draws
image ``index`` of stream ``key`` (label ``index % 2``) into ``images[slot]``, its ground truth
into ``tables[slot]`` (one row per shape, see ``generators.canvas``) and ``witnesses[slot]``
(the measured values the rule turns on, named in ``WITNESS_NAMES``); ``cv`` is scratch canvas.
It returns False only if the parameters make the image impossible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generators.svrt import (
    arrangements,
    composites,
    containment,
    same_different,
    symmetry,
    transformed_copies,
)

_MODULES = (
    same_different,
    transformed_copies,
    containment,
    arrangements,
    symmetry,
    composites,
)

KERNELS: dict[int, Callable[..., Any]] = {
    number: kernel for module in _MODULES for number, kernel in module.KERNELS.items()
}

WITNESS_NAMES: dict[int, tuple[str, ...]] = {
    number: names for module in _MODULES for number, names in module.WITNESS_NAMES.items()
}

RULES: dict[int, str] = {
    1: "0: two different shapes | 1: two identical shapes (translation only)",
    2: "0: small shape inside the big one, >= 16 px from its contour | 1: inside, 1-2 px from it",
    3: "0: an isolated shape + a chain of three touching shapes | 1: two separate touching pairs",
    4: "0: small shape outside the big one | 1: small shape inside the big one",
    5: "0: four pairwise different shapes | 1: two pairs of identical shapes",
    6: "0: two pairs, within-pair distances differ by >= 21 px | 1: same within-pair distance",
    7: "0: three pairs of identical shapes | 1: two triplets of identical shapes",
    8: "0: different small shape inside, or half-scale copy outside | 1: half-scale copy inside",
    9: "0: three collinear shapes, the big one in the middle | 1: the big one at an end",
    10: "0: four identical shapes at random positions | 1: at the corners of a square",
    11: "0: small shape >= 10 px from the big one | 1: small shape touching it from outside",
    12: "0: one small shape close to the big one | 1: the two small shapes close together",
    13: "0: second (big, small) pair at another offset | 1: second pair a translated copy",
    14: "0: three identical shapes, not aligned | 1: three identical shapes, aligned",
    15: "0: four different shapes on a square's corners | 1: four identical shapes there",
    16: "0: six copies, right-hand ones translated | 1: right-hand ones mirrored (symmetric)",
    17: "0: odd shape >= 21 px from the others' circumcentre | 1: odd shape at the circumcentre",
    18: "0: right three keep the left three's heights at random x | 1: at mirrored x",
    19: "0: two different shapes at random scales | 1: the same shape at two scales",
    20: "0: two different shapes | 1: the second is the mirror image of the first",
    21: "0: two different shapes | 1: the same shape up to scale and rotation",
    22: "0: three collinear different shapes | 1: three collinear identical shapes",
    23: "0: two small shapes both inside or both outside the big one | 1: one in, one out",
}

# The transforms (generators.family.TRANSFORMS) that keep each problem's label, with why.
# A flip or quarter turn of the whole image maps every shape by the same isometry of the pixel
# grid, so relations between shapes survive it: translated copies stay pixel-identical copies
# and different shapes stay different, a copy at another scale or rotation stays one (a global
# mirror mirrors both shapes), a mirrored pair stays mirrored (the axis moves with the image),
# and inside/outside, contact, distances, alignment, squares and circles are all kept. Only
# problems 16 and 18 refer to the image's own frame, its vertical midline: flips keep that
# line, a quarter turn makes it horizontal. No problem takes "shift": shapes keep only a 1-px
# margin, so a shift can cut a shape at the edge (opening its contour, or making one of two
# copies differ from the other). "translate" moves the whole drawing without cutting any of it,
# so it keeps every relation between shapes too; 16 and 18 take it up and down only
# ("vtranslate"), which keeps the vertical midline where it is. Training with it, the research
# preset at 1,000 images gained on 11 of the 14 spatial-relation problems, most where it had
# fallen short (SVRT 17 0.785 -> 0.805 test accuracy, 18 0.925 -> 0.949, 8 0.910 -> 0.947),
# kept SVRT 2 at 1.000 and lost on 9 (0.961 -> 0.955) and 6 (at chance either way); one
# training seed each, bench/svrt_learnability.py (at seed 1: 17 0.802, 18 0.946).
_TURNS_AND_FLIPS = ("hflip", "vflip", "rot90", "translate")
_FLIPS = ("hflip", "vflip", "vtranslate")
LABEL_PRESERVING_TRANSFORMS: dict[int, tuple[str, ...]] = {
    1: _TURNS_AND_FLIPS,  # identical stays identical, different stays different
    2: _TURNS_AND_FLIPS,  # inside, and the distance to the big contour (16 px vs 1-2 px), kept
    3: _TURNS_AND_FLIPS,  # contact and the 16 px between pairs kept: a chain stays a chain
    4: _TURNS_AND_FLIPS,  # inside stays inside, outside stays outside
    5: _TURNS_AND_FLIPS,  # which shapes are copies of which is kept
    6: _TURNS_AND_FLIPS,  # both within-pair distances, hence their difference, kept
    7: _TURNS_AND_FLIPS,  # pairs of copies stay pairs, triplets stay triplets
    8: _TURNS_AND_FLIPS,  # a half-scale copy stays one (scaling commutes); inside/outside kept
    9: _TURNS_AND_FLIPS,  # collinearity and which shape lies in the middle kept
    10: _TURNS_AND_FLIPS,  # a square's corners map to a square's corners
    11: _TURNS_AND_FLIPS,  # touching vs at least 10 px apart kept
    12: _TURNS_AND_FLIPS,  # the circle and which shapes are close to which kept
    13: _TURNS_AND_FLIPS,  # both (big, small) offsets turn alike: equal stays equal, 32 px kept
    14: _TURNS_AND_FLIPS,  # the distance to the segment joining the other two (6.4 px) kept
    15: _TURNS_AND_FLIPS,  # square corners stay square corners; copies stay copies
    16: _FLIPS,  # flips keep left-right symmetry about the vertical midline; a turn does not
    17: _TURNS_AND_FLIPS,  # the circumcentre moves with the shapes; the 21 px offset kept
    18: _FLIPS,  # flips keep equal heights and mirrored x; a turn makes heights into x
    19: _TURNS_AND_FLIPS,  # one shape at two scales stays one shape at two scales
    20: _TURNS_AND_FLIPS,  # a mirror image across the centres' bisector stays one
    21: _TURNS_AND_FLIPS,  # equal up to scale and rotation stays so (mirrors hit both)
    22: _TURNS_AND_FLIPS,  # collinear stays collinear; copies stay copies
    23: _TURNS_AND_FLIPS,  # inside/outside of each small shape kept
}
