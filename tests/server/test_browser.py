"""The labeling page in a real browser (Debian's Chromium, driven by Playwright) against a
real server: keyboard labeling, undo, skip, the dashboard, and screenshots."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

from labeler.store.project import open_project
from server.live_server import LiveServer
from tests.server.conftest import TOKENS

pytestmark = pytest.mark.slow

OUTPUT = Path(os.environ.get("LABELER_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))


def shown_sample(page) -> int:
    return int(page.get_attribute("#stage img.sample-image", "data-sample-id"))


def wait_for_other_sample(page, previous: int) -> int:
    page.wait_for_function(
        "prev => { const img = document.querySelector('#stage img.sample-image');"
        " return img && !img.hidden && Number(img.dataset.sampleId) !== prev; }",
        arg=previous,
    )
    return shown_sample(page)


def wait_until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def read_labels(project: Path) -> dict[int, str]:
    with open_project(project) as opened:
        return {e.sample_id: e.label_name for e in opened.store.get_current_label_events()}


def test_label_with_the_keyboard_undo_skip_and_watch_the_dashboard(
    server: LiveServer, browser, project: Path
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(server.url + "login#token=" + TOKENS["ann"])
    page.wait_for_selector("#stage img.sample-image[data-sample-id]")
    assert page.url == server.url  # logged in and redirected; the token left the address
    image_rendering = page.eval_on_selector(
        "#stage img.sample-image", "img => getComputedStyle(img).imageRendering"
    )
    assert image_rendering == "pixelated"
    assert page.is_hidden("#guess")  # the model's guess is off by default

    expected: dict[int, str] = {}
    current = shown_sample(page)
    for index in range(5):
        # Both classes start with "c", so only the digit keys choose between them.
        key, name = ("1", "class_0") if index % 2 == 0 else ("2", "class_1")
        expected[current] = name
        page.keyboard.press(key)
        current = wait_for_other_sample(page, current)
    last_labeled = list(expected)[-1]

    page.keyboard.press("Backspace")  # undo the last label: its image comes back
    page.wait_for_function(
        "id => Number(document.querySelector('#stage img.sample-image').dataset.sampleId) === id",
        arg=last_labeled,
    )
    page.wait_for_selector("#message:has-text('Undid')")
    del expected[last_labeled]
    current = last_labeled

    page.keyboard.press(" ")  # skip it
    skipped = current
    current = wait_for_other_sample(page, current)
    for _ in range(2):
        expected[current] = "class_1"
        page.keyboard.press("2")
        current = wait_for_other_sample(page, current)

    wait_until(lambda: read_labels(project) == expected)
    page.wait_for_selector("#n-session:has-text('6')")
    page.screenshot(path=str(OUTPUT / "labeling-page.png"))
    with open_project(project) as opened:
        skips = [
            (a.annotator, a.sample_id) for a in opened.store.get_activity() if a.kind == "skip"
        ]
    assert skips == [("ann", skipped)]
    assert read_labels(project) == expected  # exactly those labels, nothing more

    page.goto(server.url + "dashboard")
    n_class_1 = sum(1 for name in expected.values() if name == "class_1")
    row = "#classes tbody tr:has-text('class_1') td:nth-child(2)"
    page.wait_for_selector(f"{row}:text-is('{n_class_1}')")
    # Another annotator labels one of ann's class_0 images as class_1 through the API; the
    # dashboard follows, and lists the disputed label with its thumbnail.
    disputed = next(sample for sample, name in expected.items() if name == "class_0")
    body = json.dumps({"sample_id": disputed, "label": "class_1", "request_id": "bob-1"}).encode()
    request = urllib.request.Request(
        server.url + "api/labels",
        data=body,
        headers={"Authorization": f"Bearer {TOKENS['bob']}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    page.wait_for_selector(f"{row}:text-is('{n_class_1 + 1}')", timeout=10_000)
    page.wait_for_selector("#annotators tbody tr:has-text('bob')")
    thumb = f"#suspects tbody tr:has-text('bob: class_1') img.thumb[alt='sample {disputed}']"
    page.wait_for_selector(thumb)
    page.wait_for_function(
        "alt => document.querySelector(`#suspects img.thumb[alt='${alt}']`).naturalWidth > 0",
        arg=f"sample {disputed}",
    )
    assert "1 disputed by annotators" in page.inner_text("#suspect-summary")
    page.wait_for_selector("#annotator-pairs tbody tr:has-text('ann / bob')")
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)


def test_the_page_fits_a_phone(server: LiveServer, browser) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
    page.goto(server.url + "login#token=" + TOKENS["bob"])
    page.wait_for_selector("#stage img.sample-image[data-sample-id]")
    first = shown_sample(page)
    # Buttons are big enough to tap and nothing overflows sideways.
    heights = page.eval_on_selector_all(
        ".buttons button",
        "buttons => buttons.filter(b => !b.hidden).map(b => b.getBoundingClientRect().height)",
    )
    assert heights and min(heights) >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.tap(".class-button[data-label='class_0']")
    assert wait_for_other_sample(page, first) != first
    page.screenshot(path=str(OUTPUT / "labeling-page-phone.png"))


def test_keys_still_work_after_clicking_the_controls(
    server: LiveServer, browser, project: Path
) -> None:
    page = browser.new_page()
    page.goto(server.url + "login#token=" + TOKENS["bob"])
    page.wait_for_selector("#stage img.sample-image[data-sample-id]")
    first = shown_sample(page)
    page.click("#show-guess")  # the checkbox has focus now
    page.keyboard.press("2")
    second = wait_for_other_sample(page, first)
    page.click(".class-button[data-label='class_0']")
    third = wait_for_other_sample(page, second)
    page.keyboard.press(" ")  # one skip, not also a second press of the clicked button
    wait_for_other_sample(page, third)
    wait_until(lambda: read_labels(project) == {first: "class_1", second: "class_0"})
    time.sleep(0.5)  # room for a wrong extra label to arrive
    with open_project(project) as opened:
        activity = [(a.kind, a.sample_id) for a in opened.store.get_activity()]
    assert activity == [("label", first), ("label", second), ("skip", third)]


def test_a_review_shows_blind_with_its_badge(server: LiveServer, browser, project: Path) -> None:
    with open_project(project) as opened:
        sample = opened.store.get_queue()[-1].sample_id
        opened.store.add_labels([(sample, "class_0")], annotator="ann", source="test")
        opened.store.add_reviews([sample], reason="suspect")
    page = browser.new_page()
    page.goto(server.url + "login#token=" + TOKENS["bob"])
    page.wait_for_selector("#stage img.sample-image[data-sample-id]")
    assert shown_sample(page) == sample  # reviews come first
    assert page.is_visible("#review-badge") and page.is_hidden("#guess")
    page.keyboard.press("2")
    wait_for_other_sample(page, sample)
    assert page.is_hidden("#review-badge")
    wait_until(lambda: read_labels(project)[sample] == "class_1")
    with open_project(project) as opened:
        assert opened.store.get_review_answers()[0][1:] == ("bob", "ann", "disputed")
