"""The table of SVRT problems: kernel, rule text and witness names for each number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generators.svrt import arrangements, composites, containment, same_different

_MODULES = (same_different, containment, arrangements, composites)

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
