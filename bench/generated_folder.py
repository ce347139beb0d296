"""A generated dataset folder for a benchmark, written once (seed 0) with the same recipe code
that ``labeler generate`` runs; or the font glyph folder, by name."""

from __future__ import annotations

from pathlib import Path

from labeler.data.recipes import make_job, plan_datasets, write_planned

FONTS = Path(__file__).resolve().parents[1] / "datasets" / "font-glyphs"
# A bench's table of generated datasets: name -> (family, problem, pool images, test images).
Generated = dict[str, tuple[str, str, int, int]]


def write_generated(out: Path, family: str, problem: str, *, n_train: int, n_test: int) -> Path:
    """``out``, holding ``n_train`` and ``n_test`` images of ``family``'s ``problem`` from seed
    0; written only when ``out`` does not exist yet."""
    if not out.exists():
        job = make_job(
            {
                "family": family,
                "problem": problem,
                "n_train": n_train,
                "n_test": n_test,
                "seed": 0,
                "out": str(out),
            }
        )
        for plan in plan_datasets([job]):
            write_planned(plan)
    return out


def get_named_dataset(name: str, work: Path, generated: Generated) -> Path:
    """The folder of dataset ``name``: ``fonts`` (the font glyph set in the repository), or one
    of ``generated``, written under ``work`` on first use."""
    if name == "fonts":
        if not FONTS.is_dir():
            raise SystemExit(f"{FONTS} is missing: build it with bench/font_glyphs.py")
        return FONTS
    if name not in generated:
        raise SystemExit(f"unknown dataset {name!r}; valid: fonts, {', '.join(generated)}")
    family, problem, n_pool, n_test = generated[name]
    return write_generated(work / name, family, problem, n_train=n_pool, n_test=n_test)
