"""Headless Chromium (Debian's) driven by Playwright, for the browser journeys."""

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def launch(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


def screenshot_on_failure(page, request) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


@contextmanager
def browser_page(base_url: str, request, *, width: int = 1280, height: int = 900, **options):
    """A fresh Chromium page on `base_url` (`options`: more browser context options, such as
    has_touch=True); a failed test leaves its screenshot behind."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(
            base_url=base_url, viewport={"width": width, "height": height}, **options
        )
        page = context.new_page()
        try:
            yield page
        finally:
            screenshot_on_failure(page, request)
            browser.close()
