"""The dashboard's map in a real browser: the message before an embedding exists, the map
drawn after, hover, click, and a lasso opened as a grid on the labeling page."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeler.cli import main as labeler_main
from labeler.loop.pool_layout import make_pool_map
from labeler.store.project import open_project
from server.live_server import LiveServer
from tests.server.conftest import TOKENS
from tests.server.model_guesses import add_guessing_round
from tests.server.test_browser import OUTPUT

pytestmark = pytest.mark.slow


def test_without_an_embedding_the_map_says_how_to_make_one(server: LiveServer, browser) -> None:
    page = browser.new_page()
    page.goto(server.url + "login#token=" + TOKENS["boss"])
    page.goto(server.url + "dashboard")
    page.wait_for_function(
        "() => document.getElementById('map-status').textContent.includes('labeler embed')"
    )
    assert page.is_hidden("#map-canvas")


def test_the_map_draws_hovers_opens_and_lassos_into_a_grid(
    server: LiveServer, browser, project: Path
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    guesses = add_guessing_round(project, wrong_share=0.2)
    assert labeler_main(["embed", str(project), "--kind", "pixels"]) == 0
    with open_project(project) as opened:
        make_pool_map(opened, method="pca", progress=False)
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    page.goto(server.url + "login#token=" + TOKENS["boss"])
    page.goto(server.url + "dashboard")
    page.wait_for_selector("#map-canvas:not([hidden])")
    page.wait_for_function(
        "() => document.getElementById('map-status').textContent.includes('pca')"
    )
    canvas = page.locator("#map-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 500
    # Some pixel of the canvas is coloured (points drawn), not all white.
    coloured = page.evaluate(
        "() => { const c = document.getElementById('map-canvas');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] !== 255 || d[i+1] !== 255) n++;"
        " return n; }"
    )
    assert coloured > 40
    # Hover over a point: its thumbnail and facts show.
    # The top left pixel of an unlabeled point (drawn 5 x 5 in its grey, 208 212 219).
    point = page.evaluate(
        "() => { const c = document.getElementById('map-canvas');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " const r = c.getBoundingClientRect(), k = c.width / r.width;"
        " for (let i = 0; i < d.length; i += 4) {"
        "  if (d[i] !== 208 || d[i + 1] !== 212 || d[i + 2] !== 219) continue;"
        "  const p = i / 4, x = p % c.width, y = Math.floor(p / c.width);"
        "  return [r.left + (x + 2.5) / k, r.top + (y + 2.5) / k]; }"
        " return null; }"
    )
    assert point is not None
    page.mouse.move(point[0], point[1])
    page.wait_for_selector("#map-tip:not([hidden]) img")
    assert "sample " in page.text_content("#map-tip")
    page.mouse.click(point[0], point[1])
    page.wait_for_selector("#map-preview:not([hidden]) img")
    page.select_option("#map-colour", "guess")
    page.screenshot(path=str(OUTPUT / "dashboard-map.png"), full_page=True)
    # Lasso the whole square: every point selected; it opens as grids on the labeling page.
    page.click("#map-lasso")
    left, top = box["x"] + 2, box["y"] + 2
    right, bottom = box["x"] + box["width"] - 2, box["y"] + box["height"] - 2
    page.mouse.move(left, top)
    page.mouse.down()
    for x, y in ((right, top), (right, bottom), (left, bottom), (left, top + 1)):
        page.mouse.move(x, y, steps=4)
    page.mouse.up()
    page.wait_for_selector("#map-selection:not([hidden])")
    n_pool = len(guesses)
    assert page.text_content("#map-selected").startswith(f"{n_pool} selected, {n_pool} unlabeled")
    page.click("#map-grid")
    page.wait_for_selector("#grid .tile")
    assert "selected on the map" in page.text_content("#grid-title")
