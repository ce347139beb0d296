"""GeneratedDataset and GeneratedStream: generator problems as torch datasets, made on demand."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from generators.registry import get_family
from labeler.data.dataset_writer import write_dataset
from labeler.data.generated_dataset import GeneratedDataset, collate_with_metadata
from labeler.data.generated_stream import BLOCK_CLASSES_MULTIPLE, GeneratedStream
from labeler.data.packed_dataset import PackedDataset

N_TRAIN, N_TEST = 24, 6


@pytest.fixture(scope="module", params=[("svrt", "4", 64), ("counting", None, 64)])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A dataset folder written by the same code as ``labeler generate``, and its values."""
    family_name, problem, image_size = request.param
    family = get_family(family_name)
    problem = problem or family.list_problems()[0]
    n_classes = len(family.class_names)
    counts = {"train": N_TRAIN * n_classes // 2, "test": N_TEST * n_classes // 2}
    out = tmp_path_factory.mktemp(family_name) / "dataset"
    params = family.make_params(problem, "standard", image_size=image_size)
    write_dataset(out, family, problem, params, n_per_split=counts, seed=5)
    return out, family_name, problem, image_size, counts


def make_dataset(written, split: str = "train", **options) -> GeneratedDataset:
    _, family, problem, image_size, counts = written
    return GeneratedDataset(
        family, problem, split=split, size=counts[split], seed=5, image_size=image_size, **options
    )


def test_every_item_equals_the_written_image_byte_for_byte(written) -> None:
    folder = written[0]
    for split in ("train", "test"):
        dataset = make_dataset(written, split)
        packed = PackedDataset(folder, split)
        assert len(dataset) == len(packed)
        for index in range(len(dataset)):
            image, label = dataset[index]
            expected_image, expected_label = packed[index]
            assert torch.equal(image, expected_image)
            assert label == expected_label and isinstance(label, int)
            png = next((folder / split).glob(f"*/{split}-{index:06d}.png"))
            assert np.array_equal(dataset.get_pixels(index), np.asarray(Image.open(png)))


def test_metadata_equals_the_written_ground_truth(written) -> None:
    folder = written[0]
    dataset = make_dataset(written, return_metadata=True)
    lines = (folder / "train_metadata.jsonl").read_text().splitlines()
    for index in (0, 1, len(dataset) - 1):
        _, label, metadata = dataset[index]
        assert metadata == json.loads(lines[index])
        assert metadata["label"] == label
        assert dataset.get_metadata(index) == metadata


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_a_data_loader_gives_the_same_bytes_with_any_workers_and_shuffling(
    written, workers: int
) -> None:
    dataset = make_dataset(written)
    packed = PackedDataset(written[0], "train")
    loader = DataLoader(
        dataset,
        batch_size=5,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(workers),
    )
    seen = []
    for images, labels in loader:
        seen.append((images, labels))
    # Shuffled: match each image to the written one through its label and pixels.
    images = torch.cat([batch[0] for batch in seen])
    labels = torch.cat([batch[1] for batch in seen])
    expected = torch.stack([packed[index][0] for index in range(len(packed))])
    assert images.shape == expected.shape
    matches = (images[:, None] == expected[None]).flatten(2).all(dim=2)
    assert matches.any(dim=1).all() and matches.sum() == len(packed)
    assert sorted(labels.tolist()) == sorted(int(label) for _, label in packed)


def test_metadata_batches_with_its_collate(written) -> None:
    dataset = make_dataset(written, return_metadata=True)
    loader = DataLoader(dataset, batch_size=4, collate_fn=collate_with_metadata)
    images, labels, metadata = next(iter(loader))
    assert images.shape[0] == 4 and labels.tolist() == [m["label"] for m in metadata]
    assert [m["index"] for m in metadata] == [0, 1, 2, 3]


def test_transforms_apply_to_images_and_labels(written) -> None:
    dataset = make_dataset(
        written, transform=lambda image: image * 2, target_transform=lambda label: label + 10
    )
    image, label = dataset[1]
    assert image.max() == 2.0 and label == 11


def test_a_batch_of_items_at_once_equals_the_items_one_by_one(written) -> None:
    """``__getitems__`` (what a DataLoader calls) gives the items ``__getitem__`` gives, in
    the order asked, repeats and negative indices included, transforms applied."""
    indices = [5, 0, -1, 5, 2]
    for dataset in (
        make_dataset(written),
        make_dataset(written, transform=lambda im: im * 2, target_transform=lambda y: y + 10),
    ):
        batch = dataset.__getitems__(indices)
        assert len(batch) == len(indices)
        for (image, label), index in zip(batch, indices, strict=True):
            expected_image, expected_label = dataset[index]
            assert torch.equal(image, expected_image) and label == expected_label
    dataset = make_dataset(written)
    with pytest.raises(IndexError, match="outside the dataset"):
        dataset.__getitems__([0, len(dataset)])


def test_threads_sharing_a_dataset_get_their_own_buffers(written) -> None:
    """Each thread makes images in its own buffers, so items made side by side stay right."""
    dataset = make_dataset(written)
    expected = [dataset[index][0] for index in range(len(dataset))]
    indices = list(range(len(dataset))) * 4
    with ThreadPoolExecutor(4) as pool:
        images = list(pool.map(lambda index: dataset[index][0], indices))
    assert all(torch.equal(image, expected[i]) for image, i in zip(images, indices, strict=True))


def test_negative_indices_count_from_the_end_and_others_raise(written) -> None:
    dataset = make_dataset(written)
    assert torch.equal(dataset[-1][0], dataset[len(dataset) - 1][0])
    with pytest.raises(IndexError, match=f"outside the dataset of {len(dataset)}"):
        dataset[len(dataset)]
    with pytest.raises(IndexError):
        dataset[-len(dataset) - 1]
    with pytest.raises(TypeError):
        dataset[1.5]  # type: ignore[index]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"family": "shapes", "problem": "1"}, "unknown family 'shapes'; valid families"),
        ({"family": "svrt", "problem": "24"}, "unknown svrt problem '24'; valid problems: 1,"),
        ({"family": "svrt", "problem": None}, "has several problems; name one of: 1, 2"),
        ({"family": "svrt", "problem": 4, "split": "Train"}, "split name 'Train' is not allowed"),
        ({"family": "svrt", "problem": 4, "size": 7}, "not a multiple of the 2 classes"),
        ({"family": "svrt", "problem": 4, "size": 0}, "an integer >= 1"),
        ({"family": "svrt", "problem": 4, "seed": -1}, "seed"),
        ({"family": "svrt", "problem": 4, "preset": "tiny"}, "tiny"),
        ({"family": "svrt", "problem": 4, "mode": "odd"}, "mode"),
        ({"family": "svrt", "problem": 4, "colour": 3}, "colour"),
    ],
)
def test_bad_arguments_name_the_allowed_values(arguments: dict, message: str) -> None:
    options = {"size": 4, **arguments}
    with pytest.raises(ValueError, match=message):
        GeneratedDataset(options.pop("family"), options.pop("problem"), **options)


def test_a_stream_gives_the_datasets_images_in_mixed_blocks(written) -> None:
    _, family, problem, image_size, _ = written
    n_classes = len(get_family(family).class_names)
    block = BLOCK_CLASSES_MULTIPLE * n_classes
    stream = GeneratedStream(
        family, problem, seed=5, image_size=image_size, limit=block + 3, return_metadata=True
    )
    items = list(stream)
    assert len(items) == block + 3
    indices = [metadata["index"] for _, _, metadata in items]
    assert sorted(indices[:block]) == list(range(block))  # the first block, each image once
    assert indices[:block] != list(range(block))  # in a seeded order, labels mixed
    assert all(index >= block for index in indices[block:])
    labels = [label for _, label, _ in items[:block]]
    assert np.bincount(labels).tolist() == [BLOCK_CLASSES_MULTIPLE] * n_classes
    same = GeneratedDataset(family, problem, size=block, seed=5, image_size=image_size)
    for image, label, metadata in items[:4]:
        expected_image, expected_label = same[metadata["index"]]
        assert torch.equal(image, expected_image) and label == expected_label
    again = [m["index"] for _, _, m in GeneratedStream(
        family, problem, seed=5, image_size=image_size, limit=20, return_metadata=True
    )]  # fmt: skip
    assert again == indices[:20]


def test_stream_workers_share_the_blocks_without_repeats() -> None:
    stream = GeneratedStream("svrt", 4, seed=1, image_size=64, limit=600, return_metadata=True)
    loader = DataLoader(stream, batch_size=50, num_workers=2, collate_fn=collate_with_metadata)
    indices = [m["index"] for _, _, batch in loader for m in batch]
    assert len(indices) == 1200 and len(set(indices)) == 1200
    block = BLOCK_CLASSES_MULTIPLE * 2
    blocks = {index // block for index in indices}
    assert blocks == {0, 1, 2, 3}  # worker 0 takes blocks 0 and 2, worker 1 blocks 1 and 3


def test_the_writer_and_the_dataset_agree_for_a_written_folder(tmp_path: Path) -> None:
    family = get_family("orientation")
    params = family.make_params("hv", "standard", image_size=64, holdout_families=("bar",))
    write_dataset(tmp_path / "o", family, "hv", params, n_per_split={"test": 8}, seed=2)
    dataset = GeneratedDataset(
        "orientation", split="test", size=8, seed=2, image_size=64, holdout_families=("bar",)
    )
    packed = PackedDataset(tmp_path / "o", "test")
    assert all(torch.equal(dataset[k][0], packed[k][0]) for k in range(8))


def test_a_fresh_process_loads_the_compiled_kernels_instead_of_compiling(written) -> None:
    """What a spawned DataLoader worker does: the kernels compiled here (by the fixture) are
    read from the package's numba cache, with no compile (forked workers inherit them)."""
    _, family, problem, image_size, _ = written
    code = (
        "from labeler.data.generated_dataset import GeneratedDataset\n"
        f"d = GeneratedDataset({family!r}, {problem!r}, size=6, image_size={image_size})\n"
        "d[5]\n"
        "import numba.core.registry as r, gc\n"
        "kernels = [o for o in gc.get_objects() if isinstance(o, r.CPUDispatcher)]\n"
        "used = [k for k in kernels if k.stats.cache_hits or k.stats.cache_misses]\n"
        "print(len(used), sum(sum(k.stats.cache_misses.values()) for k in used))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    n_used, n_compiled = (int(value) for value in result.stdout.split())
    assert n_used >= 1 and n_compiled == 0
