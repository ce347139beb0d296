"""Page speed of the labeling page: time from a keypress to the next image painted, in
Debian's Chromium (headless, driven by Playwright) against the real server.

The page records, for each label key, the time from the key event to the frame that shows
the next image (``window.labelerTimings``: an animation frame, then a message posted from
it, which runs once that frame is painted). Keys come ``--gap`` ms apart, as a fast annotator
presses them. Results go to ``bench/results/page_speed.json`` and ``.md``.

    python bench/page_speed.py
    python bench/page_speed.py --n-labels 30   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import describe_machine

from labeler.cli import main as labeler_main
from labeler.store.project import open_project
from labeler.store.tokens import hash_token
from server.live_server import CHROMIUM_ARGS, CHROMIUM_PATH, start_server

RESULTS = Path(__file__).parent / "results"
TOKEN = "page-speed-" + "p" * 32


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-labels", type=int, default=200)
    parser.add_argument("--gap", type=float, default=250.0, help="ms between keypresses")
    parser.add_argument("--image-size", type=int, default=64, help="side of the images, px")
    parser.add_argument("--out", type=Path, default=RESULTS / "page_speed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="page-speed-") as temp:
        data, project = Path(temp) / "data", Path(temp) / "project"
        n_pool = max(400, 2 * args.n_labels)
        assert labeler_main(["generate", "orientation", "--problem", "hv", "--n-train",
                             str(n_pool), "--n-test", "100", "--out", str(data)]) == 0  # fmt: skip
        assert labeler_main(["init", str(project), "--images", str(data), "--image-size",
                             str(args.image_size)]) == 0  # fmt: skip
        assert labeler_main(["round", str(project), "--initial", str(n_pool)]) == 0
        with open_project(project) as opened:
            opened.store.add_annotator("speed", token_hash=hash_token(TOKEN))
        server = start_server(project)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM_PATH), args=list(CHROMIUM_ARGS)
                )
                page = browser.new_page(viewport={"width": 1000, "height": 900})
                page.goto(server.url + "login#token=" + TOKEN)
                page.wait_for_selector("#stage img.sample-image[data-sample-id]")
                time.sleep(1.0)  # let the first images load, as a person would look first
                for index in range(args.n_labels):
                    page.keyboard.press("1" if index % 2 == 0 else "2")
                    page.wait_for_timeout(args.gap)
                page.wait_for_function(f"window.labelerTimings.length >= {args.n_labels}")
                timings = page.evaluate("window.labelerTimings.map(t => t.ms)")
                browser.close()
        finally:
            server.stop()
        with open_project(project) as opened:
            n_stored = len(opened.store.get_label_events())
    timings = sorted(timings)
    result = {
        "machine": describe_machine(),
        "config": {"n_labels": args.n_labels, "gap_ms": args.gap, "image_size": args.image_size},
        "n_timings": len(timings),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(statistics.quantiles(timings, n=20, method="inclusive")[18], 2),
        "max_ms": round(timings[-1], 2),
        "labels_stored": n_stored,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    report = (
        "# Labeling page: keypress to next image painted\n\n"
        f"Debian Chromium (headless) via Playwright, against `labeler serve` on loopback; "
        f"{result['machine']['cpu_count']} cores, {result['machine']['date']}. "
        f"`python bench/page_speed.py` ({args.n_labels} labels, a key every {args.gap:.0f} ms, "
        f"{args.image_size} px images).\n\n"
        f"| labels | median ms | p95 ms | max ms | labels stored |\n|---|---|---|---|---|\n"
        f"| {len(timings)} | {result['median_ms']} | {result['p95_ms']} | {result['max_ms']} | "
        f"{n_stored} |\n"
    )
    args.out.with_suffix(".md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
