"""The Ray engine on a real local Ray cluster: order, byte-identical generation, retries."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from labeler.data.dataset_format import load_metadata
from labeler.data.dataset_writer import write_dataset

ray = pytest.importorskip("ray", reason="the ray extra is not installed (make venv installs it)")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def square_plus(shared: int, item: int) -> int:
    return item * item + shared


def hash_folder(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_results_come_back_in_task_order(ray_cluster) -> None:
    from labeler.engines.ray_engine import RayEngine

    with RayEngine() as engine:
        assert list(engine.map_in_order(square_plus, range(40), shared=1)) == [
            i * i + 1 for i in range(40)
        ]
    assert ray.is_initialized()  # the engine leaves a cluster it did not start running


def test_generation_on_ray_is_byte_identical_to_local(ray_cluster, fake_family, tmp_path) -> None:
    from labeler.engines.ray_engine import RayEngine

    arguments = {"n_per_split": {"train": 96, "test": 32}, "seed": 3, "chunk_size": 16}
    params = fake_family.make_params("a")
    write_dataset(tmp_path / "local", fake_family, "a", params, **arguments)
    write_dataset(tmp_path / "two", fake_family, "a", params, workers=2, **arguments)
    with RayEngine() as engine:
        write_dataset(tmp_path / "ray", fake_family, "a", params, engine=engine, **arguments)
    local = hash_folder(tmp_path / "local")
    assert len(local) == 96 + 32 + 7  # PNGs, 3 files per split and dataset.json
    assert hash_folder(tmp_path / "ray") == local == hash_folder(tmp_path / "two")


def make_crash_once_family(base: type, marker: Path):
    """A family like ``base`` whose worker dies, as if killed, the first time it makes train
    chunk 16 (``marker`` remembers that it did)."""

    class CrashOnce(base):  # type: ignore[misc, valid-type]
        def generate(self, problem, params, *, split, seed, start, count, with_metadata=True):
            if split == "train" and start == 16 and not marker.exists():
                marker.touch()
                os._exit(1)
            return super().generate(
                problem, params, split=split, seed=seed, start=start, count=count,
                with_metadata=with_metadata,
            )  # fmt: skip

    return CrashOnce()


def test_a_killed_task_is_retried_and_writes_no_duplicate(
    ray_cluster, fake_family, tmp_path
) -> None:
    from labeler.engines.ray_engine import RayEngine

    marker = tmp_path / "crashed-once"
    family = make_crash_once_family(type(fake_family), marker)
    arguments = {"n_per_split": {"train": 64, "test": 16}, "seed": 0, "chunk_size": 16}
    params = family.make_params("a")
    with RayEngine() as engine:
        write_dataset(tmp_path / "ray", family, "a", params, engine=engine, **arguments)
    assert marker.exists()  # the worker did die once
    write_dataset(tmp_path / "local", fake_family, "a", params, **arguments)
    assert hash_folder(tmp_path / "ray") == hash_folder(tmp_path / "local")
    indices = [record["index"] for record in load_metadata(tmp_path / "ray", "train")]
    assert indices == list(range(64))


def test_generate_with_engine_ray_on_the_command_line(
    ray_cluster, registered_fake, run_cli, tmp_path
) -> None:
    common = ["generate", "fake", "--problem", "a", "--n-train", "40", "--n-test", "20"]
    assert run_cli(*common, "--out", tmp_path / "local").code == 0
    result = run_cli(*common, "--engine", "ray", "--out", tmp_path / "ray")
    assert result.code == 0, result.err
    assert "wrote" in result.out
    assert hash_folder(tmp_path / "ray") == hash_folder(tmp_path / "local")


def make_counter_state(init: int, n_cpus: int | None) -> tuple[int, int | None, int]:
    return init, n_cpus, os.getpid()


def add_to_state(state: tuple[int, int | None, int], item: int) -> tuple[int, int | None, int]:
    return state[0] + item, state[1], state[2]


def test_actors_build_their_state_once_and_answer_in_order(ray_cluster) -> None:
    from labeler.engines.ray_engine import RayEngine

    with RayEngine() as engine:
        answers = list(
            engine.map_with_actors(make_counter_state, add_to_state, list(range(30)), init=100)
        )
    assert [value for value, _, _ in answers] == [100 + i for i in range(30)]
    assert {n_cpus for _, n_cpus, _ in answers} == {1}  # each actor is told its one CPU
    assert len({pid for _, _, pid in answers}) <= 2  # one actor per CPU, reused
    assert os.getpid() not in {pid for _, _, pid in answers}
