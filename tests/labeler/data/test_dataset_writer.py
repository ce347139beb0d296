"""Writing a dataset folder: determinism, refusals, and crash safety."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from generators.family import Batch, Family
from generators.registry import get_family
from labeler.data.dataset_format import find_datasets, load_dataset_info
from labeler.data.dataset_writer import write_dataset
from tests.labeler.data.dataset_files import read_tree, write_fake


def test_output_is_byte_identical_whatever_the_number_of_workers(tmp_path: Path) -> None:
    # A real family: worker processes must import it by name.
    family = get_family("svrt")
    problem = family.list_problems()[0]
    params = family.make_params(problem)
    trees = []
    for workers in (1, 2):
        out = tmp_path / f"workers-{workers}"
        write_dataset(
            out,
            family,
            problem,
            params,
            n_per_split={"train": 48, "test": 16},
            seed=3,
            workers=workers,
            chunk_size=8,
        )
        trees.append(read_tree(out))
    assert trees[0].keys() == trees[1].keys()
    assert trees[0] == trees[1]


def test_a_non_empty_output_folder_is_refused_without_force(
    tmp_path: Path, fake_family: Family
) -> None:
    out = tmp_path / "ds"
    write_fake(out, fake_family)
    before = read_tree(out)
    with pytest.raises(ValueError, match=f"{out}.*--force"):
        write_fake(out, fake_family, seed=1)
    assert read_tree(out) == before
    write_fake(out, fake_family, seed=1, force=True)
    assert load_dataset_info(out).seed == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ds"]  # no leftovers


def test_force_never_replaces_a_folder_that_is_not_a_dataset(
    tmp_path: Path, fake_family: Family
) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError, match="not a dataset folder"):
        write_fake(out, fake_family, force=True)
    assert (out / "thesis.tex").read_text() == "years of work"


def test_an_empty_output_folder_is_used(tmp_path: Path, fake_family: Family) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    write_fake(out, fake_family)
    assert load_dataset_info(out).splits["train"].n_images == 24


@pytest.mark.parametrize("workers", [1, 2])
def test_a_crash_midway_leaves_no_dataset_and_no_debris(
    tmp_path: Path, fake_family: Family, workers: int
) -> None:
    out = tmp_path / "ds"
    crashing = fake_family.make_params("a", fail_at=13)  # in the second chunk of train
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_fake(out, fake_family, params=crashing, workers=workers)
    assert not out.exists()
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset_info(out)
    assert list(tmp_path.iterdir()) == []


def test_folders_left_by_a_killed_writer_are_removed_on_the_next_write(
    tmp_path: Path, fake_family: Family
) -> None:
    out = tmp_path / "ds"
    # A real process that has ended: its pid names the abandoned folders.
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    abandoned = tmp_path / f"ds.tmp-{ended.pid}-0000abcd"
    (abandoned / "train").mkdir(parents=True)
    live = tmp_path / f"ds.tmp-{os.getpid()}-0000abcd"  # a writer still running: kept
    live.mkdir()
    other = tmp_path / f"other.tmp-{ended.pid}-0000abcd"  # another dataset's: kept
    other.mkdir()
    write_fake(out, fake_family)
    assert load_dataset_info(out).splits
    assert not abandoned.exists() and live.exists() and other.exists()


def test_a_crash_while_replacing_keeps_the_old_dataset(tmp_path: Path, fake_family: Family) -> None:
    out = tmp_path / "ds"
    write_fake(out, fake_family)
    before = read_tree(out)
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_fake(out, fake_family, params=fake_family.make_params("a", fail_at=20), force=True)
    assert read_tree(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ds"]


def make_spy_family(base: type[Family], parent: Path) -> Family:
    """A family that records, mid-way through a write, whether anything in ``parent`` loads."""

    class SpyFamily(base):  # type: ignore[valid-type,misc]
        seen: ClassVar[list[str]] = []

        def generate(self, problem: str, params: Any, **options: Any) -> Batch:
            if options["start"] > 0:  # mid-way: some chunks are on disk already
                for folder in parent.iterdir():
                    try:
                        load_dataset_info(folder)
                        self.seen.append(f"{folder.name} loads")
                    except ValueError:
                        self.seen.append(f"{folder.name} refused")
                try:
                    find_datasets(parent)
                    self.seen.append("found")
                except ValueError:
                    self.seen.append("none found")
            return super().generate(problem, params, **options)

    return SpyFamily()


def test_a_half_written_folder_never_looks_complete(tmp_path: Path, fake_family: Family) -> None:
    # What a kill -9 would leave: the temporary folder as it is mid-way.
    spy = make_spy_family(type(fake_family), tmp_path)
    write_fake(tmp_path / "ds", spy)
    seen = spy.seen  # type: ignore[attr-defined]
    assert seen
    assert "none found" in seen
    assert not any(entry.endswith("loads") or entry == "found" for entry in seen)
    assert find_datasets(tmp_path) == [tmp_path / "ds"]


def test_an_unwritable_destination_is_a_clear_os_error(tmp_path: Path, fake_family: Family) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder")
    out = blocker / "out"
    with pytest.raises(OSError, match=f"cannot write the dataset {out}"):
        write_fake(out, fake_family)
    with pytest.raises(OSError, match="cannot write the dataset /proc"):
        write_fake(Path("/proc/labeler-test/ds"), fake_family)


def test_bad_arguments_are_refused_before_writing(tmp_path: Path, fake_family: Family) -> None:
    out = tmp_path / "ds"
    family = fake_family
    params = family.make_params("a")
    with pytest.raises(ValueError, match="unknown fake problem 'z'"):
        write_dataset(out, family, "z", params, n_per_split={"train": 2}, seed=0)
    with pytest.raises(ValueError, match="seed"):
        write_dataset(out, family, "a", params, n_per_split={"train": 2}, seed=-1)
    with pytest.raises(ValueError, match="workers"):
        write_dataset(out, family, "a", params, n_per_split={"train": 2}, seed=0, workers=0)
    assert not out.exists()
