"""SVRT problems about touching chains, lines and repeated pairs: 3, 9, 13.

Each kernel draws one image of the given label into ``image`` and its ground truth into
``table`` (one row per shape, see ``generators.canvas``) and ``witness`` (the measured values
the rule turns on, named in ``WITNESS_NAMES``). It returns False only if the parameters make
the image impossible.
"""

from __future__ import annotations

from typing import Any

KERNELS: dict[int, Any] = {}
WITNESS_NAMES: dict[int, tuple[str, ...]] = {}
