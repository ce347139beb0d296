"""Grid labeling in a real browser against a real server: keys, clicks, the blind slice and
the marked images one at a time, undo of a whole grid, two annotators, a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeler.store.project import open_project
from server.live_server import LiveServer
from tests.server.conftest import TOKENS
from tests.server.model_guesses import add_guessing_round
from tests.server.test_browser import OUTPUT, shown_sample, wait_for_other_sample, wait_until

pytestmark = pytest.mark.slow

TILES = "#grid .tile"


@pytest.fixture
def guesses(project: Path) -> dict[int, int]:
    return add_guessing_round(project, wrong_share=0.2)


def open_grid(browser, server: LiveServer, name: str, **page_options):
    page = browser.new_page(**page_options)
    page.goto(server.url + "login#token=" + TOKENS[name])
    page.wait_for_selector("#grid-button:not([hidden])")
    page.keyboard.press("g")
    page.wait_for_selector(TILES)
    return page


def tile_ids(page) -> list[int]:
    return [
        int(v) for v in page.eval_on_selector_all(TILES, "ts => ts.map(t => t.dataset.sampleId)")
    ]


def read_events(project: Path) -> dict[int, tuple[str, str]]:
    with open_project(project) as opened:
        return {
            e.sample_id: (e.label_name, e.source) for e in opened.store.get_current_label_events()
        }


def test_a_grid_by_clicks_and_keys_then_the_marked_and_blind_images_one_at_a_time(
    server: LiveServer,
    browser,
    project: Path,
    guesses: dict[int, int],
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = open_grid(browser, server, "ann", viewport={"width": 1000, "height": 900})
    title = page.text_content("#grid-title")
    label = title.split("Model says ")[1].split(":")[0]
    shown = tile_ids(page)
    assert len(shown) >= 4 and all(f"class_{guesses[s]}" == label for s in shown)
    # Mark the first tile by a click, the third by the arrow keys and Space.
    page.click(f"{TILES} >> nth=0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    assert page.eval_on_selector_all(f"{TILES}.marked", "ts => ts.length") == 2
    page.screenshot(path=str(OUTPUT / "grid-page.png"))
    page.keyboard.press("Enter")
    # Next: the blind slice, without the model's guess, then the two marked images.
    page.wait_for_selector("#stage img.sample-image[data-sample-id]:not([hidden])")
    other = "class_1" if label == "class_0" else "class_0"
    singles = []
    for _ in range(3):
        sample = shown_sample(page)
        singles.append(sample)
        assert page.is_hidden("#guess") and page.is_hidden("#grid-box")
        page.keyboard.press("2" if other == "class_1" else "1")
        if len(singles) < 3:
            wait_for_other_sample(page, sample)
    assert singles[1:] == [shown[0], shown[2]]
    page.wait_for_selector(TILES)  # then the next grid
    expected = {s: (label, "grid") for s in shown if s not in (shown[0], shown[2])}
    expected |= {shown[0]: (other, "web"), shown[2]: (other, "web"), singles[0]: (other, "blind")}
    wait_until(lambda: read_events(project) == expected)


def test_undo_takes_back_the_whole_grid_and_shows_it_again(
    server: LiveServer,
    browser,
    project: Path,
    guesses: dict[int, int],
) -> None:
    with open_project(project) as opened:
        opened.store.set_grid_settings(blind_share=0.0)
    page = open_grid(browser, server, "ann")
    first = tile_ids(page)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "first => document.querySelector('#grid .tile') && "
        "Number(document.querySelector('#grid .tile').dataset.sampleId) !== first",
        arg=first[0],
    )
    wait_until(lambda: set(read_events(project)) == set(first))
    page.keyboard.press("Backspace")
    wait_until(lambda: read_events(project) == {})
    page.wait_for_function(
        "first => Number(document.querySelector('#grid .tile').dataset.sampleId) === first",
        arg=first[0],
    )
    assert tile_ids(page) == first


def test_two_annotators_in_grid_mode_never_get_the_same_image(
    server: LiveServer,
    browser,
    guesses: dict[int, int],
) -> None:
    ann = open_grid(browser, server, "ann", viewport={"width": 700, "height": 700})
    bob = open_grid(browser, server, "bob", viewport={"width": 700, "height": 700})
    assert tile_ids(ann) and tile_ids(bob)
    assert not set(tile_ids(ann)) & set(tile_ids(bob))


def test_the_grid_fits_a_phone(
    server: LiveServer,
    browser,
    guesses: dict[int, int],
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = open_grid(browser, server, "bob", viewport={"width": 390, "height": 844}, has_touch=True)
    columns = page.eval_on_selector(
        "#grid", "g => getComputedStyle(g).gridTemplateColumns.split(' ').length"
    )
    assert columns == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    first = tile_ids(page)[0]
    page.tap(f"{TILES} >> nth=0")
    assert page.eval_on_selector(f"{TILES} >> nth=0", "t => t.classList.contains('marked')")
    page.screenshot(path=str(OUTPUT / "grid-page-phone.png"))
    assert tile_ids(page)[0] == first
