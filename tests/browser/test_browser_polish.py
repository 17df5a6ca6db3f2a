"""Polish in a real browser: the header's menu on a phone, and the lightbox's star, download,
copy prompt and swipe, each by mouse, keyboard or touch. Headless Chromium against the shared
session stack (stand-in API, Celery worker, gunicorn)."""

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.browser.test_browser_live import generate
from tests.chromium import browser_page

pytestmark = pytest.mark.browser


def nav_link(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def test_the_header_collapses_into_a_menu_on_a_phone(page):
    sign_up(page, f"rui{secrets.token_hex(2)}")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/queue/")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav_link(page, "Spending")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav_link(page, "Spending")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.keyboard.press("Escape")
    expect(nav_link(page, "Spending")).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    nav_link(page, "Spending").click()
    expect(page).to_have_url(re.compile(r"/spending/$"))
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")

    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(nav_link(page, "Queue")).to_be_visible()


@pytest.fixture
def touch_page(stack, request):
    """A phone-sized page with a touch screen (the session page fixture has none)."""
    with browser_page(stack.url, request, width=390, height=844, has_touch=True) as page:
        yield page


def three_images(page, prompt: str) -> None:
    page.get_by_label("Images").fill("3")
    generate(page, prompt)
    card = page.locator(".job-card").first
    expect(card.locator(".thumbs img")).to_have_count(3, timeout=30_000)


def tile_ids(page) -> list[str]:
    return page.locator("#grid .tile-link").evaluate_all("links => links.map(l => l.dataset.id)")


def test_lightbox_star_download_and_copy_prompt_by_keyboard(page, tmp_path):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, f"sol{secrets.token_hex(2)}")
    prompt = f"a brass telescope {secrets.token_hex(2)}"
    three_images(page, prompt)
    page.goto(f"/?q={prompt.split()[-1]}")
    ids = tile_ids(page)
    assert len(ids) == 3

    page.get_by_role("button", name=f"View image {ids[0]} larger").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Image viewer")
    expect(dialog).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(dialog).to_have_attribute("data-current", ids[1])

    star = dialog.get_by_role("button", name="Star", exact=True)
    expect(star).to_have_attribute("aria-pressed", "false")
    star.focus()
    page.keyboard.press("Enter")
    expect(star).to_have_attribute("aria-pressed", "true")
    tile_star = page.locator(f'.tile:has(.tile-link[data-id="{ids[1]}"]) .star')
    expect(tile_star).to_have_attribute("aria-pressed", "true")

    copy = dialog.get_by_role("button", name="Copy prompt")
    copy.focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == prompt

    download_link = dialog.get_by_role("link", name="Download")
    download_link.focus()
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == f"{prompt.replace(' ', '-')}-{ids[1]}.png"
    saved = tmp_path / "download.png"
    download.save_as(saved)
    original = page.request.get(f"/images/{ids[1]}/original")
    assert Path(saved).read_bytes() == original.body()  # the original, byte for byte

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.locator(f'.tile:has(.tile-link[data-id="{ids[1]}"]) .star')).to_have_attribute(
        "aria-pressed", "true"
    )


def swipe(page, dx: int) -> None:
    """A real touch gesture (Chromium's input pipeline, through the DevTools protocol)."""
    box = page.locator("#lightbox-image").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in (1, 2, 3):
        point = {"x": x + dx * step / 3, "y": y + 4 * step}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_swipe_steps_through_the_lightbox_on_a_touch_screen(touch_page):
    page = touch_page
    sign_up(page, f"tao{secrets.token_hex(2)}")
    word = f"lantern{secrets.token_hex(2)}"
    three_images(page, f"a paper {word}")
    page.goto(f"/?q={word}")
    ids = tile_ids(page)
    page.get_by_role("button", name=f"View image {ids[0]} larger").tap()
    dialog = page.get_by_role("dialog", name="Image viewer")
    expect(dialog).to_have_attribute("data-current", ids[0])
    expect(page.locator("#lightbox-image")).to_be_visible()
    swipe(page, -160)  # leftwards: the next image
    expect(dialog).to_have_attribute("data-current", ids[1])
    swipe(page, -160)
    expect(dialog).to_have_attribute("data-current", ids[2])
    swipe(page, 160)  # rightwards: back
    expect(dialog).to_have_attribute("data-current", ids[1])
    swipe(page, 30)  # too short to be a swipe
    expect(dialog).to_have_attribute("data-current", ids[1])
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
