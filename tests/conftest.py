"""Shared fixtures: a tiny fake generator family, tiny datasets, and a command-line runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from generators import registry
from generators.family import Batch, Family
from labeler.cli import main
from labeler.data.dataset_writer import write_dataset
from labeler.learning import models
from labeler.selection import acquisition
from tests.shape_images import make_shape_images


@pytest.fixture(autouse=True)
def forget_custom_entries() -> Iterator[None]:
    """Custom strategies and models a test registers (``custom:<name>``) are forgotten after
    it, so that no other test meets them in the registries' lists."""
    registries = (acquisition._ACQUISITIONS, models._MODELS)
    saved = [dict(registry_._entries) for registry_ in registries]
    yield
    for registry_, entries in zip(registries, saved, strict=True):
        registry_._entries.clear()
        registry_._entries.update(entries)


@dataclass(frozen=True)
class FakeParams:
    """``fail_at``: generating image ``fail_at`` raises, to simulate a crash (-1: never)."""

    image_size: int = 16
    fail_at: int = -1

    def __post_init__(self) -> None:
        if self.image_size < 8:
            raise ValueError(f"image_size must be at least 8, got {self.image_size!r}")


class FakeFamily(Family):
    """Two classes of random dots: class c has 4 + 4c dots, so ink count is a perfect shortcut."""

    name = "fake"
    version = "test-1"
    class_names = ("class_0", "class_1")

    def list_problems(self) -> list[str]:
        return ["a", "b"]

    def list_presets(self) -> dict[str, dict[str, Any]]:
        return {"easy": {}, "standard": {}, "hard": {}}

    def make_params(self, problem: str, preset: str = "standard", **overrides: Any) -> FakeParams:
        self.check_problem(problem)
        if preset not in self.list_presets():
            raise ValueError(f"unknown preset {preset!r}")
        return FakeParams(**overrides)

    def generate(
        self,
        problem: str,
        params: Any,
        *,
        split: str,
        seed: int,
        start: int,
        count: int,
        with_metadata: bool = True,
    ) -> Batch:
        size = params.image_size
        images = np.full((count, size, size), 255, dtype=np.uint8)
        labels = np.arange(start, start + count, dtype=np.int64) % 2
        metadata = []
        key = self.get_stream_key(problem, split, seed)
        for offset in range(count):
            index = start + offset
            if index == params.fail_at:
                raise RuntimeError(f"simulated crash at image {index}")
            rng = np.random.default_rng([key, index])
            n_dots = 4 + 4 * int(labels[offset])
            # Distinct cells, so the ink count is exactly n_dots.
            cells = rng.choice(size * size, size=n_dots, replace=False)
            images[offset].flat[cells] = 0
            metadata.append({"dots": sorted(int(cell) for cell in cells)})
        return Batch(images, labels, metadata if with_metadata else [{} for _ in range(count)])


@pytest.fixture
def fake_family() -> FakeFamily:
    return FakeFamily()


@pytest.fixture
def registered_fake(monkeypatch: pytest.MonkeyPatch) -> FakeFamily:
    """The fake family, registered under "fake" for this test only."""
    family = FakeFamily()
    registry.list_families()  # load the built-in families first, as the command line does
    monkeypatch.setitem(registry._FAMILIES, family.name, family)
    return family


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake-family dataset folder (train 40, test 20 images of 16x16); do not modify it."""
    out = tmp_path_factory.mktemp("tiny") / "fake-a"
    family = FakeFamily()
    write_dataset(
        out,
        family,
        "a",
        family.make_params("a"),
        n_per_split={"train": 40, "test": 20},
        seed=0,
        chunk_size=16,
    )
    return out


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``labeler`` with the given arguments; return its exit code and captured output."""

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def shapes_folder(tmp_path: Path) -> Path:
    """An ImageFolder tree with train/ and test/ of 3 classes (hbar, vbar, square) as PNGs:
    24 train and 8 test images per class, 16 x 16."""
    from PIL import Image

    root = tmp_path / "shapes"
    class_names = ("hbar", "vbar", "square")
    for split, n_per_class, seed in (("train", 24, 0), ("test", 8, 1)):
        labels = np.repeat(np.arange(3), n_per_class)
        for index, (image, label) in enumerate(
            zip(make_shape_images(labels, seed=seed), labels, strict=True)
        ):
            folder = root / split / class_names[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{index:03d}.png")
    return root


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A real local Ray cluster of 2 CPUs for the session (started on first use)."""
    import os
    import sys

    ray = pytest.importorskip("ray", reason="the ray extra is not installed (make venv does it)")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    # Test-only families and functions live in test modules, which Ray's workers cannot
    # import: send them by value. (pytest may import this conftest under either name.)
    for name in list(sys.modules):
        if name in ("conftest", "tests.conftest") or name.rsplit(".", 1)[-1].startswith("test_"):
            ray.cloudpickle.register_pickle_by_value(sys.modules[name])
    yield
    ray.shutdown()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one CPU thread during the test (restored after): torch processes sharing a
    small machine's cores crawl when each takes them all."""
    from labeler.learning.devices import cpu_threads

    with cpu_threads(1):
        yield
