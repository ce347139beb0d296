"""Generate jobs: what to generate, from command-line flags or a recipe file, checked up front.

A recipe is a JSON file holding a list of jobs, each an object with the fields of
``GenerateJob`` (the same names as the ``labeler generate`` flags, with ``_`` for ``-``)::

    [{"family": "svrt", "problem": "all", "n_train": 28000, "n_test": 4000, "seed": 0,
      "out": "datasets/svrt"}]

``problem: "all"`` writes one dataset folder per problem under ``out`` (``out/svrt-01`` ...).
Relative ``out`` paths are taken from the current folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from generators.checks import check_int, check_optional_int
from generators.family import Family
from generators.registry import get_family
from labeler.data.dataset_format import check_split_counts
from labeler.data.dataset_writer import WriteSummary, check_output_folder, write_dataset
from labeler.engines.base import Engine

ALL_PROBLEMS = "all"


@dataclass(frozen=True)
class GenerateJob:
    """One ``labeler generate`` request; one field per flag.

    ``problem`` None means the family's only problem, ``"all"`` every problem. ``mode``,
    ``image_size`` and ``holdout_families`` are parameter overrides passed to the family when
    set; the family checks them.
    """

    family: str
    out: str
    n_train: int
    n_test: int
    problem: str | None = None
    seed: int = 0
    preset: str = "standard"
    mode: str | None = None
    image_size: int | None = None
    holdout_families: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        checked = {
            "n_train": check_int("n_train", self.n_train, low=1),
            "n_test": check_int("n_test", self.n_test, low=1),
            "seed": check_int("seed", self.seed, low=0),
            "image_size": check_optional_int("image_size", self.image_size, low=1),
        }
        for name, value in checked.items():
            # Plain ints (a numpy integer passes the check): the job is written to dataset.json.
            object.__setattr__(self, name, value)
        for name in ("family", "out", "preset"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string, got {getattr(self, name)!r}")

    def get_overrides(self) -> dict[str, Any]:
        """The parameter overrides that were set, as keyword arguments of ``make_params``."""
        overrides = {
            "mode": self.mode,
            "image_size": self.image_size,
            "holdout_families": self.holdout_families,
        }
        return {name: value for name, value in overrides.items() if value is not None}


@dataclass(frozen=True)
class PlannedDataset:
    """One dataset folder to write: a job narrowed to one problem, with checked parameters."""

    job: GenerateJob
    family: Family
    params: Any
    out: Path


def parse_holdout_families(
    text: str | list[str] | tuple[str, ...] | None,
) -> tuple[str, ...] | None:
    """``"bar,arrow"`` (or a list) -> ``("bar", "arrow")``; None stays None."""
    if text is None:
        return None
    names = text.split(",") if isinstance(text, str) else list(text)
    families = tuple(str(name).strip() for name in names if str(name).strip())
    if not families:
        raise ValueError(f"holdout_families names no family: {text!r}")
    return families


def make_job(fields_: dict[str, Any]) -> GenerateJob:
    """Build a job from a recipe entry; unknown or missing fields raise ValueError."""
    known = {field.name for field in fields(GenerateJob)}
    unknown = sorted(set(fields_) - known)
    if unknown:
        raise ValueError(
            f"unknown job field(s) {', '.join(unknown)}; valid fields: {', '.join(sorted(known))}"
        )
    required = ("family", "out", "n_train", "n_test")
    missing = [name for name in required if fields_.get(name) is None]
    if missing:
        raise ValueError(f"job {fields_!r} lacks {', '.join(missing)}")
    values = dict(fields_)
    values["holdout_families"] = parse_holdout_families(values.get("holdout_families"))
    if values.get("problem") is not None:
        values["problem"] = str(values["problem"])
    return GenerateJob(**values)


def load_recipe(path: str | os.PathLike[str]) -> list[GenerateJob]:
    """Read a recipe file: a JSON list of job objects (see the module docstring)."""
    recipe = Path(path)
    try:
        entries = json.loads(recipe.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"recipe {recipe} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read recipe {recipe}: {error}") from error
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"recipe {recipe} must hold a non-empty JSON list of jobs")
    jobs = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"job {number} of recipe {recipe} is not a JSON object")
        try:
            jobs.append(make_job(entry))
        except ValueError as error:
            raise ValueError(f"job {number} of recipe {recipe}: {error}") from error
    return jobs


def get_problem_folder_name(family: str, problem: str) -> str:
    """The folder name of one problem under an ``all`` output, e.g. ``svrt-04``."""
    return f"{family}-{int(problem):02d}" if problem.isdigit() else f"{family}-{problem}"


def plan_datasets(jobs: list[GenerateJob], *, force: bool = False) -> list[PlannedDataset]:
    """Expand and check every job before anything is written.

    Raises ValueError for an unknown family, problem or preset, bad parameters or counts, an
    output folder that may not be replaced, or two datasets aimed at the same folder.
    """
    planned: list[PlannedDataset] = []
    for job in jobs:
        family = get_family(job.family)
        for problem in _get_problems(family, job.problem):
            out = Path(job.out)
            if job.problem == ALL_PROBLEMS:
                out = out / get_problem_folder_name(family.name, problem)
            check_split_counts(
                {"train": job.n_train, "test": job.n_test}, n_classes=len(family.class_names)
            )
            params = _make_params(family, problem, job)
            check_output_folder(out, force=force)
            planned.append(PlannedDataset(replace(job, problem=problem), family, params, out))
    outs = [plan.out.resolve() for plan in planned]
    duplicates = sorted({str(out) for out in outs if outs.count(out) > 1})
    if duplicates:
        raise ValueError(f"several datasets would be written to {', '.join(duplicates)}")
    return planned


def write_planned(
    plan: PlannedDataset,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    force: bool = False,
    progress: bool = False,
) -> WriteSummary:
    """Write one planned dataset folder; see ``write_dataset``."""
    assert plan.job.problem is not None, "plan_datasets names the problem"
    config = asdict(plan.job)
    del config["out"]  # where it went is not part of what it is
    return write_dataset(
        plan.out,
        plan.family,
        plan.job.problem,
        plan.params,
        n_per_split={"train": plan.job.n_train, "test": plan.job.n_test},
        seed=plan.job.seed,
        workers=workers,
        engine=engine,
        force=force,
        config=config,
        progress=progress,
    )


def _get_problems(family: Family, problem: str | None) -> list[str]:
    problems = family.list_problems()
    if problem == ALL_PROBLEMS:
        return problems
    if problem is None:
        if len(problems) == 1:
            return problems
        raise ValueError(
            f"family {family.name} has several problems; choose one with --problem "
            f"({', '.join(problems)}, or {ALL_PROBLEMS})"
        )
    return [family.check_problem(problem)]


def _make_params(family: Family, problem: str, job: GenerateJob) -> Any:
    presets = family.list_presets()
    if job.preset not in presets:
        raise ValueError(
            f"unknown {family.name} preset {job.preset!r}; valid presets: {', '.join(presets)}"
        )
    try:
        return family.make_params(problem, job.preset, **job.get_overrides())
    except TypeError as error:
        # An override the family does not take (e.g. --holdout-families for svrt).
        raise ValueError(f"{family.name} problem {problem}: bad parameter: {error}") from error
