"""Journeys in a real browser: headless Chromium against the real studio."""

import re
import secrets

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def sign_up(page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Prompt")).to_be_visible()


def test_sign_up_generate_and_find_it_in_the_gallery(page):
    sign_up(page, f"erin{secrets.token_hex(2)}")
    word = f"heron{secrets.token_hex(3)}"
    page.get_by_label("Prompt").fill(f"a grey {word} standing in reeds")
    page.get_by_label("Quality").select_option("low")
    expect(page.locator("#estimate")).to_contain_text("Estimated $0.01")
    page.get_by_role("button", name="Generate").click()

    card = page.locator(".job-card").first
    expect(card.locator(".status")).to_have_text(re.compile("Queued|Running|Done"))
    expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
    expect(card.locator(".thumbs img")).to_have_count(1)
    assert page.url.endswith("/create/")  # the card updated in place, no reload

    page.get_by_role("link", name="Gallery").click()
    page.get_by_label("Search").fill(word)
    page.get_by_label("Search").press("Enter")
    tile = page.locator(".grid .tile")
    expect(tile).to_have_count(1)
    tile.first.click()
    expect(page.get_by_text(f"a grey {word} standing in reeds")).to_be_visible()
    expect(page.get_by_role("link", name="Download original")).to_be_visible()


def test_bad_input_shows_a_message_on_the_form(page):
    sign_up(page, f"finn{secrets.token_hex(2)}")
    images = page.get_by_label("Images")
    images.fill("11")
    page.get_by_label("Prompt").fill("a boat")
    page.get_by_role("button", name="Generate").click()
    # The browser's own check stops it first, with its message on the field...
    assert "10" in images.evaluate("el => el.validationMessage")
    images.fill("2")
    # ...and what only the server can judge comes back on the form, nothing queued.
    page.get_by_label("Prompt").fill("   ")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Write a prompt: what should the image show?")).to_be_visible()
    expect(page.get_by_label("Images")).to_have_value("2")  # form state kept
    expect(page.locator(".job-card")).to_have_count(0)
