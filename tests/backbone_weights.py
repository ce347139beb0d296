"""Stand-ins for torchvision's ImageNet weights files, for tests that must not download any."""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision.models


def write_random_weights(path: Path, backbone: str, *, seed: int) -> dict[str, torch.Tensor]:
    """Save the state dict of a randomly initialised torchvision ``backbone`` (the whole
    classifier, as torchvision's own files hold it) at ``path``; return it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = getattr(torchvision.models, backbone)(weights=None)
    # Batch-norm statistics away from their defaults (0 and 1), as trained weights have them.
    for name, buffer in network.named_buffers():
        if name.endswith("running_mean") or name.endswith("running_var"):
            generator = torch.Generator().manual_seed(seed)
            buffer.copy_(0.5 + torch.rand(buffer.shape, generator=generator))
    state = network.state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def get_cache_file(torch_home: Path, file_name: str) -> Path:
    """Where torch's hub cache under ``torch_home`` keeps a weights file named ``file_name``."""
    return torch_home / "hub" / "checkpoints" / file_name
