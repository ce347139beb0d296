"""Tests of labeler.learning.backbones and the -pretrained models: input conversion, where
weights are looked for, and loading them (from stand-in files of random weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from labeler.learning.backbones import (
    BackboneConfig,
    ImageNetInput,
    find_weights_file,
    get_backbone_name,
    get_cache_path,
    get_weights_digest,
    get_weights_file_name,
    list_backbones,
    load_backbone_weights,
    make_backbone_body,
)
from labeler.learning.models import (
    ModelConfig,
    PretrainedBackbone,
    list_models,
    make_model,
    make_model_input,
    make_pretrained_model,
)
from tests.backbone_weights import get_cache_file, write_random_weights

# The file names torchvision 0.29 downloads these weights under (from their URLs).
TORCHVISION_FILES = {
    "resnet18": "resnet18-f37072fd.pth",
    "mobilenet_v3_small": "mobilenet_v3_small-047dcff4.pth",
    "efficientnet_b0": "efficientnet_b0_rwightman-7f5810bc.pth",
}


def test_every_backbone_is_a_registered_pretrained_model() -> None:
    assert list_backbones() == sorted(TORCHVISION_FILES)
    for backbone in TORCHVISION_FILES:
        assert f"{backbone}-pretrained" in list_models()
        assert get_backbone_name(f"{backbone}-pretrained") == backbone
    assert get_backbone_name("resnet18") is None
    assert get_backbone_name("vgg-pretrained") is None


@pytest.mark.parametrize("backbone", sorted(TORCHVISION_FILES))
def test_weights_file_names_are_torchvisions(backbone: str) -> None:
    assert get_weights_file_name(backbone) == TORCHVISION_FILES[backbone]


def test_imagenet_input_undoes_our_convention_by_hand() -> None:
    pixels = torch.tensor([[[0, 255], [128, 64]]], dtype=torch.uint8)  # [1, 2, 2] grayscale
    x = make_model_input(pixels, image_size=2)
    out = ImageNetInput()(x)
    assert out.shape == (1, 3, 2, 2)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for channel in range(3):
        for row in range(2):
            for col in range(2):
                rgb = int(pixels[0, row, col]) / 255  # white 1.0 again
                expected = (rgb - mean[channel]) / std[channel]
                assert float(out[0, channel, row, col]) == pytest.approx(expected, abs=1e-5)


def test_imagenet_input_keeps_colour_channels_apart() -> None:
    pixels = torch.zeros((1, 1, 1, 3), dtype=torch.uint8)
    pixels[0, 0, 0] = torch.tensor([255, 0, 51])
    out = ImageNetInput()(make_model_input(pixels, image_size=1))[0, :, 0, 0]
    expected = [(1.0 - 0.485) / 0.229, (0.0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225]
    assert out.tolist() == pytest.approx(expected, abs=1e-5)


def test_cache_path_follows_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert get_cache_path("resnet18") == get_cache_file(tmp_path / "th", "resnet18-f37072fd.pth")


def test_weights_are_found_in_torch_home_or_where_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    cached = get_cache_file(tmp_path / "th", TORCHVISION_FILES["mobilenet_v3_small"])
    write_random_weights(cached, "mobilenet_v3_small", seed=1)
    assert find_weights_file("mobilenet_v3_small") == cached
    named = tmp_path / "mine.pth"
    write_random_weights(named, "mobilenet_v3_small", seed=2)
    assert find_weights_file("mobilenet_v3_small", weights=named) == named


def test_missing_weights_name_every_place_and_how_to_fetch_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    cache = get_cache_file(tmp_path / "th", "resnet18-f37072fd.pth")
    with pytest.raises(ValueError) as raised:
        find_weights_file("resnet18")
    message = str(raised.value)
    assert str(cache) in message
    command = (
        "python -c \"import torchvision; torchvision.models.resnet18(weights='IMAGENET1K_V1')\""
    )
    assert command in message
    assert f"copy that file to {cache.parent}/" in message
    assert "--weights" in message
    with pytest.raises(ValueError, match=str(tmp_path / "nowhere.pth")):
        find_weights_file("resnet18", weights=tmp_path / "nowhere.pth")


@pytest.mark.parametrize("backbone", sorted(TORCHVISION_FILES))
def test_loaded_weights_equal_the_files(backbone: str, tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    state = write_random_weights(path, backbone, seed=3)
    torch.manual_seed(4)  # the body's own random weights differ from the file's
    body = make_backbone_body(backbone)
    load_backbone_weights(body, backbone, path)
    loaded = body.state_dict()
    classifier = "fc." if backbone == "resnet18" else "classifier."
    kept = {key: value for key, value in state.items() if not key.startswith(classifier)}
    assert sorted(loaded) == sorted(kept)
    for key, value in kept.items():
        assert torch.equal(loaded[key], value), key


def test_a_pretrained_model_holds_the_weights_and_a_seeded_head(tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    state = write_random_weights(path, "mobilenet_v3_small", seed=5)
    config = ModelConfig(name="mobilenet_v3_small-pretrained", image_size=32, in_channels=3)
    first = make_pretrained_model(config, n_classes=4, weights_path=path, seed=7)
    again = make_pretrained_model(config, n_classes=4, weights_path=path, seed=7)
    assert isinstance(first, PretrainedBackbone)
    assert torch.equal(first.body.state_dict()["features.0.0.weight"], state["features.0.0.weight"])
    assert torch.equal(first.head[1].weight, again.head[1].weight)
    # The features are the backbone's on ImageNet-normalised RGB: the conversion is inside.
    pixels = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
    x = make_model_input(pixels, image_size=32)
    rgb = pixels.permute(0, 3, 1, 2).float() / 255
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    first.eval()
    with torch.no_grad():
        assert torch.allclose(first.features(x), first.body((rgb - mean) / std), atol=1e-5)
    assert first(x).shape == (2, 4)


def test_a_file_of_another_backbone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "resnet34.pth"
    write_random_weights(path, "resnet34", seed=0)
    body = make_backbone_body("resnet18")
    with pytest.raises(ValueError, match=r"does not fit resnet18.*unexpected, e\.g\. layer1\.2"):
        load_backbone_weights(body, "resnet18", path)


def test_a_file_of_other_shapes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.pth"
    state = make_backbone_body("resnet18").state_dict()
    state["conv1.weight"] = torch.zeros(64, 1, 7, 7)  # a 1-channel first conv
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"of another shape, e\.g\. conv1\.weight \(64, 1, 7, 7\)"):
        load_backbone_weights(make_backbone_body("resnet18"), "resnet18", path)


def test_a_file_that_is_no_state_dict_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="cannot be read"):
        load_backbone_weights(make_backbone_body("resnet18"), "resnet18", garbage)
    listed = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], listed)
    with pytest.raises(ValueError, match="not a state dict"):
        load_backbone_weights(make_backbone_body("resnet18"), "resnet18", listed)


def test_a_model_without_a_backbone_has_no_pretrained_weights(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no pretrained backbone.*resnet18-pretrained"):
        make_pretrained_model(ModelConfig(), n_classes=2, weights_path=tmp_path / "x.pth")


def test_digest_is_sha256(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert get_weights_digest(path) == expected


def test_unknown_backbone_mode_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown backbone mode 'thawed'.*frozen, finetune"):
        BackboneConfig(mode="thawed")


def test_registry_builds_a_random_pretrained_architecture() -> None:
    config = ModelConfig(name="resnet18-pretrained", image_size=16)
    model = make_model(config, n_classes=2)
    assert isinstance(model, PretrainedBackbone) and model.n_features == 512
