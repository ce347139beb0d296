"""The long fuzzing run: the API's and the Label Studio routes' fuzz tests with many more
generated requests per operation than CI sends (``FUZZ_EXAMPLES``, default 300 here against
25 in CI), the same checks (no 5xx, every answer as the served OpenAPI document says).

It runs the two test modules in a pytest process of its own and saves what they found: the
operations and credential sets fuzzed, the most examples each got, the failures and the time.

    .venv/bin/python bench/fuzz_api.py                 # a few minutes on 2 cores
    .venv/bin/python bench/fuzz_api.py --examples 1000
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from bench.saved_results import save_report

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
MODULES = {
    "annotators' API (/api/)": "tests/server/test_fuzz_api.py",
    "Label Studio routes (/labelstudio/)": "tests/server/labelstudio/test_fuzz_routes.py",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="per operation and credentials")
    parser.add_argument("--out", type=Path, default=RESULTS / "fuzz_api")
    args = parser.parse_args()
    runs = {name: run_module(path, args.examples) for name, path in MODULES.items()}
    report = {"machine": describe_machine(), "examples": args.examples, "runs": runs}
    save_report(args.out, report, format_report)


def run_module(path: str, examples: int) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path],
        cwd=REPO, env={**os.environ, "FUZZ_EXAMPLES": str(examples)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|error)", tail)}
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    return {
        "module": path,
        "cases": counts.get("passed", 0) + counts.get("failed", 0),
        "passed": counts.get("passed", 0),
        "failed": counts.get("failed", 0) + counts.get("error", 0),
        "failures": failures,
        "summary": tail,
        "seconds": round(time.perf_counter() - started, 1),
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        "# Fuzzing the served OpenAPI document (long run)",
        "",
        f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['date']}. "
        f"Command: `python bench/fuzz_api.py --examples {report['examples']}`: up to "
        f"{report['examples']} generated requests per operation and credential set (CI sends "
        "25), seeded; checks: no 5xx, status codes, content types, JSON schemas and headers "
        "as documented.",
        "",
        "| routes | operation x credentials | passed | failed | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, run in report["runs"].items():
        lines.append(
            f"| {name} | {run['cases']} | {run['passed']} | {run['failed']} | {run['seconds']} |"
        )
    for name, run in report["runs"].items():
        for failure in run["failures"]:
            lines.append(f"- {name}: {failure}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
