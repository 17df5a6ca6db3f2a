"""Private images in a real browser: the default on the settings page, the choice on the
create form, sharing from the image page with htmx, and another person's view."""

import os
import re
import secrets

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.chromium import launch, screenshot_on_failure

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(stack, request):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def person(browser, stack, request, name: str):
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    request.addfinalizer(lambda: screenshot_on_failure(page, request))
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Prompt")).to_be_visible()
    return page


def look(page, name: str) -> None:
    """Screenshots for people reviewing the pages: SCREENSHOT_DIR=... pytest ..."""
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], f"{name}.png"))


def test_private_by_default_then_shared_from_the_image_page(browser, stack, request):
    tag = secrets.token_hex(3)
    alice = person(browser, stack, request, f"alice{tag}")
    alice.get_by_role("link", name=f"alice{tag}").click()
    alice.get_by_label("Private: only me and staff").check()
    alice.get_by_role("button", name="Save").click()
    expect(alice.locator(".notice")).to_contain_text("Saved")
    look(alice, "settings")

    alice.get_by_role("link", name="Create").click()
    expect(alice.get_by_label("Who sees it")).to_have_value("private")
    word = f"owl{tag}"
    alice.get_by_label("Prompt").fill(f"a secret {word}")
    alice.get_by_label("Quality").select_option("low")
    alice.get_by_role("button", name="Generate").click()
    card = alice.locator(".job-card").first
    expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
    look(alice, "create")
    card.locator(".thumbs a").first.click()
    expect(alice.locator(".visibility-state")).to_have_text("Private")
    look(alice, "image-private")
    image_url = alice.url

    bob = person(browser, stack, request, f"bob{tag}")
    assert bob.goto(image_url).status == 404
    bob.goto(f"/?q={word}")
    expect(bob.locator(".grid .tile")).to_have_count(0)

    alice.get_by_role("button", name="Share with everyone").click()
    expect(alice.locator(".visibility-state")).to_have_text("Shared")
    expect(alice.get_by_role("button", name="Make private")).to_be_visible()
    look(alice, "image-shared")

    assert bob.goto(image_url).status == 200
    expect(bob.get_by_text(re.compile(f"a secret {word}")).first).to_be_visible()
    expect(bob.get_by_role("button", name="Make private")).to_have_count(0)
    look(bob, "image-as-bob")
