"""Tests of labeler.learning.devices: the device, CPU threads and autocast."""

from __future__ import annotations

import pytest
import torch

from labeler.learning.devices import autocast, count_cores, cpu_threads, resolve_device


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match=r"unknown device 'tpu'; valid ones: auto, cpu, cuda"):
        resolve_device("tpu")


def test_thread_setting_is_applied_and_restored() -> None:
    before = torch.get_num_threads()
    with cpu_threads(1) as n_threads:
        assert n_threads == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert count_cores() >= 1


@pytest.mark.parametrize("n_threads", [0, -1, True, 1.5, "2"])
def test_bad_thread_counts_are_refused(n_threads: object) -> None:
    with (
        pytest.raises(ValueError, match=r"n_threads must be an integer >= 1 or None, got"),
        cpu_threads(n_threads),  # type: ignore[arg-type]
    ):
        pass


def test_autocast_is_off_on_the_cpu() -> None:
    with autocast(torch.device("cpu")):
        out = torch.ones(2, 2) @ torch.ones(2, 2)
    assert out.dtype == torch.float32
