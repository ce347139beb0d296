"""Generate jobs and recipe files, including the recipes shipped in datasets/."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from generators.registry import get_family
from labeler.data.recipes import (
    GenerateJob,
    get_problem_folder_name,
    load_recipe,
    make_job,
    parse_holdout_families,
    plan_datasets,
)

RECIPES = sorted((Path(__file__).parents[3] / "datasets").glob("*.json"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[path.name for path in RECIPES])
def test_shipped_recipes_plan_cleanly(recipe: Path, tmp_path: Path) -> None:
    jobs = load_recipe(recipe)
    for job in jobs:
        assert job.out.startswith("datasets/")
    # Plan into tmp_path: the real outputs may exist already.
    planned = plan_datasets([replace(job, out=str(tmp_path / job.out)) for job in jobs])
    for job in jobs:
        if job.problem == "all":
            n_problems = len(get_family(job.family).list_problems())
            assert sum(plan.job.family == job.family for plan in planned) == n_problems


def test_the_svrt_suite_has_every_problem_at_the_reference_size(tmp_path: Path) -> None:
    (job,) = load_recipe(Path(__file__).parents[3] / "datasets" / "svrt-suite.json")
    assert (job.family, job.problem, job.n_train, job.n_test, job.seed) == (
        "svrt", "all", 28000, 4000, 0,
    )  # fmt: skip
    planned = plan_datasets([replace(job, out=str(tmp_path))])
    problems = get_family("svrt").list_problems()
    assert [plan.out for plan in planned] == [tmp_path / f"svrt-{int(p):02d}" for p in problems]


def test_folder_names_pad_numbers() -> None:
    assert get_problem_folder_name("svrt", "4") == "svrt-04"
    assert get_problem_folder_name("svrt", "23") == "svrt-23"
    assert get_problem_folder_name("orientation", "hv") == "orientation-hv"


def test_holdout_families_accept_text_or_lists() -> None:
    assert parse_holdout_families("arrow, letter") == ("arrow", "letter")
    assert parse_holdout_families(["arrow"]) == ("arrow",)
    assert parse_holdout_families(None) is None
    with pytest.raises(ValueError, match="names no family"):
        parse_holdout_families(" , ")


def test_jobs_check_their_fields() -> None:
    base = {"family": "svrt", "out": "x", "n_train": 4, "n_test": 2}
    assert make_job(base | {"problem": 4}).problem == "4"
    for bad in ({"n_train": 0}, {"n_test": -2}, {"n_train": True}, {"seed": -1}, {"out": ""}):
        with pytest.raises(ValueError, match=str(next(iter(bad)))):
            make_job(base | bad)
    with pytest.raises(ValueError, match="unknown job field"):
        make_job(base | {"workers": 4})
    with pytest.raises(ValueError, match="lacks out"):
        make_job({"family": "svrt", "n_train": 4, "n_test": 2})


def test_a_recipe_must_be_a_list_of_objects(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.json"
    for content, message in (
        ("{}", "non-empty JSON list"),
        ("[]", "non-empty JSON list"),
        ("[1]", "job 1"),
        ("[oops", "cannot read"),
    ):
        recipe.write_text(content)
        with pytest.raises(ValueError, match=message):
            load_recipe(recipe)


def test_two_jobs_aimed_at_one_folder_are_refused(tmp_path: Path) -> None:
    job = GenerateJob(family="svrt", problem="4", out=str(tmp_path / "x"), n_train=4, n_test=2)
    with pytest.raises(ValueError, match="several datasets"):
        plan_datasets([job, replace(job, seed=1)])


def test_overrides_only_hold_what_was_set() -> None:
    job = GenerateJob(family="svrt", out="x", n_train=4, n_test=2, mode="balanced")
    assert job.get_overrides() == {"mode": "balanced"}
    assert json.dumps(job.get_overrides())
