"""What the Family interface gives every family: checked problems and declared transforms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from generators.family import TRANSFORMS, Family, check_transforms
from generators.registry import get_family


def test_a_family_declares_no_transform_unless_it_says_so(fake_family: Family) -> None:
    assert fake_family.get_label_preserving_transforms("a") == ()
    with pytest.raises(ValueError, match="unknown fake problem 'q'"):
        fake_family.get_label_preserving_transforms("q")


def test_the_vocabulary_is_fixed() -> None:
    assert TRANSFORMS == ("hflip", "vflip", "rot90", "shift", "translate", "vtranslate")
    assert check_transforms(["vflip", "hflip"]) == ("vflip", "hflip")
    assert check_transforms(()) == ()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["hflip", "mirror"], "unknown transform 'mirror'; valid transforms: hflip, vflip"),
        (["shift", "shift"], "named twice: shift"),
        ("hflip", "the string 'hflip'"),
    ],
)
def test_bad_transform_names_are_refused(names: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_transforms(names)


def test_a_good_request_for_a_batch_passes() -> None:
    family = get_family("orientation")
    params = family.make_params("hv")
    family.check_request("hv", params, split="train", seed=np.int64(3), start=0, count=0)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"problem": "x"}, "unknown orientation problem 'x'"),
        ({"params": object()}, "params must be OrientationParams, got object"),
        ({"split": ""}, "split must be a non-empty name, got ''"),
        ({"seed": True}, "seed must be an integer >= 0, got True"),
        ({"start": -1}, "start must be an integer >= 0, got -1"),
        ({"count": 1.0}, "count must be an integer >= 0, got 1.0"),
    ],
)
def test_a_bad_request_for_a_batch_names_the_value(bad: dict[str, Any], message: str) -> None:
    family = get_family("orientation")
    request: dict[str, Any] = {"problem": "hv", "params": family.make_params("hv")}
    request |= {"split": "train", "seed": 0, "start": 0, "count": 1} | bad
    with pytest.raises(ValueError, match=message):
        family.check_request(request.pop("problem"), request.pop("params"), **request)


@pytest.mark.parametrize(
    ("name", "problem", "overrides"),
    [
        ("svrt", "11", {}),
        ("svrt", "4", {"image_size": 96}),
        ("counting", "shapes", {"image_size": 64}),
        ("orientation", "hv", {}),
    ],
)
def test_a_stream_makes_the_images_generate_makes(
    name: str, problem: str, overrides: dict[str, Any]
) -> None:
    family = get_family(name)
    params = family.make_params(problem, **overrides)
    batch = family.generate(
        problem, params, split="val", seed=3, start=0, count=12, with_metadata=False
    )
    make = family.open_stream(problem, params, split="val", seed=3)
    for index in (5, 0, 11, 7):  # in any order: each image stands alone
        np.testing.assert_array_equal(make(index), batch.images[index])
    with pytest.raises(ValueError, match="an image index must be >= 0, got -1"):
        make(-1)


def test_a_stream_refuses_a_bad_request() -> None:
    family = get_family("svrt")
    with pytest.raises(ValueError, match="split must be a non-empty name"):
        family.open_stream("4", family.make_params("4"), split="", seed=0)
    with pytest.raises(ValueError, match="params must be SVRTParams for problem 5"):
        family.open_stream("5", family.make_params("4"), split="train", seed=0)
