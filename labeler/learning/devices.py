"""Where torch runs: the device to train and score on, CPU threads, and mixed precision.

- ``resolve_device``: "auto" -> CUDA when present, else CPU;
- ``count_cores`` and ``cpu_threads``: torch's CPU threads for a block (every core by default,
  the previous setting restored afterwards);
- ``autocast``: bfloat16 autocast on CUDA, nothing on CPU.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from generators.checks import check_optional_int

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without CUDA -> ValueError."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; valid ones: {', '.join(DEVICES)}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for, but CUDA is not available here")
    return torch.device(name)


def count_cores() -> int:
    """Number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def cpu_threads(n_threads: int | None) -> Iterator[int]:
    """Run the block with ``n_threads`` torch CPU threads (None: every core), then restore the
    previous setting. Yields the number used.

    Several torch processes on the same cores should each get fewer threads (e.g. 1): when
    threads outnumber cores, torch's kernels wait on each other and slow down many times over.
    """
    check_optional_int("n_threads", n_threads, low=1)
    wanted = count_cores() if n_threads is None else n_threads
    previous = torch.get_num_threads()
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def autocast(device: torch.device) -> torch.autocast:
    """bfloat16 autocast on CUDA; disabled elsewhere."""
    # bfloat16 needs no loss scaling; CPU autocast stays off (slower than float32 on most CPUs).
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )
