"""The dataset folder: round trip, ImageFolder layout, balance, loading and verifying."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generators.family import Family
from generators.registry import get_family
from labeler.data.dataset_format import (
    INFO_FILE,
    check_split_counts,
    find_datasets,
    get_image_relpath,
    load_dataset_info,
    load_metadata,
    load_split,
    verify_dataset,
)
from labeler.data.dataset_writer import write_dataset
from tests.labeler.data.dataset_files import read_tree, write_fake


def test_round_trip_gives_back_what_the_family_made(
    tiny_dataset: Path, fake_family: Family
) -> None:
    family = fake_family
    params = family.make_params("a")
    info = load_dataset_info(tiny_dataset)
    assert (info.family, info.family_version, info.problem, info.seed) == ("fake", "test-1", "a", 0)
    assert info.params == {"image_size": 16, "fail_at": -1}
    assert info.class_names == ("class_0", "class_1")
    assert (info.image_height, info.image_width) == (16, 16)
    assert {name: split.n_images for name, split in info.splits.items()} == {
        "train": 40,
        "test": 20,
    }
    for split, n_images in (("train", 40), ("test", 20)):
        expected = family.generate("a", params, split=split, seed=0, start=0, count=n_images)
        images, labels = load_split(tiny_dataset, split)
        np.testing.assert_array_equal(images, expected.images)
        np.testing.assert_array_equal(labels, expected.labels)
        assert labels.dtype == np.int64
        metadata = load_metadata(tiny_dataset, split)
        assert [record["index"] for record in metadata] == list(range(n_images))
        assert [record["label"] for record in metadata] == expected.labels.tolist()
        assert [record["dots"] for record in metadata] == [m["dots"] for m in expected.metadata]
    verify_dataset(tiny_dataset)


def test_pngs_hold_the_packed_pixels(tiny_dataset: Path) -> None:
    info = load_dataset_info(tiny_dataset)
    images, labels = load_split(tiny_dataset, "test")
    for index, label in enumerate(labels):
        path = tiny_dataset / get_image_relpath("test", info.class_names[label], index)
        with Image.open(path) as png:
            assert png.mode == "L"
            np.testing.assert_array_equal(np.asarray(png), images[index])


def test_torchvision_image_folder_loads_a_split_as_is(tiny_dataset: Path) -> None:
    from torchvision.datasets import ImageFolder

    images, labels = load_split(tiny_dataset, "train")
    folder = ImageFolder(str(tiny_dataset / "train"))
    assert folder.class_to_idx == {"class_0": 0, "class_1": 1}
    assert len(folder) == len(labels)
    for path, target in folder.samples:
        index = int(Path(path).stem.split("-")[-1])
        assert target == labels[index]
    image, target = folder[0]
    index = int(Path(folder.samples[0][0]).stem.split("-")[-1])
    np.testing.assert_array_equal(np.asarray(image.convert("L")), images[index])


def test_split_is_memory_mapped_unless_asked_otherwise(tiny_dataset: Path) -> None:
    images, _ = load_split(tiny_dataset, "train")
    assert isinstance(images, np.memmap)
    assert not images.flags.writeable
    loaded, _ = load_split(tiny_dataset, "train", mmap=False)
    assert not isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(images, loaded)


def test_classes_are_exactly_balanced(tiny_dataset: Path) -> None:
    info = load_dataset_info(tiny_dataset)
    assert info.splits["train"].n_per_class == {"class_0": 20, "class_1": 20}
    assert info.splits["test"].n_per_class == {"class_0": 10, "class_1": 10}
    for split in ("train", "test"):
        _, labels = load_split(tiny_dataset, split)
        assert np.bincount(labels).tolist() == [len(labels) // 2] * 2
        for class_name in info.class_names:
            n_files = len(list((tiny_dataset / split / class_name).glob("*.png")))
            assert n_files == len(labels) // 2


def test_counts_must_be_positive_multiples_of_the_classes() -> None:
    for bad, shown in ((0, "0"), (-4, "-4"), (3, "3"), (2.0, "2.0")):
        with pytest.raises(ValueError, match=shown):
            check_split_counts({"train": bad}, n_classes=2)
    with pytest.raises(ValueError, match="2 or 4"):
        check_split_counts({"train": 3}, n_classes=2)
    with pytest.raises(ValueError, match="split name"):
        check_split_counts({"../x": 4}, n_classes=2)
    check_split_counts({"train": 4, "test": 2}, n_classes=2)


def test_loading_a_folder_that_is_not_a_dataset_names_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_dataset_info(tmp_path / "missing")
    with pytest.raises(ValueError, match=f"{tmp_path}.*no {INFO_FILE}"):
        load_dataset_info(tmp_path)
    (tmp_path / INFO_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="cannot read"):
        load_dataset_info(tmp_path)
    (tmp_path / INFO_FILE).write_text(json.dumps({"format_version": 1}))
    with pytest.raises(ValueError, match="malformed"):
        load_dataset_info(tmp_path)
    (tmp_path / INFO_FILE).write_text(json.dumps({"format_version": 99}))
    with pytest.raises(ValueError, match="format version 99"):
        load_dataset_info(tmp_path)


def test_a_missing_file_or_split_is_reported(tmp_path: Path, fake_family: Family) -> None:
    out = tmp_path / "ds"
    write_fake(out, fake_family)
    with pytest.raises(ValueError, match=r"no split 'val'.*train, test"):
        load_split(out, "val")
    (out / "test_labels.npy").unlink()
    with pytest.raises(ValueError, match=r"test_labels\.npy is missing"):
        load_dataset_info(out)


def test_verify_dataset_detects_a_changed_array(tmp_path: Path, fake_family: Family) -> None:
    out = tmp_path / "ds"
    write_fake(out, fake_family)
    verify_dataset(out)
    images = np.load(out / "train_images.npy", mmap_mode="r+")
    images[0, 0, 0] ^= 1
    images.flush()
    del images
    with pytest.raises(ValueError, match=r"train_images\.npy does not match"):
        verify_dataset(out)


def test_find_datasets_takes_one_folder_or_a_folder_of_them(
    tmp_path: Path, fake_family: Family
) -> None:
    for name in ("b", "a"):
        write_fake(tmp_path / name, fake_family)
    (tmp_path / "a.tmp-1-abc").mkdir()  # debris of a killed write
    (tmp_path / "notes").mkdir()
    assert find_datasets(tmp_path) == [tmp_path / "a", tmp_path / "b"]
    assert find_datasets(tmp_path / "a") == [tmp_path / "a"]
    with pytest.raises(ValueError, match="holds none"):
        find_datasets(tmp_path / "notes")
    with pytest.raises(ValueError, match="does not exist"):
        find_datasets(tmp_path / "missing")


def test_six_classes_flow_through_the_folder_and_image_folder(tmp_path: Path) -> None:
    from torchvision.datasets import ImageFolder

    family = get_family("counting")
    out = tmp_path / "counting"
    params = family.make_params("shapes")
    with pytest.raises(ValueError, match="multiple of the 6 classes"):
        write_dataset(out, family, "shapes", params, n_per_split={"train": 8}, seed=0)
    trees = []
    for workers in (1, 2):
        folder = tmp_path / f"counting-{workers}"
        write_dataset(
            folder,
            family,
            "shapes",
            params,
            n_per_split={"train": 24, "test": 12},
            seed=1,
            workers=workers,
            chunk_size=5,  # chunks do not line up with the classes
        )
        trees.append(read_tree(folder))
    assert trees[0] == trees[1]
    out = tmp_path / "counting-1"
    info = load_dataset_info(out)
    assert info.class_names == ("1", "2", "3", "4", "5", "6")
    assert info.splits["train"].n_per_class == {name: 4 for name in info.class_names}
    assert info.splits["test"].n_per_class == {name: 2 for name in info.class_names}
    _, labels = load_split(out, "train")
    np.testing.assert_array_equal(labels, np.arange(24) % 6)
    metadata = load_metadata(out, "train")
    assert [record["count"] for record in metadata] == (labels + 1).tolist()
    folder = ImageFolder(str(out / "train"))
    assert folder.class_to_idx == {name: index for index, name in enumerate(info.class_names)}
    for path, target in folder.samples:
        index = int(Path(path).stem.split("-")[-1])
        assert target == labels[index]
        assert Path(path).parent.name == str(labels[index] + 1)
    verify_dataset(out)


def test_dataset_json_records_the_label_preserving_transforms(
    tmp_path: Path, fake_family: Family
) -> None:
    family = get_family("svrt")
    out = tmp_path / "svrt-16"
    write_dataset(out, family, "16", family.make_params("16"), n_per_split={"train": 4}, seed=0)
    raw = json.loads((out / INFO_FILE).read_text())
    assert raw["generator"]["label_preserving_transforms"] == ["hflip", "vflip", "vtranslate"]
    assert load_dataset_info(out).label_preserving_transforms == ("hflip", "vflip", "vtranslate")
    # A family that declares none writes an empty list.
    write_fake(tmp_path / "fake", fake_family)
    assert load_dataset_info(tmp_path / "fake").label_preserving_transforms == ()


def test_a_folder_written_before_transforms_were_recorded_still_loads(tmp_path: Path) -> None:
    family = get_family("svrt")
    out = tmp_path / "old"
    write_dataset(out, family, "1", family.make_params("1"), n_per_split={"train": 4}, seed=0)
    raw = json.loads((out / INFO_FILE).read_text())
    del raw["generator"]["label_preserving_transforms"]
    (out / INFO_FILE).write_text(json.dumps(raw))
    assert load_dataset_info(out).label_preserving_transforms == ()
    verify_dataset(out)


@pytest.mark.parametrize(
    ("value", "message"),
    [("hflip", "must be a list of names"), (["hflip", "blur"], "unknown transform 'blur'")],
)
def test_bad_transforms_in_dataset_json_are_named(
    tmp_path: Path, fake_family: Family, value: object, message: str
) -> None:
    out = tmp_path / "ds"
    write_fake(out, fake_family)
    raw = json.loads((out / INFO_FILE).read_text())
    raw["generator"]["label_preserving_transforms"] = value
    (out / INFO_FILE).write_text(json.dumps(raw))
    with pytest.raises(ValueError, match=rf"{INFO_FILE}: .*{message}"):
        load_dataset_info(out)
