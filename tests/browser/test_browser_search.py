"""Similar prompts and similar images in a real browser, on images the real worker made and
described (prompt vectors and perceptual hashes): the search toggle, and the image page's
Similar images section."""

import re
import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.chromium import ARTIFACTS

pytestmark = pytest.mark.browser

KITTEN = "kitten sleeping on a couch"
CAR = "a red sports car racing on a highway"


def _described(page, url: str, count: int, timeout: float = 60) -> None:
    """Reload `url` until it shows `count` tiles: the worker describes images after they land."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator("#grid .tile").count() >= count or time.monotonic() > deadline:
            return
        page.wait_for_timeout(500)


def test_similar_prompts_toggle_and_similar_images(page, stack):
    name = f"sam{secrets.token_hex(2)}"
    sign_up(page, name)
    for _ in range(2):  # the stand-in draws the same picture for the same prompt and index
        stack.manage("generate", KITTEN, "--user", name, "--quality", "low", "--wait")
    stack.manage("generate", CAR, "--user", name, "--quality", "low", "--wait")
    _described(page, "/?q=a+cat+on+a+sofa&similar=1&who=mine", 2)

    # Plain search needs every word; the toggle finds the kittens by meaning.
    page.goto("/?who=mine")
    page.get_by_label("Search", exact=True).fill("a cat on a sofa")
    expect(page.get_by_text("No images match")).to_be_visible()
    page.get_by_label("Similar prompts").check()
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(2)
    expect(page).to_have_url(re.compile(r"similar=1"))
    for i in range(2):
        expect(tiles.nth(i)).to_contain_text(KITTEN)
    _shots(page, "gallery-similar-prompts")

    page.get_by_label("Similar prompts").uncheck()
    expect(page.get_by_text("No images match")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"similar="))

    # The image page lists the other kitten: the same picture.
    page.get_by_label("Similar prompts").check()
    expect(tiles).to_have_count(2)
    first = tiles.nth(0).locator(".tile-link").get_attribute("data-id")
    second = tiles.nth(1).locator(".tile-link").get_attribute("data-id")
    page.goto(f"/images/{first}/")
    section = page.get_by_role("region", name="Similar images")
    expect(section).to_be_visible()
    expect(section.locator(f'a[href="/images/{second}/"]')).to_be_visible()
    expect(section.locator(f'a[href="/images/{first}/"]')).to_have_count(0)
    _shots(page, "image-similar-images", element=section)
    section.get_by_role("link", name="Images with similar prompts").click()
    expect(page.locator("#grid .tile")).to_have_count(2)


def _shots(page, name: str, element=None) -> None:
    """Screenshots at 1280 and 390 px wide, light and dark."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 390):
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{scheme}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")
