"""The engine as a person sees it, in headless Chromium: a job waiting behind the global limit
shows its place in line, and a job's page lists every attempt."""

import os
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
    with running_stack(
        "embedded",
        tmp_path_factory.mktemp("browser-engine"),
        standin_latency=2.0,
        extra_env={"STUDIO_MAX_CONCURRENT_CALLS": "1"},
    ) as running:
        yield running


def submit(page, prompt: str) -> str:
    page.goto("/create/")
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_role("button", name="Generate").click()
    link = page.locator("article.job-card header a").first
    expect(link).to_be_visible()
    return link.get_attribute("href")


def test_a_waiting_job_shows_its_place_and_every_attempt_is_listed(page):
    sign_up(page, f"fern{secrets.token_hex(2)}")
    urls = [submit(page, f"harbour at dawn {i} [fault:503]") for i in range(3)]

    page.goto(urls[2])
    expect(page.locator(".queue-position")).to_have_text(re.compile(r"Next in line|Number \d+"))
    if os.environ.get("STUDIO_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "engine-queued.png"), full_page=True)

    page.goto(urls[0])
    expect(page.locator('[data-status="failed"]')).to_be_visible(timeout=90_000)
    page.reload()
    rows = page.locator("table.attempts tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("table.attempts")).to_contain_text("Failed, will retry")
    expect(page.get_by_role("alert")).to_contain_text("Gave up after 4 attempts")
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=str(ARTIFACTS / "engine-attempts.png"), full_page=True)
