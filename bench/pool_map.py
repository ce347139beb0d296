"""The dashboard's map at scale: the time to lay out 10,000 and 100,000 images on two cores,
and the frame time while panning 100,000 points in Debian's Chromium (headless, Playwright).

Data: generated orientation images (``labeler generate orientation``, 48 px), a project of them
(``labeler init``) and its ``pixels`` embedding (PCA, 64 components). Layouts: UMAP (the
default, two threads) and PCA, on the first 10,000 pool images and on all 100,000; UMAP's
numba compilation is paid once before timing (a first map in a fresh process pays it too,
about 15 s, reported apart).

Panning: the real server serves the dashboard with the 100,000-point UMAP map; a script in the
page drags the map by 3 px on every animation frame for ``--frames`` frames (pointer events
on the canvas, as a mouse drag sends them). Measured: the interval between frames (the frame
rate the user sees) and the script's own drawing time per frame.

Target (issue 22): 30 frames per second or better while panning 100,000 points.

    .venv/bin/python bench/pool_map.py        # about 10 minutes on 2 cores
    .venv/bin/python bench/pool_map.py --n-images 20000 --frames 60   # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as is

from bench.machine import describe_machine
from bench.saved_results import save_report
from labeler.cli import main as labeler_main
from labeler.learning.embeddings import get_embedding
from labeler.learning.pool_map import compute_layout
from labeler.store.project import open_project
from labeler.store.project_files import PoolMap, write_pool_map
from labeler.store.tokens import hash_token
from server.live_server import CHROMIUM_ARGS, CHROMIUM_PATH, start_server

RESULTS = Path(__file__).resolve().parent / "results"
TOKEN = "map-bench-" + "m" * 32
# Drags the map 3 px right on each animation frame, then resolves with the frame times.
PAN_SCRIPT = """frames => new Promise(resolve => {
  const canvas = document.getElementById('map-canvas');
  const box = canvas.getBoundingClientRect();
  let x = box.left + box.width / 3, y = box.top + box.height / 2;
  const send = (type) => canvas.dispatchEvent(new PointerEvent(type,
    {clientX: x, clientY: y, pointerId: 1, bubbles: true, isPrimary: true}));
  window.labelerMapFrames = [];
  send('pointerdown');
  const stamps = [];
  function step(now) {
    stamps.push(now);
    if (stamps.length > frames) { send('pointerup'); resolve(stamps); return; }
    x += 3;
    send('pointermove');
    requestAnimationFrame(step);
  }
  requestAnimationFrame(step);
})"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-images", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--out", type=Path, default=RESULTS / "pool_map")
    args = parser.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="map-bench-") as temp:
        work = Path(temp)
        project = make_project(work, args.n_images)
        with open_project(project) as opened:
            vectors = get_embedding(opened, "pixels", progress=False, n_threads=2).vectors
            ids = opened.store.get_sample_ids("pool")
            opened.store.add_annotator("bench", token_hash=hash_token(TOKEN), is_admin=True)
        pool = vectors[ids]
        layouts = time_layouts(pool, args.n_images)
        final = compute_layout(pool, "umap", n_threads=2)
        info = {"embedding": "pixels", "method": "umap", "n": len(ids), "seed": 0,
                "seconds": round(final.seconds, 3), "created_at": time.time()}  # fmt: skip
        write_pool_map(project, PoolMap(ids, final.xy, info))
        panning = measure_panning(project, args.frames)
    report = {
        "machine": describe_machine(),
        "config": {"n_images": args.n_images, "frames": args.frames},
        "layouts": layouts,
        "panning": panning,
        "minutes": round((time.time() - started) / 60, 1),
    }
    save_report(args.out, report, format_report)
    return 0


def make_project(work: Path, n_images: int) -> Path:
    data, project = work / "data", work / "project"
    steps = [
        ["generate", "orientation", "--problem", "hv", "--n-train", str(n_images), "--n-test",
         "600", "--image-size", "48", "--workers", "2", "--out", str(data)],
        ["init", str(project), "--images", str(data), "--image-size", "48"],
    ]  # fmt: skip
    for step in steps:
        if labeler_main(step) != 0:
            raise SystemExit(f"labeler {' '.join(step)} failed")
    return project


def time_layouts(pool: np.ndarray, n_images: int) -> list[dict]:
    rows = []
    warm = time.perf_counter()
    compute_layout(pool[:5000], "umap", n_threads=2)  # numba compiles here
    rows.append({"method": "umap (first call: compiling)", "n": 5000,
                 "seconds": round(time.perf_counter() - warm, 1)})  # fmt: skip
    for n in sorted({min(10_000, n_images), n_images}):
        for method in ("umap", "pca"):
            layout = compute_layout(pool[:n], method, n_threads=2)
            rows.append({"method": method, "n": n, "seconds": round(layout.seconds, 1)})
            print(f"{method} on {n}: {layout.seconds:.1f} s")
    return rows


def measure_panning(project: Path, frames: int) -> dict:
    from playwright.sync_api import sync_playwright

    server = start_server(project)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM_PATH), args=list(CHROMIUM_ARGS)
            )
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(server.url + "login#token=" + TOKEN)
            loaded = time.perf_counter()
            page.goto(server.url + "dashboard")
            page.wait_for_function(
                "() => document.getElementById('map-status').textContent.includes('umap')",
                timeout=120_000,
            )
            load_seconds = time.perf_counter() - loaded
            page.locator("#map-canvas").scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            stamps = page.evaluate(PAN_SCRIPT, frames)
            draws = page.evaluate("window.labelerMapFrames.map(f => f.draw)")
            size = page.evaluate(
                "() => [document.getElementById('map-canvas').width,"
                " document.getElementById('map-canvas').height]"
            )
            browser.close()
    finally:
        server.stop()
    intervals = np.diff(np.array(stamps[1:]))  # the first frame only starts the drag
    return {
        "canvas_px": size,
        "dashboard_to_map_seconds": round(load_seconds, 2),
        "frames": len(intervals),
        "median_frame_ms": round(float(np.median(intervals)), 2),
        "p95_frame_ms": round(float(np.percentile(intervals, 95)), 2),
        "fps": round(1000.0 / float(np.mean(intervals)), 1),
        "median_draw_ms": round(statistics.median(draws), 2) if draws else None,
        "n_draws": len(draws),
    }


def format_report(report: dict) -> str:
    pan = report["panning"]
    config = report["config"]
    lines = [
        "# The map of the pool at scale",
        "",
        f"Written by `bench/pool_map.py` (its docstring says how). Orientation images at 48 px, "
        f"pixels embedding (PCA, 64 components), two threads. Machine: {report['machine']}. "
        f"Total {report['minutes']} min.",
        "",
        "## Layout time",
        "",
        "| method | images | seconds |",
        "|---|---:|---:|",
        *[f"| {row['method']} | {row['n']} | {row['seconds']} |" for row in report["layouts"]],
        "",
        f"## Panning {config['n_images']} points in headless Chromium",
        "",
        f"Canvas {pan['canvas_px'][0]} x {pan['canvas_px'][1]} px; the dashboard showed the map "
        f"{pan['dashboard_to_map_seconds']} s after it was opened (fetching and parsing the "
        "points included).",
        "",
        "| frames | median frame (ms) | p95 frame (ms) | frames per second | median drawing "
        "(ms) | target (30 fps) met |",
        "|---:|---:|---:|---:|---:|:---:|",
        f"| {pan['frames']} | {pan['median_frame_ms']} | {pan['p95_frame_ms']} | {pan['fps']} | "
        f"{pan['median_draw_ms']} | {'yes' if pan['fps'] >= 30 else 'no'} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
