"""What the Family interface gives every family: checked problems and declared transforms."""

from __future__ import annotations

from typing import Any

import pytest

from generators.family import TRANSFORMS, Family, check_transforms


def test_a_family_declares_no_transform_unless_it_says_so(fake_family: Family) -> None:
    assert fake_family.get_label_preserving_transforms("a") == ()
    with pytest.raises(ValueError, match="unknown fake problem 'q'"):
        fake_family.get_label_preserving_transforms("q")


def test_the_vocabulary_is_fixed() -> None:
    assert TRANSFORMS == ("hflip", "vflip", "rot90", "shift")
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
