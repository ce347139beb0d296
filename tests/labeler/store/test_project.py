from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeler.data.dataset_format import load_split
from labeler.data.input_size import PHOTO_IMAGE_SIZE
from labeler.store.database import DATABASE_NAME
from labeler.store.project import is_project, open_project
from labeler.store.project_files import IMAGES_FILE, PROJECT_FILE
from labeler.store.project_init import init_project


def write_png(path: Path, value: int, size: tuple[int, int] = (20, 20)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)


@pytest.fixture
def class_folder(tmp_path: Path) -> Path:
    """ImageFolder layout: ant/ (3 dark images), bee/ (2 light ones) and one corrupt file."""
    root = tmp_path / "pictures"
    for index in range(3):
        write_png(root / "ant" / f"{index}.png", 10 * index)
    write_png(root / "bee" / "0.png", 200)
    write_png(root / "bee" / "sub" / "1.PNG", 220, size=(40, 10))
    (root / "bee" / "broken.jpg").write_bytes(b"not a jpeg at all")
    (root / "notes.txt").write_text("ignored")
    return root


def test_init_from_a_dataset_copies_its_arrays_and_labels(tiny_dataset: Path, tmp_path: Path):
    summary = init_project(tmp_path / "proj", images=tiny_dataset, image_size=16, progress=False)
    assert (summary.n_pool, summary.n_test, summary.n_known_pool) == (40, 20, 40)
    assert summary.n_labels_recorded == 0
    assert summary.source_kind == "dataset"
    assert summary.skipped == ()
    train_images, train_labels = load_split(tiny_dataset, "train")
    test_images, test_labels = load_split(tiny_dataset, "test")
    with open_project(tmp_path / "proj") as project:
        assert project.class_names == ("class_0", "class_1")
        assert project.image_size == 16
        assert project.source == tiny_dataset.resolve()
        images = project.load_images()
        np.testing.assert_array_equal(images, np.concatenate([train_images, test_images]))
        store = project.store
        ids, labels = store.get_known_labels("pool")
        np.testing.assert_array_equal(ids, np.arange(40))
        np.testing.assert_array_equal(labels, train_labels)
        ids, labels = store.get_known_labels("test")
        np.testing.assert_array_equal(ids, np.arange(40, 60))
        np.testing.assert_array_equal(labels, test_labels)
        sample = store.get_sample(41)
        assert (project.get_source_path(sample.path)).is_file()  # test/class_1/test-000001.png
        assert store.get_current_labels()[0].size == 0
        assert project.get_round_folder(3) == tmp_path / "proj" / "rounds" / "round-0003"
        assert project.info["dataset"]["family"] == "fake"


def test_init_resizes_and_records_folder_labels(tiny_dataset: Path, tmp_path: Path):
    summary = init_project(
        tmp_path / "proj",
        images=tiny_dataset,
        image_size=8,
        use_folder_labels=True,
        classes=["class_1", "class_0"],  # reorders the classes
        progress=False,
    )
    assert summary.n_labels_recorded == 40
    train_images, train_labels = load_split(tiny_dataset, "train")
    with open_project(tmp_path / "proj") as project:
        assert project.class_names == ("class_1", "class_0")
        images = project.load_images()
        assert images.shape == (60, 8, 8)
        # Area resize halving 16 px: each pixel is the mean of a 2x2 block.
        expected = train_images[0].reshape(8, 2, 8, 2).astype(float).mean(axis=(1, 3))
        np.testing.assert_allclose(images[0], expected, atol=0.5 + 1e-9)
        ids, labels = project.store.get_current_labels()
        np.testing.assert_array_equal(ids, np.arange(40))
        np.testing.assert_array_equal(labels, 1 - train_labels)  # class_0 is now index 1
        (event,) = project.store.get_label_history(0)
        assert (event.source, event.annotator) == ("folder", "folder")


def test_init_from_an_image_folder(class_folder: Path, tmp_path: Path):
    summary = init_project(tmp_path / "proj", images=class_folder, image_size=8, progress=False)
    assert summary.source_kind == "image_folder"
    assert summary.class_names == ("ant", "bee")
    assert (summary.n_pool, summary.n_test, summary.n_known_pool) == (5, 0, 5)
    assert [path for path, _ in summary.skipped] == ["bee/broken.jpg"]
    with open_project(tmp_path / "proj") as project:
        samples = project.store.get_samples()
        assert [sample.path for sample in samples] == [
            "ant/0.png",
            "ant/1.png",
            "ant/2.png",
            "bee/0.png",
            "bee/sub/1.PNG",
        ]
        assert [sample.known_label for sample in samples] == [0, 0, 0, 1, 1]
        images = project.load_images()
        assert images.shape == (5, 8, 8)
        np.testing.assert_array_equal(images[:, 4, 4], [0, 10, 20, 200, 220])
        assert images[4, 0, 0] == 255  # the 40 x 10 image is letterboxed: white above it
    info = json.loads((tmp_path / "proj" / PROJECT_FILE).read_text())
    assert info["n_skipped"] == 1 and info["layout"] == "classes"


def test_a_colour_folder_makes_a_colour_project(tmp_path: Path):
    root = tmp_path / "photos"
    (root / "red").mkdir(parents=True)
    (root / "blue").mkdir()
    Image.new("RGB", (30, 20), (250, 10, 10)).save(root / "red" / "wide.png")
    Image.new("RGB", (16, 16), (250, 10, 10)).save(root / "red" / "small.jpg", quality=95)
    Image.new("RGB", (40, 40), (10, 10, 250)).save(root / "blue" / "a.png")
    Image.new("L", (40, 40), 90).save(root / "blue" / "gray.png")
    summary = init_project(tmp_path / "proj", images=root, image_size=24, progress=False)
    assert summary.channels == 3
    assert summary.converted == ("blue/gray.png",)
    assert summary.upscaled == (("red/small.jpg", 16, 16),)
    with open_project(tmp_path / "proj") as project:
        assert project.channels == 3
        images = project.load_images()
        assert images.shape == (4, 24, 24, 3)
        by_path = {sample.path: sample.id for sample in project.store.get_samples()}
        wide = images[by_path["red/wide.png"]]
        # 30 x 20 letterboxed into 24 px: 16 rows of red centred, 4 white rows above and below.
        np.testing.assert_array_equal(wide[4:20, :, 0], 250)
        np.testing.assert_array_equal(wide[:4], 255)
        np.testing.assert_array_equal(wide[20:], 255)
        np.testing.assert_array_equal(images[by_path["blue/gray.png"]], 90)
    info = json.loads((tmp_path / "proj" / PROJECT_FILE).read_text())
    assert info["channels"] == 3
    assert info["augment"] == ["hflip", "shift"]
    with open_project(tmp_path / "proj") as project:
        assert project.get_augmentation() == ("hflip", "shift")
        assert project.get_augmentation("none") == ()
        assert project.get_augmentation("vflip, rot90") == ("vflip", "rot90")
    gray = init_project(
        tmp_path / "gray", images=root, image_size=24, colour="gray", progress=False
    )
    assert gray.channels == 1 and len(gray.converted) == 3
    with open_project(tmp_path / "gray") as project:
        assert project.load_images().shape == (4, 24, 24)


def test_image_size_defaults_follow_the_source(tiny_dataset: Path, class_folder: Path, tmp_path):
    from_dataset = init_project(tmp_path / "d", images=tiny_dataset, progress=False)
    assert from_dataset.image_size == 16  # the dataset's own size, under the cap
    from_folder = init_project(tmp_path / "f", images=class_folder, progress=False)
    # Never enlarged: the median larger side of its images (20, 20, 20, 20, 40), the broken
    # file passed over; photos larger than PHOTO_IMAGE_SIZE are shrunk to it.
    assert from_folder.image_size == 20 < PHOTO_IMAGE_SIZE
    rgb = init_project(tmp_path / "rgb", images=tiny_dataset, colour="rgb", progress=False)
    assert rgb.channels == 3 and rgb.converted == (str(tiny_dataset),)
    with open_project(tmp_path / "rgb") as project:
        images = project.load_images()
        assert images.shape == (60, 16, 16, 3)
        np.testing.assert_array_equal(images[..., 0], images[..., 2])


def test_a_project_without_channels_in_its_file_is_grayscale(tiny_dataset: Path, tmp_path):
    init_project(tmp_path / "old", images=tiny_dataset, progress=False)
    info_path = tmp_path / "old" / PROJECT_FILE
    info = json.loads(info_path.read_text())
    del info["channels"]  # as projects made before colour were written
    info_path.write_text(json.dumps(info))
    with open_project(tmp_path / "old") as project:
        assert project.channels == 1
        assert project.get_augmentation() == ()  # the fake family declares no transforms
    del info["augment"]
    info["source"] = str(tmp_path / "moved-away")
    info_path.write_text(json.dumps(info))
    with open_project(tmp_path / "old") as project:
        assert project.get_augmentation() == ()  # not the photos' flips: unknown, so none


def test_init_from_split_folders(tmp_path: Path):
    root = tmp_path / "split"
    write_png(root / "train" / "a" / "x.png", 0)
    write_png(root / "train" / "b" / "y.png", 255)
    write_png(root / "test" / "b" / "z.png", 255)
    summary = init_project(tmp_path / "proj", images=root, image_size=8, progress=False)
    assert (summary.n_pool, summary.n_test) == (2, 1)
    with open_project(tmp_path / "proj") as project:
        test = project.store.get_samples("test")
        assert [(sample.path, sample.known_label) for sample in test] == [("test/b/z.png", 1)]


def test_a_flat_folder_needs_classes(tmp_path: Path):
    root = tmp_path / "flat"
    for index in range(3):
        write_png(root / f"{index}.jpg".replace(".jpg", ".png"), 100)
    with pytest.raises(ValueError, match="give the class names with --classes"):
        init_project(tmp_path / "proj", images=root, image_size=8, progress=False)
    assert not (tmp_path / "proj").exists()  # nothing left behind
    summary = init_project(
        tmp_path / "proj", images=root, classes=["yes", "no"], image_size=8, progress=False
    )
    assert (summary.n_pool, summary.n_known_pool) == (3, 0)
    with open_project(tmp_path / "proj") as project:
        assert project.class_names == ("yes", "no")
        assert project.store.get_known_labels()[0].size == 0


def test_classes_must_cover_the_folder_classes(class_folder: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="has the classes bee that --classes"):
        init_project(tmp_path / "proj", images=class_folder, classes=["ant", "cow"], progress=False)
    summary = init_project(
        tmp_path / "proj",
        images=class_folder,
        classes=["cow", "bee", "ant"],
        image_size=8,
        progress=False,
    )
    assert summary.class_names == ("cow", "bee", "ant")
    with open_project(tmp_path / "proj") as project:
        assert [sample.known_label for sample in project.store.get_samples()] == [2, 2, 2, 1, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": 4}, r"image size must be an integer in \[8, 256\], got 4"),
        ({"image_size": 257}, r"image size must be an integer in \[8, 256\], got 257"),
        ({"colour": "cmyk"}, "unknown colour mode 'cmyk'; valid ones: auto, rgb, gray"),
        ({"image_size": True}, "got True"),
        ({"classes": ["a"]}, "at least 2 classes"),
        ({"classes": "a,b"}, "got the string"),
        ({"classes": ["a", "a"]}, "repeated: a"),
    ],
)
def test_init_rejects_bad_arguments(class_folder: Path, tmp_path: Path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        init_project(tmp_path / "proj", images=class_folder, progress=False, **kwargs)
    assert not (tmp_path / "proj").exists()


def test_init_refuses_a_used_folder(class_folder: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="does not exist"):
        init_project(tmp_path / "proj", images=tmp_path / "missing", progress=False)
    used = tmp_path / "used"
    used.mkdir()
    (used / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="exists and is not empty"):
        init_project(used, images=class_folder, progress=False)
    assert (used / "precious.txt").read_text() == "keep me"
    init_project(tmp_path / "proj", images=class_folder, image_size=8, progress=False)
    with pytest.raises(ValueError, match="already a project"):
        init_project(tmp_path / "proj", images=class_folder, image_size=8, progress=False)


def test_init_clears_the_leftovers_of_an_interrupted_init(class_folder: Path, tmp_path: Path):
    project_dir = tmp_path / "proj"
    init_project(project_dir, images=class_folder, image_size=8, progress=False)
    (project_dir / PROJECT_FILE).unlink()  # as if killed before writing project.json
    (project_dir / ".pool_images.npy.tmp-1-abcd").write_bytes(b"half")
    with pytest.raises(ValueError, match="unfinished project"):
        open_project(project_dir)
    init_project(project_dir, images=class_folder, image_size=8, progress=False)
    assert sorted(path.name for path in project_dir.iterdir()) == sorted(
        [PROJECT_FILE, DATABASE_NAME, IMAGES_FILE]
    )
    assert is_project(project_dir)


def test_open_project_errors(class_folder: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="does not exist"):
        open_project(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a project folder"):
        open_project(tmp_path / "empty")
    project_dir = tmp_path / "proj"
    init_project(project_dir, images=class_folder, image_size=8, progress=False)
    info = json.loads((project_dir / PROJECT_FILE).read_text())
    (project_dir / PROJECT_FILE).write_text(json.dumps({**info, "format_version": 99}))
    with pytest.raises(ValueError, match="format version 99"):
        open_project(project_dir)
    (project_dir / PROJECT_FILE).write_text(json.dumps({**info, "image_size": 9}))
    with pytest.raises(ValueError, match=r"expected uint8 \(5, 9, 9\)"):
        open_project(project_dir)
    (project_dir / PROJECT_FILE).write_text("{broken")
    with pytest.raises(ValueError, match="cannot read"):
        open_project(project_dir)


def test_round_folder_ids_are_checked(class_folder: Path, tmp_path: Path):
    init_project(tmp_path / "proj", images=class_folder, image_size=8, progress=False)
    with open_project(tmp_path / "proj") as project, pytest.raises(ValueError, match="got 0"):
        project.get_round_folder(0)
