"""Content Credentials in a real browser: the panel of a generated image, the Verify page."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.helpers import C2PA_FIXTURES

pytestmark = pytest.mark.browser

CAPE_BEAR = C2PA_FIXTURES / "tebs-lab_openai-dalle3-chatgpt_cape-bear.webp"


def test_generated_image_shows_its_credentials_panel(page):
    sign_up(page, f"gwen{secrets.token_hex(2)}")
    page.get_by_label("Prompt").fill("a paper boat on a pond")
    page.get_by_label("Quality").select_option("low")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".job-card .status").first).to_have_text("Done", timeout=30_000)

    page.get_by_role("link", name="Gallery").click()
    tile = page.locator(".grid .tile").first
    expect(tile.locator(".cc-badge")).to_have_attribute("data-state", "valid")
    expect(tile.locator(".cc-ai")).to_have_text("AI")
    tile.click()

    panel = page.locator("#content-credentials")
    expect(panel.locator(".cc-state")).to_have_text("Valid signature, signer not on the trust list")
    expect(panel.locator(".cc-ai-label")).to_have_text("AI-generated")
    expect(panel).to_contain_text("Studio development (TEST)")  # the signer's organisation
    actions = panel.locator(".cc-actions")
    expect(actions).to_contain_text("Created")
    expect(actions).to_contain_text("gpt-image-2.6-sunburst")  # the default: the newest model
    expect(actions).to_contain_text("generative AI")
    expect(panel.locator(".cc-flag")).to_have_count(0)  # the job's model is the agent

    expect(panel.locator(".cc-json")).to_have_count(0)
    panel.get_by_text("Raw manifest JSON").click()
    expect(panel.locator(".cc-json")).to_contain_text('"active_manifest"')


def test_verify_an_upload_then_add_it_to_the_gallery(page):
    sign_up(page, f"hugo{secrets.token_hex(2)}")
    page.get_by_role("link", name="Verify").click()
    page.get_by_label("Image file").set_input_files(str(CAPE_BEAR))  # checked when picked
    expect(page.locator("#verdict")).to_contain_text("Made by OpenAI's image model")
    page.get_by_text("Technical details").click()

    panel = page.locator("#content-credentials")
    expect(panel.locator(".cc-state")).to_have_text(re.compile("^Valid signature"))
    expect(panel).to_contain_text("Truepic Lens CLI in ChatGPT")
    expect(panel).to_contain_text("DALL·E")
    panel.get_by_text("Raw manifest JSON").click()
    expect(panel.locator(".cc-json")).to_be_visible()

    page.get_by_role("button", name="Add to gallery").click()
    expect(page).to_have_url(re.compile(r"/images/\d+/$"))
    expect(page.locator("#content-credentials .cc-ai-label")).to_have_text("AI-generated")
