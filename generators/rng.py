"""Counter-based random numbers for the generators.

Image k of (family, problem, split, seed) draws from its own stream, whose start is a hash of
those values; no global state is involved, so any image can be regenerated alone and output is
identical whatever the number of workers. The stream is SplitMix64, a 64-bit counter passed
through a strong mixer: small, fast in numba, and statistically sound for synthesis.

Kernels keep the stream state in a one-element ``uint64`` array (``state``) so that helpers can
advance it in place.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np

from generators.numba_cache import cached_njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_INV_2_53 = 1.0 / 9007199254740992.0
_INV_2_31 = 1.0 / 2147483648.0


@functools.lru_cache(maxsize=1024)  # on-the-fly datasets ask for it once per image
def get_stream_key(*parts: object) -> int:
    """Return a 64-bit key naming one stream, e.g. ``("svrt", 4, "train", 0)``.

    A cryptographic hash of the parts' text, so different splits or seeds never share a stream.
    """
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


@cached_njit
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a bijective scramble of a 64-bit value."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@cached_njit
def make_state(stream_key: np.uint64, index: np.uint64) -> np.ndarray:
    """Return the state array that starts image ``index`` of stream ``stream_key``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = mix64(stream_key ^ mix64(index * _GOLDEN + _GOLDEN))
    return state


@cached_njit
def next_u64(state: np.ndarray) -> np.uint64:
    state[0] = state[0] + _GOLDEN
    return mix64(state[0])


@cached_njit
def uniform(state: np.ndarray, low: float, high: float) -> float:
    """A float uniform in [low, high)."""
    u = float(next_u64(state) >> _S11) * _INV_2_53
    return low + (high - low) * u


@cached_njit
def integer(state: np.ndarray, low: int, high: int) -> int:
    """An integer uniform in [low, high] (both ends included)."""
    span = high - low + 1
    u = float(next_u64(state) >> _S11) * _INV_2_53
    value = low + int(u * span)
    return min(value, high)


@cached_njit
def angle(state: np.ndarray) -> float:
    """An angle uniform in [0, 2 pi)."""
    return uniform(state, 0.0, 2.0 * math.pi)


@cached_njit
def in_disc(state: np.ndarray, radius: float) -> tuple[float, float]:
    """A point uniform in the disc of the given radius around the origin (by rejection)."""
    x, y, state[0] = in_disc_at(state[0], radius)
    return x, y


@cached_njit
def in_disc_at(counter: np.uint64, radius: float) -> tuple[float, float, np.uint64]:
    """``in_disc`` on a stream state held as a plain value: returns (x, y, the new state).

    Each 64-bit draw gives both coordinates (32 bits each): this is the generators' hottest
    loop, and 32 bits are ample resolution for a displacement of a few pixels. A loop that
    keeps the state in a local variable spares a store and a load per draw.
    """
    while True:
        counter = counter + _GOLDEN
        bits = mix64(counter)
        x = float(bits >> _S32) * _INV_2_31 - 1.0
        y = float(bits & _LOW32) * _INV_2_31 - 1.0
        if x * x + y * y <= 1.0:
            return x * radius, y * radius, counter
