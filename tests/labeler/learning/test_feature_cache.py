"""Tests of labeler.learning.feature_cache: a frozen backbone's features, computed once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from labeler.learning.backbones import get_weights_digest
from labeler.learning.feature_cache import (
    CachedFeatures,
    get_features_path,
    get_project_features,
)
from labeler.learning.models import (
    ModelConfig,
    PretrainedBackbone,
    make_model_input,
    make_pretrained_model,
)
from labeler.store.project import Project, open_project
from labeler.store.project_files import FEATURES_FOLDER
from tests.backbone_weights import write_random_weights

CONFIG = ModelConfig(name="mobilenet_v3_small-pretrained", image_size=16)


@pytest.fixture
def project(tiny_dataset: Path, tmp_path: Path, run_cli: Callable) -> Iterator[Project]:
    path = tmp_path / "proj"
    assert run_cli("init", path, "--images", tiny_dataset, "--image-size", "16").code == 0
    with open_project(path) as opened:
        yield opened


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    path = tmp_path / "weights.pth"
    write_random_weights(path, "mobilenet_v3_small", seed=0)
    return path


def get_features(project: Project, model: PretrainedBackbone, weights: Path) -> CachedFeatures:
    return get_project_features(
        project,
        model,
        weights_digest=get_weights_digest(weights),
        device="cpu",
        n_threads=1,
        progress=False,
    )


def test_features_are_the_models_and_are_computed_once(project: Project, weights: Path) -> None:
    model = make_pretrained_model(CONFIG, n_classes=2, weights_path=weights)
    first = get_features(project, model, weights)
    assert first.computed
    assert first.path.parent == project.path / FEATURES_FOLDER
    assert first.path.name == f"mobilenet_v3_small-{get_weights_digest(weights)[:16]}-16px.npy"
    # Oracle: one direct forward pass of every image.
    images = torch.from_numpy(np.array(project.load_images()))
    with torch.no_grad():
        expected = model.eval().features(make_model_input(images, image_size=16)).numpy()
    assert first.features.shape == (60, 576) and first.features.dtype == np.float32
    np.testing.assert_allclose(first.features, expected, rtol=1e-4, atol=1e-5)
    written = first.path.stat().st_mtime_ns
    again = get_features(project, model, weights)
    assert not again.computed and again.seconds == 0.0
    assert again.path.stat().st_mtime_ns == written
    np.testing.assert_array_equal(again.features, first.features)


def test_other_weights_or_sizes_do_not_reuse_features(
    project: Project, weights: Path, tmp_path: Path
) -> None:
    model = make_pretrained_model(CONFIG, n_classes=2, weights_path=weights)
    digest = get_weights_digest(weights)
    other_weights = tmp_path / "other.pth"
    write_random_weights(other_weights, "mobilenet_v3_small", seed=1)
    bigger = make_pretrained_model(
        dataclasses.replace(CONFIG, image_size=32), n_classes=2, weights_path=weights
    )
    paths = {
        get_features_path(project, model, weights_digest=digest),
        get_features_path(project, model, weights_digest=get_weights_digest(other_weights)),
        get_features_path(project, bigger, weights_digest=digest),
    }
    assert len(paths) == 3
    other = make_pretrained_model(CONFIG, n_classes=2, weights_path=other_weights)
    first = get_features(project, model, weights)
    second = get_features(project, other, other_weights)
    assert second.computed and second.path != first.path
    assert not np.allclose(first.features, second.features)


def test_a_damaged_cache_file_is_computed_again(project: Project, weights: Path) -> None:
    model = make_pretrained_model(CONFIG, n_classes=2, weights_path=weights)
    first = get_features(project, model, weights)
    expected = np.array(first.features)
    np.save(first.path, expected[:10])  # cut short
    again = get_features(project, model, weights)
    assert again.computed
    np.testing.assert_array_equal(again.features, expected)
