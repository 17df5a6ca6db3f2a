"""The gallery in a real browser: infinite scroll, lightbox keys, stars, boards, search."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.chromium import ARTIFACTS
from tests.stack import running_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-gallery")
    bench_db = f"sqlite:///{folder / 'bench-gallery.sqlite3'}"  # seed_gallery's name rule
    with running_stack("embedded", folder, database_url=bench_db) as running:
        running.manage("seed_gallery", "--images", "150", "--users", "3")
        yield running


def test_scroll_lightbox_star_board_and_search(page):
    sign_up(page, f"gwen{secrets.token_hex(2)}")
    page.goto("/")
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(48)

    # Scrolling to the end loads the next page in place.
    page.locator("#grid .more").scroll_into_view_if_needed()
    expect(tiles).to_have_count(96)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery-grid.png"))

    # The lightbox opens on a click and follows the arrow keys; Esc closes it.
    links = page.locator("#grid .tile-link")
    first, second = links.nth(0).get_attribute("data-id"), links.nth(1).get_attribute("data-id")
    page.get_by_role("button", name=f"View image {first} larger").click()
    dialog = page.locator("#lightbox")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("data-current", first)
    expect(page.locator("#lightbox-image")).to_have_attribute("src", f"/images/{first}/original")
    page.keyboard.press("ArrowRight")
    expect(dialog).to_have_attribute("data-current", second)
    page.keyboard.press("ArrowLeft")
    expect(dialog).to_have_attribute("data-current", first)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A star sticks, and the Starred filter finds it.
    star = page.get_by_role("button", name=f"Star image {first}")
    star.click()
    expect(page.get_by_role("button", name=f"Star image {first}")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.goto("/?starred=1")
    expect(page.locator("#grid .tile")).to_have_count(1)

    # A board, filled from the lightbox, browsable on its own.
    page.goto("/boards/")
    page.get_by_label("New board").fill("Keepers")
    page.get_by_role("button", name="Create board").click()
    expect(page.get_by_role("heading", name="Board: Keepers")).to_be_visible()
    board_url = page.url
    page.goto("/")
    page.locator("#grid .tile-zoom").nth(2).click()
    page.get_by_role("button", name="Add to board").click()
    expect(page.locator("#lightbox-board-status")).to_have_text("Added to Keepers.")
    page.screenshot(path=str(ARTIFACTS / "gallery-lightbox.png"))
    page.goto(board_url)
    expect(page.locator("#grid .tile")).to_have_count(1)

    # Search from the box narrows the grid to matching prompts without a reload.
    page.goto("/")
    page.get_by_label("Search").fill("fox")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_text("Results for “fox”")).to_be_visible()
    prompts = page.locator("#grid .tile-link").evaluate_all(
        "links => links.map(l => l.dataset.prompt.toLowerCase())"
    )
    assert prompts and all(re.search(r"\bfox\b", p) for p in prompts)
